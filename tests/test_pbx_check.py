"""scripts/pbx-check against the fake PBX: what an owner of a real PBX would read."""

from importlib.util import module_from_spec, spec_from_file_location
import io
import json
from pathlib import Path
import re
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


# Every value the fake office holds that a report must never show.
VALUES = (
    "Alice Martin",
    "alice@example.invalid",
    "Sales",
    "201",
    "7.09.20260515.1",
    "NightService",
    "Wildix WP480G",
    "127.0.0.1",
)
HISTORY = {
    "type": "result",
    "result": {
        "total": "2",
        "records": [
            {
                "id": "10452",
                "from_number": "+4930555010203",
                "to_number": "201",
                "billsec": "50",
                "disposition": "ANSWERED",
                "answer": "2026-03-04 09:15:12",
            },
            {
                "id": "10453",
                "from_number": "+4940555777888",
                "to_number": "202",
                "billsec": "0",
                "disposition": "NO ANSWER",
                "answer": "",
            },
        ],
    },
}


async def run(
    pbx_check: ModuleType,
    url: str,
    token: str,
    timeout: float = 2,
    *,
    as_json: bool = False,
) -> tuple[int, str]:
    """Run the check; return its exit status and what it printed."""
    out = io.StringIO()
    status = await pbx_check.check(
        url, token, verify_ssl=True, timeout=timeout, out=out, as_json=as_json
    )
    return status, out.getvalue()


def assert_no_values(output: str, token: str) -> None:
    """Assert that a report shows none of the PBX's data, nor the token."""
    assert token not in output
    for value in VALUES:
        assert value not in output, value


async def test_every_route_read_once(pbx_check: ModuleType) -> None:
    """Every route the integration uses is read once with GET; routes the fake lacks are missing."""
    async with FakePbx() as pbx:
        status, output = await run(pbx_check, pbx.url, pbx.token)
        asked = [(method, path) for method, path, _, _ in pbx.requests]
        queries = [query for _, _, query, _ in pbx.requests]
    assert status == 0, output
    assert asked == [("GET", "/api/v1/personal/info")] + [
        ("GET", route.path.replace("{ext}", "201")) for route in pbx_check.ROUTES
    ]
    assert {"user": "201"} in queries
    for route in (
        "/api/v1/User/{ext}/CallHistory/",
        "/api/v1/PBX/CallHistory/",
        "/api/v1/CallHistory/",
        "/api/v1/Contacts/",
        "/api/v1/VoiceMail",
        "/api/v1/Colleagues/",
        "/api/v2/call-control/list-calls/?user={ext}",
        "/api/v2/call-control/list-calls?user={ext}",
    ):
        assert f" GET {route}" in output, route
    assert "ok       200  GET /api/v1/PBX/Colleagues?count=5&start=0" in output
    assert "result.records[].extension: digits" in output
    assert "result.total: integer" in output
    assert "result.<key>.registrations[].online: digits" in output
    assert "result.records[].isTreeType: boolean" in output
    assert "ok       200  GET /api/v1/PBX/CallHistory/" in output
    assert "missing  404  GET /api/v1/CallHistory/" in output
    assert re.search(r"\nRoutes: \d+ missing, \d+ ok\.\n$", output)
    assert_no_values(output, pbx.token)


async def test_json_report(pbx_check: ModuleType) -> None:
    """`--json` gives the same report as one document: statuses, field types, no values."""
    async with FakePbx() as pbx:
        pbx.raw["/api/v1/PBX/CallHistory"] = (
            200,
            json.dumps(HISTORY).encode(),
            "application/json",
        )
        pbx.raw["/api/v1/User/"] = (429, b"", "application/json")
        pbx.missing.add("/api/v1/Contacts")
        status, output = await run(pbx_check, pbx.url, pbx.token, as_json=True)
    data = json.loads(output)
    assert status == 1
    assert data["format"] == 1
    assert data["connected"] is True
    routes = {entry["route"]: entry for entry in data["routes"]}
    assert len(routes) == len(pbx_check.ROUTES) + 1
    history = routes["/api/v1/PBX/CallHistory/"]
    assert history["status"] == 200
    assert history["outcome"] == "ok"
    assert history["shape"] == {
        "result": {
            "records": [
                {
                    "answer": "empty string | string",
                    "billsec": "digits",
                    "disposition": "string",
                    "from_number": "string",
                    "id": "digits",
                    "to_number": "digits",
                }
            ],
            "total": "digits",
        },
        "type": "string",
    }
    assert routes["/api/v1/User/{ext}/CallHistory/"]["outcome"] == "failed"
    assert routes["/api/v1/User/{ext}/CallHistory/"]["status"] == 429
    assert routes["/api/v1/User/{ext}/Presence"]["status"] == 429
    assert routes["/api/v1/Contacts/"]["outcome"] == "missing"
    assert data["summary"]["failed"] == 2
    assert_no_values(output, pbx.token)
    assert "10452" not in output
    assert "+4930555010203" not in output
    assert "ANSWERED" not in output


async def test_missing_refused_and_different(pbx_check: ModuleType) -> None:
    """Missing routes are features off; refusals and other shapes fail the check."""
    async with FakePbx() as pbx:
        pbx.missing.add("/api/v2")
        pbx.failing["/api/v1/Dialplan/Switches"] = 403
        pbx.failing["/api/v1/PBX/ping"] = 503
        pbx.raw["/api/v1/PBX/Colleagues"] = (
            200,
            b'{"type": "result", "result": [{"name": "Alice Martin"}]}',
            "application/json",
        )
        pbx.raw["/api/v1/PBX/version"] = (200, b"<html>7.1</html>", "text/html")
        status, output = await run(pbx_check, pbx.url, pbx.token)
    assert status == 1
    assert "missing  404  GET /api/v2/call-control/list-calls/?user={ext}" in output
    assert "refused  403  GET /api/v1/Dialplan/Switches" in output
    assert "failed   503  GET /api/v1/PBX/ping" in output
    assert "differs  200  GET /api/v1/PBX/Colleagues?count=5&start=0" in output
    assert "lacks result.records[].extension" in output
    assert "result[].name: string" in output
    assert "differs  200  GET /api/v1/PBX/version" in output
    assert "not JSON" in output
    assert_no_values(output, pbx.token)


async def test_wrong_token(pbx_check: ModuleType) -> None:
    """A token the PBX refuses stops the check at once."""
    async with FakePbx() as pbx:
        status, output = await run(pbx_check, pbx.url, "access_wrong")
        assert len(pbx.requests) == 1
    assert status == 1
    assert "refused  401  GET /api/v1/personal/info" in output
    assert "could not use this address and token" in output
    assert "access_wrong" not in output


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
    assert "failed   ---  GET /api/v1/personal/info" in out.getvalue()
    assert "ClientConnectorError" in out.getvalue()
    with pytest.raises(SystemExit) as exited:
        pbx_check.main(["ftp://pbx", "token"])
    assert exited.value.code == 2
    monkeypatch.delenv(pbx_check.TOKEN_VARIABLE)
    with pytest.raises(SystemExit) as exited:
        pbx_check.main(["https://pbx"])
    assert exited.value.code == 2
