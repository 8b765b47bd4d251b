"""The PBX API client against the fake PBX, over real HTTP on loopback."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
import json
from typing import Any

import aiohttp
import pytest

from custom_components.wildix import pbx_transport
from custom_components.wildix.pbx_client import PbxClient
from custom_components.wildix.pbx_presence import (
    PresenceStatus,
    format_until,
    parse_until,
)
from custom_components.wildix.pbx_transport import (
    PbxAuthError,
    PbxConnectionError,
    PbxNotWildixError,
    PbxRefusedError,
    PbxRouteMissingError,
    normalize_url,
)

from .fake_pbx import MAX_PAGE, FakePbx, until_text

# The fake PBX and the client talk over real sockets on 127.0.0.1.
pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def pbx() -> AsyncIterator[FakePbx]:
    """Serve the fake PBX's demo office."""
    async with FakePbx() as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """Return a plain aiohttp session, closed after the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def deviations() -> list[tuple[str, str]]:
    """Collect the shapes the client had to work around."""
    return []


@pytest.fixture
def client(
    pbx: FakePbx, session: aiohttp.ClientSession, deviations: list[tuple[str, str]]
) -> PbxClient:
    """Return a client of the fake PBX with its valid token."""
    return PbxClient(
        session,
        pbx.url,
        pbx.token,
        timeout=2,
        on_deviation=lambda path, what: deviations.append((path, what)),
    )


def answer(pbx: FakePbx, route: str, body: Any, status: int = 200) -> None:
    """Make the fake answer `route` with `body` as JSON."""
    pbx.raw[route] = (status, json.dumps(body).encode(), "application/json")


# Reads.


async def test_personal_info(client: PbxClient, pbx: FakePbx) -> None:
    """The check made before saving a token names the token's user."""
    info = await client.async_get_personal_info()
    assert info.extension == pbx.own_extension
    assert info.name == "Alice Martin"
    assert info.email == "alice@example.invalid"
    assert info.id == "11"
    assert info.login == "201"


async def test_version_and_ping(client: PbxClient, pbx: FakePbx) -> None:
    """The PBX's version is read, and ping answers."""
    assert (await client.async_get_version()).version == pbx.version
    await client.async_ping()


async def test_directory_follows_pages(
    client: PbxClient, pbx: FakePbx, deviations: list[tuple[str, str]]
) -> None:
    """A directory longer than the PBX's page cap is read in several pages."""
    for number in range(300, 300 + 2 * MAX_PAGE + 7):
        pbx.add_user(str(number), f"User {number}")
    directory = await client.async_get_colleagues()
    assert directory.complete
    assert directory.total == len(pbx.users)
    assert [c.extension for c in directory.colleagues] == list(pbx.users)
    starts = [
        query["start"] for _, path, query, _ in pbx.requests if "Colleagues" in path
    ]
    assert starts == ["0", "50", "100"]
    alice = directory.colleagues[0]
    assert (alice.name, alice.department, alice.role, alice.license_type) == (
        "Alice Martin",
        "Sales",
        "admin",
        "business",
    )
    assert alice.language == "en"
    assert deviations == []


async def test_directory_follows_changes(client: PbxClient, pbx: FakePbx) -> None:
    """Users added and removed on the PBX show in the next read."""
    pbx.remove_user("202")
    pbx.add_user("250", "Dora Weber", department="Support")
    extensions = [c.extension for c in (await client.async_get_colleagues()).colleagues]
    assert extensions == ["201", "203", "204", "250"]


async def test_directory_stops_at_bound(
    client: PbxClient, pbx: FakePbx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PBX that never stops paging is read at most MAX_PAGES times."""
    monkeypatch.setattr(pbx_transport, "MAX_PAGES", 2)
    monkeypatch.setattr(pbx_transport, "PAGE_SIZE", 1)
    directory = await client.async_get_colleagues()
    assert not directory.complete
    assert len(directory.colleagues) == 2
    assert directory.total == 4


async def test_directory_tolerates_other_shapes(
    client: PbxClient, pbx: FakePbx, deviations: list[tuple[str, str]]
) -> None:
    """A bare list, text totals, bad records and bad fields are taken or dropped."""
    good = pbx.users["201"].record | {
        "name": 42,
        "email": ["x"],
        "department": "D" * 300,
        "role": True,
    }
    answer(
        pbx,
        "/api/v1/PBX/Colleagues",
        {"type": "result", "result": [good, "junk", {"name": "no extension"}, good]},
    )
    directory = await client.async_get_colleagues()
    # A record listed twice: the listing is not provably complete.
    assert not directory.complete
    assert directory.incomplete == "1 records listed twice"
    assert directory.total is None
    (alice,) = directory.colleagues
    assert alice.name == "42"
    assert alice.email is None
    assert alice.department == "D" * 255
    assert alice.role is None
    assert {what for _, what in deviations} == {
        "a bare list instead of {records, total}",
        "a record that is not an object",
        "a record without a usable `extension`",
        "an extension listed twice",
    }


async def test_directory_without_total(
    client: PbxClient, pbx: FakePbx, deviations: list[tuple[str, str]]
) -> None:
    """Without `total`, a short page ends the directory; a text total is read."""
    answer(pbx, "/api/v1/PBX/Colleagues", {"type": "result", "result": {"records": []}})
    assert (await client.async_get_colleagues()).colleagues == ()
    answer(
        pbx,
        "/api/v1/PBX/Colleagues",
        {
            "type": "result",
            "result": {"records": [pbx.users["203"].record], "total": "1"},
        },
    )
    directory = await client.async_get_colleagues()
    assert directory.total == 1
    assert [what for _, what in deviations] == [
        "`total` missing or not a number",
        "`total` is text, not a number",
    ]


async def test_registrations(client: PbxClient, pbx: FakePbx) -> None:
    """Registered and unregistered phones, as they change on the PBX."""
    registrations = await client.async_get_registrations()
    assert registrations["201"].registered
    assert registrations["201"].devices[0].user_agent == "Wildix WP480G 3.10.2"
    assert registrations["201"].devices[0].contact is not None
    assert not registrations["204"].registered
    pbx.unregister("201")
    pbx.register("204", "Wildix W-AIR")
    pbx.register("204", "Collaboration")
    registrations = await client.async_get_registrations()
    assert not registrations["201"].registered
    assert registrations["204"].online_count == 2
    assert {d.user_agent for d in registrations["204"].devices} == {
        "Wildix W-AIR",
        "Collaboration",
    }


async def test_registrations_tolerate_other_shapes(
    client: PbxClient, pbx: FakePbx, deviations: list[tuple[str, str]]
) -> None:
    """Unwrapped lists, other user-agent keys, flags as numbers and junk are handled."""
    route = "/api/v1/PBX/Users/Sip/Registrations"
    answer(
        pbx,
        route,
        {
            "type": "result",
            "result": {
                "201": [{"online": 1, "userAgent": "Yealink"}, "junk"],
                "202": {"registrations": [{"user_agent": "Snom", "online": "0"}]},
                "203": {"registrations": [{"useragent": "Fanvil"}]},
                "204": {"registrations": None},
                "bad key!": {"registrations": []},
            },
        },
    )
    registrations = await client.async_get_registrations()
    assert registrations["201"].registered
    assert registrations["201"].devices[0].user_agent == "Yealink"
    assert not registrations["202"].registered
    assert registrations["202"].devices[0].user_agent == "Snom"
    assert registrations["203"].registered
    assert registrations["204"].devices == ()
    assert "bad key!" not in registrations
    assert len(deviations) == 6
    answer(pbx, route, {"type": "result", "result": []})
    assert await client.async_get_registrations() == {}
    answer(pbx, route, {"type": "result", "result": "nothing"})
    with pytest.raises(PbxNotWildixError):
        await client.async_get_registrations()


async def test_switches_list_and_set(client: PbxClient, pbx: FakePbx) -> None:
    """Switches are listed, and a state written shows in the next list."""
    switches = await client.async_get_switches()
    assert [(s.id, s.title, s.state, s.is_tree) for s in switches] == [
        ("1", "NightService", 0, False),
        ("2", "OfficeMode", 0, True),
    ]
    await client.async_set_switch("1", "NightService", 1)
    await client.async_set_switch("2", "OfficeMode", 2)
    assert [s.state for s in await client.async_get_switches()] == [1, 2]
    assert pbx.requests[-2][1] == "/api/v1/Dialplan/Switches/2/"
    assert pbx.requests[-2][3] == {"title": "OfficeMode", "state": 2}


async def test_switch_refusals(client: PbxClient, pbx: FakePbx) -> None:
    """A state out of range is refused by the PBX; bad arguments never leave."""
    with pytest.raises(PbxRefusedError) as refused:
        await client.async_set_switch("1", "NightService", 2)
    assert refused.value.reason == "state must be within valid range"
    assert refused.value.code == 400
    with pytest.raises(PbxRouteMissingError):
        await client.async_set_switch("99", "Gone", 1)
    for switch_id, title, state in (("1/../2", "x", 1), ("1", "", 1), ("1", "x", True)):
        with pytest.raises(ValueError):
            await client.async_set_switch(switch_id, title, state)
    assert pbx.switches[1].state == 0


async def test_switches_tolerate_other_shapes(
    client: PbxClient, pbx: FakePbx, deviations: list[tuple[str, str]]
) -> None:
    """Ids and states as text are read; records without them are dropped."""
    answer(
        pbx,
        "/api/v1/Dialplan/Switches",
        {
            "type": "result",
            "result": {
                "records": [
                    {"id": "7", "state": "1"},
                    {"id": 8, "title": "Holiday", "state": "on"},
                    {"id": 9, "title": "Closed", "state": False},
                    "junk",
                ],
                "total": 3,
            },
        },
    )
    (switch,) = await client.async_get_switches()
    assert (switch.id, switch.title, switch.state, switch.is_tree) == (
        "7",
        "7",
        1,
        False,
    )
    assert len(deviations) == 3


async def test_presence(client: PbxClient, pbx: FakePbx) -> None:
    """Presence set with a message and an end in UTC reads back the same."""
    until = datetime(2026, 12, 24, 18, 30, tzinfo=timezone(timedelta(hours=1)))
    await client.async_set_presence("202", PresenceStatus.DND, "In a meeting", until)
    assert pbx.requests[-1][3] == {
        "status": "dnd",
        "message": "In a meeting",
        "until": "24/12/2026 17:30",
    }
    presence = await client.async_get_presence("202")
    assert presence.status == "dnd"
    assert presence.message == "In a meeting"
    assert presence.until == datetime(2026, 12, 24, 17, 30, tzinfo=UTC)
    await client.async_set_presence("202", PresenceStatus.AVAILABLE)
    presence = await client.async_get_presence("202")
    assert (presence.status, presence.message, presence.until) == (
        "available",
        None,
        None,
    )


async def test_own_presence(client: PbxClient, pbx: FakePbx) -> None:
    """A per-user token sets its own presence."""
    await client.async_set_own_presence(PresenceStatus.AWAY, "Lunch")
    assert (pbx.users["201"].presence, pbx.users["201"].message) == ("away", "Lunch")


async def test_presence_refusals(client: PbxClient, pbx: FakePbx) -> None:
    """Unknown users and other users' presence without rights are refused."""
    with pytest.raises(PbxRouteMissingError):
        await client.async_set_presence("299", PresenceStatus.AWAY)
    with pytest.raises(PbxRouteMissingError):
        await client.async_get_presence("299")
    pbx.admin = False
    with pytest.raises(PbxAuthError) as refused:
        await client.async_set_presence("202", PresenceStatus.AWAY)
    assert refused.value.status == 403
    with pytest.raises(ValueError):
        await client.async_set_presence(
            "202", PresenceStatus.AWAY, until=datetime(2026, 1, 1)
        )
    with pytest.raises(ValueError):
        await client.async_set_presence("202", "asleep")  # type: ignore[arg-type]
    answer(pbx, "/api/v1/User/201/Presence", {"type": "result", "result": ["x"]})
    with pytest.raises(PbxNotWildixError):
        await client.async_get_presence("201")


async def test_originate_call(client: PbxClient, pbx: FakePbx) -> None:
    """Click-to-call rings the token's own user and dials the number."""
    await client.async_originate_call("+41 (22) 555-01.23", name="Doorbell")
    assert pbx.requests[-1][3] == {"number": "+41225550123", "name": "Doorbell"}
    assert pbx.calls["201"][0].callee_number == "+41225550123"
    with pytest.raises(ValueError):
        await client.async_originate_call("call mom")


async def test_call_control(client: PbxClient, pbx: FakePbx) -> None:
    """v2 call control calls for another user, lists the calls and hangs them up."""
    assert await client.async_make_call("204", "202", device="desk") == "Call initiated"
    assert pbx.requests[-1][2] == {"user": "204"}
    (call,) = await client.async_list_calls("204")
    assert (call.caller_number, call.callee_number, call.state) == (
        "204",
        "202",
        "ringing",
    )
    assert call.duration == 0
    assert await client.async_hang_up_user("204") == 1
    assert pbx.requests[-1][3] == {"sipCallId": call.sip_call_id}
    assert await client.async_list_calls("204") == ()
    with pytest.raises(PbxRouteMissingError):
        await client.async_hang_up(call.sip_call_id, reason="done")
    with pytest.raises(ValueError):
        await client.async_hang_up("")


async def test_call_control_for_another_user_needs_admin(
    client: PbxClient, pbx: FakePbx
) -> None:
    """A credential that is not a root admin may not act for another user."""
    pbx.admin = False
    with pytest.raises(PbxAuthError):
        await client.async_make_call("204", "202")
    with pytest.raises(PbxAuthError):
        await client.async_list_calls("204")
    await client.async_originate_call("202")
    pbx.admin, pbx.own_extension = True, "202"
    (call,) = await client.async_list_calls("201")
    pbx.admin = False
    with pytest.raises(PbxAuthError):
        await client.async_hang_up(call.sip_call_id, extension="201")


async def test_call_control_refusals(client: PbxClient, pbx: FakePbx) -> None:
    """v2 refusals with the error envelope, or with only `{message}`, are refusals."""
    with pytest.raises(PbxRouteMissingError):
        await client.async_make_call("299", "202")
    answer(pbx, "/api/v2/call-control/make-call", {"message": "Device busy"}, 409)
    with pytest.raises(PbxRefusedError) as refused:
        await client.async_make_call("201", "202")
    assert (refused.value.reason, refused.value.code) == ("Device busy", 409)
    answer(pbx, "/api/v2/call-control/make-call", {"type": "result", "result": "Done"})
    assert await client.async_make_call("201", "202") is None


async def test_v2_missing_on_this_tenant(client: PbxClient, pbx: FakePbx) -> None:
    """A tenant without v2 call control answers 404 on the whole v2 surface."""
    pbx.missing.add("/api/v2/")
    with pytest.raises(PbxRouteMissingError) as missing:
        await client.async_list_calls("201")
    assert missing.value.reason == "404 Not Found"
    # Both forms of the route were asked, with and without the trailing slash.
    assert missing.value.path == "/api/v2/call-control/list-calls"
    assert [path for _, path, _, _ in pbx.requests] == [
        "/api/v2/call-control/list-calls/",
        "/api/v2/call-control/list-calls",
    ]
    await client.async_originate_call("202")


async def test_list_calls_tolerates_other_shapes(
    client: PbxClient, pbx: FakePbx, deviations: list[tuple[str, str]]
) -> None:
    """Top-level `calls`, a bare list and calls without an id are handled."""
    route = "/api/v2/call-control/list-calls"
    call = {"sipCallId": "abc", "state": "talking", "duration": "12"}
    answer(pbx, route, {"calls": [call, {"state": "x"}, 5]})
    (found,) = await client.async_list_calls("201")
    assert (found.sip_call_id, found.state, found.duration) == ("abc", "talking", 12)
    answer(pbx, route, {"type": "result", "result": [call]})
    assert len(await client.async_list_calls("201")) == 1
    answer(pbx, route, {"type": "result", "result": {"records": []}})
    with pytest.raises(PbxNotWildixError):
        await client.async_list_calls("201")
    assert [what for _, what in deviations] == [
        "a call without `sipCallId`",
        "a call without `sipCallId`",
        "a bare list of calls",
    ]


# Errors.


async def test_wrong_token(pbx: FakePbx, session: aiohttp.ClientSession) -> None:
    """A token the PBX does not know is an authentication error (401)."""
    client = PbxClient(session, pbx.url, "access_wrong")
    with pytest.raises(PbxAuthError) as refused:
        await client.async_get_personal_info()
    assert (refused.value.status, refused.value.reason) == (401, "Unauthorized")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, PbxAuthError),
        (403, PbxAuthError),
        (404, PbxRouteMissingError),
        (500, PbxConnectionError),
        (502, PbxConnectionError),
        (503, PbxConnectionError),
    ],
)
async def test_error_statuses(
    client: PbxClient, pbx: FakePbx, status: int, error: type[Exception]
) -> None:
    """Each error status becomes its typed error."""
    pbx.failing["/api/v1/PBX/Colleagues"] = status
    with pytest.raises(error):
        await client.async_get_colleagues()
    pbx.heal()
    assert len((await client.async_get_colleagues()).colleagues) == 4


async def test_slow_answer_times_out(
    pbx: FakePbx, session: aiohttp.ClientSession
) -> None:
    """A PBX that does not answer within the timeout cannot be connected to."""
    pbx.slow.add("/api/v1/personal")
    client = PbxClient(session, pbx.url, pbx.token, timeout=0.2)
    with pytest.raises(PbxConnectionError, match="no answer in time"):
        await client.async_get_personal_info()
    assert (await client.async_get_version()).version == pbx.version


async def test_nothing_listening(session: aiohttp.ClientSession) -> None:
    """A port nothing listens on cannot be connected to."""
    async with FakePbx() as pbx:
        url = pbx.url
    with pytest.raises(PbxConnectionError):
        await PbxClient(session, url, "token").async_get_personal_info()


class _FailingResolver(aiohttp.abc.AbstractResolver):
    """A resolver that knows no name, as DNS without the PBX's name."""

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[Any]:
        raise OSError(f"cannot resolve {host}")

    async def close(self) -> None:
        """Nothing to close."""


async def test_unknown_host() -> None:
    """A name DNS does not know cannot be connected to."""
    connector = aiohttp.TCPConnector(resolver=_FailingResolver())
    async with aiohttp.ClientSession(connector=connector) as session:
        client = PbxClient(session, "pbx.example.invalid", "token")
        with pytest.raises(PbxConnectionError):
            await client.async_get_personal_info()


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (200, b"<html><body>Welcome to nginx</body></html>", "text/html"),
        (200, b'{"users": []}', "application/json"),
        (200, b'{"type": "answer", "result": {}}', "application/json"),
        (200, b"[1, 2]", "application/json"),
        (200, b"", "application/json"),
        (400, b'{"detail": "bad"}', "application/json"),
        (302, b"", "text/html"),
    ],
)
async def test_not_a_wildix_pbx(
    client: PbxClient, pbx: FakePbx, status: int, body: bytes, content_type: str
) -> None:
    """Answers without Wildix's envelope are told apart from a missing connection."""
    pbx.raw["/api/v1/personal/info"] = (status, body, content_type)
    with pytest.raises(PbxNotWildixError):
        await client.async_get_personal_info()


async def test_oversized_answer(client: PbxClient, pbx: FakePbx) -> None:
    """An answer larger than any the integration asks for is refused."""
    body = b'{"type":"result","result":"' + b"x" * pbx_transport.MAX_BODY + b'"}'
    pbx.raw["/api/v1/PBX/version"] = (200, body, "application/json")
    with pytest.raises(PbxNotWildixError, match="larger"):
        await client.async_get_version()


async def test_refusal_with_ok_status(client: PbxClient, pbx: FakePbx) -> None:
    """An error envelope sent with 200 is still a refusal."""
    answer(
        pbx,
        "/api/v1/originate/call",
        {"type": "error", "reason": "No device", "code": 0},
    )
    with pytest.raises(PbxRefusedError) as refused:
        await client.async_originate_call("202")
    assert (refused.value.reason, refused.value.status) == ("No device", 200)
    # The PBX's text is kept for the debug log, never put in the message.
    assert "No device" not in str(refused.value)
    answer(pbx, "/api/v1/originate/call", {"type": "error"}, 400)
    with pytest.raises(PbxRefusedError) as refused:
        await client.async_originate_call("202")
    assert (refused.value.reason, refused.value.status) == ("refused", 400)


async def test_create_answer_without_type(
    client: PbxClient, pbx: FakePbx, deviations: list[tuple[str, str]]
) -> None:
    """`{"result": "Success"}` without `type`, as creates answer, is accepted."""
    answer(pbx, "/api/v1/originate/call", {"result": "Success"})
    await client.async_originate_call("202")
    # A write succeeds on any 2xx without the error envelope: nothing to report.
    assert deviations == []


async def test_other_shapes_of_personal_info_and_version(
    client: PbxClient, pbx: FakePbx, deviations: list[tuple[str, str]]
) -> None:
    """Version as text or under another key; personal info without an extension."""
    answer(pbx, "/api/v1/PBX/version", {"type": "result", "result": "7.10.1"})
    assert (await client.async_get_version()).version == "7.10.1"
    answer(
        pbx, "/api/v1/PBX/version", {"type": "result", "result": {"wmsVersion": "7.1"}}
    )
    assert (await client.async_get_version()).version == "7.1"
    # Any shape the sources allow shows what it can; none hides the version only.
    answer(pbx, "/api/v1/PBX/version", {"type": "result", "result": {"x": 1}})
    assert (await client.async_get_version()).version is None
    answer(pbx, "/api/v1/PBX/version", {"type": "result", "result": [7, 9]})
    assert (await client.async_get_version()).version is None
    answer(pbx, "/api/v1/personal/info", {"type": "result", "result": {"name": "Bot"}})
    info = await client.async_get_personal_info()
    assert (info.name, info.extension) == ("Bot", None)
    answer(pbx, "/api/v1/personal/info", {"type": "result", "result": "me"})
    with pytest.raises(PbxNotWildixError):
        await client.async_get_personal_info()
    answer(pbx, "/api/v1/Dialplan/Switches", {"type": "result", "result": {"x": []}})
    with pytest.raises(PbxNotWildixError):
        await client.async_get_switches()
    assert [what for _, what in deviations] == [
        "version under `wmsVersion`",
        "no version in the result",
        "no version in the result",
        "no usable `id`",
        "no usable `extension`",
    ]


async def test_deviations_logged_without_a_listener(
    pbx: FakePbx, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a listener, worked-around shapes go to the debug log."""
    caplog.set_level("DEBUG", logger=pbx_transport.__name__)
    answer(pbx, "/api/v1/PBX/ping", {"result": "pong"})
    await PbxClient(session, pbx.url, pbx.token).async_ping()
    assert "envelope without `type`" in caplog.text


async def test_tls(session: aiohttp.ClientSession, tmp_path: Any) -> None:
    """A certificate the system does not trust fails, unless verification is off."""
    context = _self_signed_context(tmp_path)
    pbx = FakePbx()
    await pbx.start(context)
    try:
        with pytest.raises(PbxConnectionError, match="TLS"):
            await PbxClient(session, pbx.url, pbx.token).async_ping()
        client = PbxClient(session, pbx.url, pbx.token, verify_ssl=False)
        await client.async_ping()
    finally:
        await pbx.stop()


def _self_signed_context(tmp_path: Any) -> Any:
    """Return a server TLS context with a fresh self-signed certificate."""
    import ssl  # noqa: PLC0415

    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


# Arguments.


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("pbx.wildixin.com", "https://pbx.wildixin.com"),
        (" https://pbx.wildixin.com/ ", "https://pbx.wildixin.com"),
        ("http://192.168.1.10:8080/api/v1/", "http://192.168.1.10:8080"),
        ("https://pbx.example/wms/API/V2", "https://pbx.example/wms"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    """People's ways of writing the PBX's address become one base URL."""
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://pbx",
        "https://",
        "https://u:p@pbx",
        "https://pbx/?a=1",
        "https://pbx:99999",
    ],
)
def test_bad_urls(url: str) -> None:
    """Addresses that cannot be a PBX's are refused."""
    with pytest.raises(ValueError):
        normalize_url(url)


def test_bad_token(session: aiohttp.ClientSession) -> None:
    """A token with spaces or line breaks never reaches a header."""
    for token in ("", "two words", "line\nbreak"):
        with pytest.raises(ValueError):
            PbxClient(session, "https://pbx", token)


def test_until_format() -> None:
    """Presence ends go to the PBX in UTC and come back as UTC datetimes."""
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    assert format_until(moment) == until_text(moment) == "28/03/2026 23:30"
    assert parse_until("28/03/2026 23:30") == moment
    assert parse_until("tomorrow") is None
    assert parse_until(None) is None
    assert parse_until(5) is None


@pytest.mark.parametrize(
    ("result", "version"),
    [
        ("7.09.20260515.1", "7.09.20260515.1"),
        ({"version": "7.09"}, "7.09"),
        ({"build": "20260515.1"}, "20260515.1"),
        (7.09, "7.09"),
        (709, "709"),
        (None, None),
        ({}, None),
    ],
)
async def test_version_shapes(
    client: PbxClient, pbx: FakePbx, result: Any, version: str | None
) -> None:
    """String, `{version}`, `{build}`, a number or null: what can be shown is shown."""
    answer(pbx, "/api/v1/PBX/version", {"type": "result", "result": result})
    assert (await client.async_get_version()).version == version


async def test_version_as_html_is_unreadable(client: PbxClient, pbx: FakePbx) -> None:
    """An HTML page instead of the envelope is not a version (PbxNotWildixError)."""
    pbx.raw["/api/v1/PBX/version"] = (200, b"<html>7.09</html>", "text/html")
    with pytest.raises(PbxNotWildixError):
        await client.async_get_version()


async def test_directory_reads_at_most_max_records_in_all(
    client: PbxClient, pbx: FakePbx
) -> None:
    """A PBX that ignores `count` and pages on is read up to 5,000 records in all."""
    records = [{"extension": str(10_000 + n), "id": n} for n in range(3000)]
    answer(
        pbx,
        "/api/v1/PBX/Colleagues",
        {"type": "result", "result": {"records": records, "total": 9000}},
    )
    directory = await client.async_get_colleagues()
    # A second page of 3,000 would pass 5,000: it is not taken.
    assert len(pbx.requests) == 2
    assert len(directory.colleagues) == 3000
    assert not directory.complete
    assert directory.incomplete == "more than 5000 records"
