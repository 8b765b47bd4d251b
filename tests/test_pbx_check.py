"""scripts/pbx-check against the fake PBX: what an owner of a real PBX would read."""

from importlib.util import module_from_spec, spec_from_file_location
import io
from pathlib import Path
import threading
from types import ModuleType

import pytest

from .fake_pbx import FakePbx

SCRIPT = Path(__file__).parent.parent / "scripts" / "pbx_check.py"

# The fake PBX and the client talk over real sockets on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture(scope="module")
def pbx_check() -> ModuleType:
    """Load scripts/pbx_check.py, which is a script and not a package module."""
    spec = spec_from_file_location("pbx_check", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def run(
    pbx_check: ModuleType, url: str, token: str, timeout: float = 2
) -> tuple[int, str]:
    """Run the check; return its exit status and what it printed."""
    out = io.StringIO()
    status = await pbx_check.check(
        url, token, verify_ssl=True, timeout=timeout, out=out
    )
    return status, out.getvalue()


async def test_everything_as_expected(pbx_check: ModuleType) -> None:
    """A PBX that answers every route as documented passes, with what it found."""
    async with FakePbx() as pbx:
        pbx.switches[1].state = 1
        status, output = await run(pbx_check, pbx.url, pbx.token)
        assert [request[0] for request in pbx.requests] == ["GET"] * 8
    assert status == 0, output
    assert "the token acts as 201 Alice Martin" in output
    assert "4 users (4 named), total 4" in output
    assert "4 users listed, 3 with a phone registered" in output
    assert "NightService (id 1) state 1" in output
    assert "OfficeMode (id 2) state 0 (tree)" in output
    assert "201 is available" in output
    assert "0 calls in progress for 201" in output
    assert "0 routes failed, 0 shape differences." in output
    assert pbx.token not in output


async def test_missing_refused_and_different(pbx_check: ModuleType) -> None:
    """Missing routes are features off; refusals and other shapes fail the check."""
    async with FakePbx() as pbx:
        pbx.missing.add("/api/v2")
        pbx.failing["/api/v1/Dialplan/Switches"] = 403
        pbx.failing["/api/v1/PBX/ping"] = 503
        pbx.raw["/api/v1/PBX/version"] = (200, b'{"result": "7.1"}', "application/json")
        pbx.users["201"].presence, pbx.users["201"].message = "away", "Lunch"
        status, output = await run(pbx_check, pbx.url, pbx.token)
    assert status == 1
    assert "missing    GET /api/v2/call-control/list-calls/?user=201" in output
    assert "404 Not Found: off here: v2 call control" in output
    assert "refused    GET /api/v1/Dialplan/Switches" in output
    assert "FAILED     GET /api/v1/PBX/ping" in output
    assert "201 is away: Lunch" in output
    assert "/api/v1/PBX/version: envelope without `type`" in output
    assert "2 routes failed, 1 shape differences." in output


async def test_wrong_token(pbx_check: ModuleType) -> None:
    """A token the PBX refuses stops the check at once."""
    async with FakePbx() as pbx:
        status, output = await run(pbx_check, pbx.url, "access_wrong")
        assert len(pbx.requests) == 1
    assert status == 1
    assert "PbxAuthError: HTTP 401: Unauthorized" in output
    assert "could not use this address and token" in output


def test_main(pbx_check: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line takes the token from the environment and refuses bad URLs."""
    monkeypatch.setenv(pbx_check.TOKEN_VARIABLE, "wsk-v1-nothere")
    out = io.StringIO()
    statuses: list[int] = []
    # main() runs its own event loop: in a thread of its own, as from a shell.
    thread = threading.Thread(
        target=lambda: statuses.append(
            pbx_check.main(["http://127.0.0.1:9", "--timeout", "1"], out)
        )
    )
    thread.start()
    thread.join()
    assert statuses == [1]
    assert "PbxConnectionError" in out.getvalue()
    with pytest.raises(SystemExit) as exited:
        pbx_check.main(["ftp://pbx", "token"])
    assert exited.value.code == 2
    monkeypatch.delenv(pbx_check.TOKEN_VARIABLE)
    with pytest.raises(SystemExit) as exited:
        pbx_check.main(["https://pbx"])
    assert exited.value.code == 2
