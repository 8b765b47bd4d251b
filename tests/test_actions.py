"""The actions set_presence, call and hang_up, called as automations do, against the fake PBX."""

import asyncio
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wildix import coordinator, services
from custom_components.wildix.const import DOMAIN
from custom_components.wildix.diagnostics import async_get_config_entry_diagnostics

from .common import ENTRY_ID, START, add_entry, entry_data
from .fake_pbx import FakeCall, FakePbx

pytestmark = pytest.mark.usefixtures("socket_enabled")

OWN_PRESENCE = "/api/v1/Personal/Presence"
ORIGINATE = "/api/v1/originate/call"
MAKE_CALL = "/api/v2/call-control/make-call"
LIST_CALLS = "/api/v2/call-control/list-calls"
HANGUP = "/api/v2/call-control/hangup"
PERSONAL_INFO = "/api/v1/personal/info"
BRANCH = "01JWILDIXBRANCH"
# The documented error shape (research: 10x-media).
REFUSAL = b'{"type":"error","reason":"status is not allowed","code":400}'


def presence_route(extension: str) -> str:
    """Return the route that sets a user's presence."""
    return f"/api/v1/User/{extension}/Presence"


@pytest.fixture(autouse=True)
async def webhook_component(hass: HomeAssistant) -> None:
    """Load the webhook component, and set a time zone east of UTC."""
    assert await async_setup_component(hass, "webhook", {})
    await hass.config.async_set_time_zone("Europe/Zurich")


@pytest.fixture
async def entry(hass: HomeAssistant, pbx: FakePbx) -> MockConfigEntry:
    """Return an entry connected to the fake PBX, whose token acts as 201, an admin."""
    return await add_entry(hass, pbx, **entry_data())


def device(hass: HomeAssistant, extension: str | None, entry_id: str = ENTRY_ID) -> str:
    """Return the device id of a user, or of the PBX for None."""
    identifier = entry_id if extension is None else f"{entry_id}_{extension}"
    registry = dr.async_get(hass)
    for found in dr.async_entries_for_config_entry(registry, entry_id):
        if (DOMAIN, identifier) in found.identifiers:
            return found.id
    raise AssertionError(f"no device {identifier}")


def asked(pbx: FakePbx, method: str, path: str) -> list[dict[str, Any]]:
    """Return the bodies of the requests the fake PBX got for a route, in order."""
    return [
        body
        for asked_method, asked_path, _, body in pbx.requests
        if asked_method == method and asked_path.rstrip("/") == path
    ]


def queries(pbx: FakePbx, method: str, path: str) -> list[dict[str, str]]:
    """Return the query parameters of the requests the fake PBX got for a route."""
    return [
        query
        for asked_method, asked_path, query, _ in pbx.requests
        if asked_method == method and asked_path.rstrip("/") == path
    ]


async def act(hass: HomeAssistant, action: str, **data: Any) -> None:
    """Call an action of the integration and wait for it, as an automation does."""
    await hass.services.async_call(DOMAIN, action, data, blocking=True)


async def refused(
    hass: HomeAssistant,
    error: type[HomeAssistantError],
    key: str,
    action: str,
    **data: Any,
) -> HomeAssistantError:
    """Call an action that must fail; return its error after checking its kind and key."""
    with pytest.raises(error) as caught:
        await act(hass, action, **data)
    assert caught.type is error
    assert caught.value.translation_domain == DOMAIN
    assert caught.value.translation_key == key
    # The message is translated, with every placeholder filled in.
    message = str(caught.value)
    assert message and "{" not in message, message
    return caught.value


async def test_actions_exist_without_any_entry(hass: HomeAssistant) -> None:
    """The actions are registered when the integration loads, before any entry."""
    assert await async_setup_component(hass, DOMAIN, {})
    for action in ("set_presence", "call", "hang_up"):
        assert hass.services.has_service(DOMAIN, action)
    # Home Assistant reads services.yaml for the editor: every field is described.
    descriptions = (await async_get_all_descriptions(hass))[DOMAIN]
    assert {name: set(d["fields"]) for name, d in descriptions.items()} == {
        "set_presence": {"device_id", "status", "message", "until"},
        "call": {"device_id", "number"},
        "hang_up": {"device_id"},
        "mark_voicemail_read": {"media_content_id", "device_id", "message_id"},
        "delete_voicemail": {"media_content_id", "device_id", "message_id"},
        "refresh_phonebook": {"config_entry_id"},
    }


async def test_set_presence_of_several_users_with_message_and_end(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """Two users at once; the end, in Home Assistant's zone, reaches the PBX in UTC."""
    await act(
        hass,
        "set_presence",
        device_id=[device(hass, "202"), device(hass, "203")],
        status="dnd",
        message="In a meeting",
        until="2025-03-04 18:30:00",  # Zurich, UTC+1 in March
    )

    for extension in ("202", "203"):
        user = pbx.users[extension]
        assert (user.presence, user.message, user.until) == (
            "dnd",
            "In a meeting",
            "04/03/2025 17:30",
        )
    assert asked(pbx, "PUT", presence_route("202")) == [
        {"status": "dnd", "message": "In a meeting", "until": "04/03/2025 17:30"}
    ]
    # Users not named are left alone.
    assert pbx.users["204"].presence == ""


async def test_set_presence_end_with_a_time_zone(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """An end given with its own offset is converted to UTC; no message clears one."""
    pbx.users["202"].message = "Old message"
    await act(
        hass,
        "set_presence",
        device_id=device(hass, "202"),
        status="away",
        until="2025-03-05T08:05:00+09:00",
    )
    user = pbx.users["202"]
    assert (user.presence, user.message, user.until) == ("away", "", "04/03/2025 23:05")


async def test_set_own_presence_uses_the_personal_route(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """The token's own user goes through Personal/Presence; who that is is asked once."""
    own = device(hass, "201")
    await act(hass, "set_presence", device_id=own, status="mur", message="Room 12")
    await act(hass, "set_presence", device_id=own, status="available")

    assert asked(pbx, "PUT", OWN_PRESENCE) == [
        {"status": "mur", "message": "Room 12"},
        {"status": "available", "message": ""},
    ]
    assert asked(pbx, "PUT", presence_route("201")) == []
    assert len(asked(pbx, "GET", PERSONAL_INFO)) == 1
    assert (pbx.users["201"].presence, pbx.users["201"].message) == ("", "")


async def test_set_own_presence_with_an_end_uses_the_user_route(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """Personal/Presence takes no end: a presence with one goes through the user route."""
    pbx.admin = False
    await act(
        hass,
        "set_presence",
        device_id=device(hass, "201"),
        status="dnd",
        until="2025-03-04 12:00:00",
    )
    assert pbx.users["201"].until == "04/03/2025 11:00"
    assert asked(pbx, "PUT", OWN_PRESENCE) == []


async def test_set_presence_of_others_needs_an_admin_credential(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """A token of a user who is not an admin may set only that user's presence."""
    pbx.admin = False
    error = await refused(
        hass,
        HomeAssistantError,
        "missing_permission",
        "set_presence",
        device_id=device(hass, "202"),
        status="away",
    )
    assert error.translation_placeholders == {
        "entry": "Office",
        "feature": "presence_others",
        "needs": "an admin's token",
    }
    assert pbx.users["202"].presence == ""

    await act(hass, "set_presence", device_id=device(hass, "201"), status="away")
    assert pbx.users["201"].presence == "away"


async def test_one_refusal_among_several_users(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Users the PBX accepts keep their presence; the error names a refused one."""
    pbx.admin = False
    with pytest.raises(HomeAssistantError) as caught:
        await act(
            hass,
            "set_presence",
            device_id=[device(hass, "201"), device(hass, "202"), device(hass, "203")],
            status="dnd",
        )
    assert caught.value.translation_key == "missing_permission"
    assert caught.value.translation_placeholders["feature"] == "presence_others"
    assert pbx.users["201"].presence == "dnd"
    assert "Not done for Chiara Rossi either" in caplog.text


async def test_presence_end_in_the_past_is_refused(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """An end that has passed is an input error; nothing is sent."""
    pbx.requests.clear()
    error = await refused(
        hass,
        ServiceValidationError,
        "until_in_past",
        "set_presence",
        device_id=device(hass, "202"),
        status="dnd",
        until=(START - timedelta(minutes=1)).isoformat(),
    )
    assert error.translation_placeholders == {"until": "2025-03-04 10:13+01:00"}
    assert pbx.requests == []


async def test_devices_the_actions_cannot_act_for(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """Unknown devices, the PBX itself and other integrations' devices are input errors."""
    registry = dr.async_get(hass)
    other_entry = MockConfigEntry(domain="demo")
    other_entry.add_to_hass(hass)
    lamp = registry.async_get_or_create(
        config_entry_id=other_entry.entry_id,
        identifiers={("demo", "lamp")},
        name="Lamp",
    )
    pbx.requests.clear()
    cases = [
        ("unknown_device", "no-such-device", {"device_id": "no-such-device"}),
        ("not_a_user", device(hass, None), {"device": "Office"}),
        ("not_a_user", lamp.id, {"device": "Lamp"}),
    ]
    for key, device_id, placeholders in cases:
        for action, data in (
            ("set_presence", {"status": "away"}),
            ("call", {"number": "203"}),
            ("hang_up", {}),
        ):
            error = await refused(
                hass, ServiceValidationError, key, action, device_id=device_id, **data
            )
            assert error.translation_placeholders == placeholders
    assert pbx.requests == []


async def test_users_of_an_entry_without_connection_or_not_loaded(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """A user whose entry has no PBX API connection, or is not loaded, is an input error."""
    bare = await add_entry(
        hass,
        None,
        BRANCH,
        "Branch",
        **entry_data(webhook_id="b" * 64, secret="S" * 32),
    )
    # Without a connection, users come from events; here the device is made directly.
    dr.async_get(hass).async_get_or_create(
        config_entry_id=bare.entry_id,
        identifiers={(DOMAIN, f"{bare.entry_id}_301")},
        name="Extension 301",
    )
    error = await refused(
        hass,
        ServiceValidationError,
        "no_pbx_connection",
        "call",
        device_id=device(hass, "301", bare.entry_id),
        number="201",
    )
    assert error.translation_placeholders == {"entry": "Branch"}

    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    error = await refused(
        hass,
        ServiceValidationError,
        "entry_not_loaded",
        "hang_up",
        device_id=device(hass, "202"),
    )
    assert error.translation_placeholders == {"entry": "Office"}


async def test_an_extension_the_api_cannot_address(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """Events allow extensions such as *72 that no API route can carry: an input error."""
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, f"{entry.entry_id}_*72")},
        name="Extension *72",
    )
    error = await refused(
        hass,
        ServiceValidationError,
        "invalid_extension",
        "set_presence",
        device_id=device(hass, "*72"),
        status="away",
    )
    assert error.translation_placeholders == {"extension": "*72"}
    assert all(method == "GET" for method, *_ in pbx.requests)


async def test_each_user_goes_to_the_pbx_of_their_entry(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """With two PBXs, one action for users of both reaches each user's own PBX."""
    async with FakePbx() as branch:
        other = await add_entry(
            hass,
            branch,
            BRANCH,
            "Branch",
            **entry_data(webhook_id="b" * 64, secret="S" * 32),
        )
        await act(
            hass,
            "set_presence",
            device_id=[device(hass, "202"), device(hass, "203", other.entry_id)],
            status="away",
        )
        assert (pbx.users["202"].presence, pbx.users["203"].presence) == ("away", "")
        assert (branch.users["202"].presence, branch.users["203"].presence) == (
            "",
            "away",
        )
        assert await hass.config_entries.async_unload(other.entry_id)


async def test_call_from_the_tokens_own_user_originates(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """The token's own user: v1 originate, the number without its separators."""
    await act(hass, "call", device_id=device(hass, "201"), number="+41 (22) 555-01.23")

    assert asked(pbx, "POST", ORIGINATE) == [{"number": "+41225550123"}]
    assert asked(pbx, "POST", MAKE_CALL) == []
    assert [call.callee_number for call in pbx.calls["201"]] == ["+41225550123"]


async def test_call_for_another_user_uses_call_control(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """Another user, with an admin token: v2 make-call acting for that user."""
    await act(hass, "call", device_id=device(hass, "204"), number="022 555 01 23")

    assert asked(pbx, "POST", MAKE_CALL) == [{"destination": "0225550123"}]
    assert queries(pbx, "POST", MAKE_CALL) == [{"user": "204"}]
    assert [call.callee_number for call in pbx.calls["204"]] == ["0225550123"]
    assert asked(pbx, "POST", ORIGINATE) == []


async def test_call_for_another_user_needs_an_admin_credential(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """A token that may not act for others rings only its own user's phone."""
    pbx.admin = False
    error = await refused(
        hass,
        HomeAssistantError,
        "missing_permission",
        "call",
        device_id=device(hass, "202"),
        number="203",
    )
    assert "call_control_others: it needs an admin's token" in str(error)
    assert "202" not in pbx.calls

    await act(hass, "call", device_id=device(hass, "201"), number="203")
    assert [call.callee_number for call in pbx.calls["201"]] == ["203"]


@pytest.mark.parametrize("number", ["call me", "0800-FLOWERS", "12+34", "", "++41"])
async def test_numbers_with_letters_are_refused(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry, number: str
) -> None:
    """Only digits (+ first, * and #) with separators are numbers; nothing is dialled."""
    pbx.requests.clear()
    error = await refused(
        hass,
        ServiceValidationError,
        "invalid_number",
        "call",
        device_id=device(hass, "201"),
        number=number,
    )
    assert error.translation_placeholders == {"number": number}
    assert pbx.requests == []


async def test_without_call_control_only_the_own_user_can_call(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 404 on v2 routes is that action's error: asked again next time, nothing off."""
    pbx.requests.clear()
    pbx.missing.add("/api/v2")
    for _ in range(2):
        error = await refused(
            hass,
            HomeAssistantError,
            "pbx_not_supported",
            "call",
            device_id=device(hass, "202"),
            number="203",
        )
        assert error.translation_placeholders == {
            "entry": "Office",
            "user": "Bruno Keller",
            "route": MAKE_CALL,
        }
    assert len(asked(pbx, "POST", MAKE_CALL)) == 2
    assert "no call control" not in caplog.text
    await refused(
        hass,
        HomeAssistantError,
        "pbx_not_supported",
        "hang_up",
        device_id=device(hass, "201"),
    )

    await act(hass, "call", device_id=device(hass, "201"), number="203")
    assert len(pbx.calls["201"]) == 1
    pbx.heal()
    await act(hass, "call", device_id=device(hass, "202"), number="203")
    assert len(pbx.calls["202"]) == 1


async def test_a_404_for_one_user_leaves_call_control_on(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """make-call, list-calls or hang-up answering 404 for one user fail for that user only."""
    pbx.calls["203"] = [FakeCall("c@pbx", "203", "204")]
    pbx.exact_missing.update({MAKE_CALL, f"{LIST_CALLS}/", LIST_CALLS})
    await refused(
        hass,
        HomeAssistantError,
        "pbx_not_supported",
        "call",
        device_id=device(hass, "202"),
        number="203",
    )
    await refused(
        hass,
        HomeAssistantError,
        "pbx_not_supported",
        "hang_up",
        device_id=device(hass, "202"),
    )
    pbx.exact_missing.clear()
    await act(hass, "call", device_id=device(hass, "202"), number="204")
    await act(hass, "hang_up", device_id=device(hass, "203"))
    assert [call.callee_number for call in pbx.calls["202"]] == ["204"]
    assert pbx.calls["203"] == []
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["pbx_api"]["call_control"] is True


async def test_list_calls_with_or_without_the_trailing_slash(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """A PBX that knows list-calls only without its trailing slash is asked that way."""
    pbx.calls["202"] = [FakeCall("a@pbx", "202", "203")]
    pbx.exact_missing.add(f"{LIST_CALLS}/")
    await act(hass, "hang_up", device_id=device(hass, "202"))
    assert pbx.calls["202"] == []
    pbx.calls["202"] = [FakeCall("b@pbx", "202", "203")]
    await act(hass, "hang_up", device_id=device(hass, "202"))
    assert pbx.calls["202"] == []
    # After its 404 the slash form is not asked again: the form that answers is kept.
    paths = [path for method, path, _, _ in pbx.requests if method == "GET"]
    assert [p for p in paths if "list-calls" in p][-3:] == [
        f"{LIST_CALLS}/",
        LIST_CALLS,
        LIST_CALLS,
    ]


async def test_hang_up_ends_the_users_calls(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """Every call in progress of the user ends; other users' calls go on."""
    pbx.calls["202"] = [
        FakeCall("a@pbx", "202", "+41225550123", "talking"),
        FakeCall("b@pbx", "202", "203"),
    ]
    pbx.calls["203"] = [FakeCall("c@pbx", "203", "204")]

    await act(hass, "hang_up", device_id=device(hass, "202"))

    assert pbx.calls["202"] == []
    assert [call.sip_call_id for call in pbx.calls["203"]] == ["c@pbx"]
    assert asked(pbx, "POST", HANGUP) == [
        {"sipCallId": "a@pbx"},
        {"sipCallId": "b@pbx"},
    ]
    assert queries(pbx, "POST", HANGUP) == [{"user": "202"}, {"user": "202"}]
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["pbx_api"]["call_control"] is True


async def test_hang_up_without_a_call_or_after_it_ended(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """No call, or a call that ended before the hang-up: done, nothing to end."""
    await act(hass, "hang_up", device_id=device(hass, "203"))
    assert asked(pbx, "POST", HANGUP) == []

    pbx.calls["203"] = [FakeCall("gone@pbx", "203", "204")]
    # A call that is gone is a 404, as a missing route is.
    pbx.missing.add(HANGUP)
    await act(hass, "hang_up", device_id=device(hass, "203"))
    assert len(asked(pbx, "POST", HANGUP)) == 1


async def test_hang_up_without_call_control(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """The action is there, but this PBX answers 404: that action's error, each time."""
    pbx.requests.clear()
    pbx.missing.add("/api/v2")
    for _ in range(2):
        error = await refused(
            hass,
            HomeAssistantError,
            "pbx_not_supported",
            "hang_up",
            device_id=device(hass, "202"),
        )
        assert error.translation_placeholders["entry"] == "Office"
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["pbx_api"]["call_control"] is None


async def test_hang_up_for_another_user_needs_an_admin_credential(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """A token that may not act for others cannot end their calls."""
    pbx.admin = False
    pbx.calls["202"] = [FakeCall("a@pbx", "202", "203")]
    await refused(
        hass,
        HomeAssistantError,
        "pbx_admin_needed",
        "hang_up",
        device_id=device(hass, "202"),
    )
    assert len(pbx.calls["202"]) == 1


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (
            lambda pbx: pbx.failing.update({"/api/v1/User": 503}),
            ("pbx_cannot_connect", {"entry": "Office"}),
        ),
        (
            lambda pbx: pbx.missing.add("/api/v1/User"),
            (
                "pbx_not_supported",
                {
                    "entry": "Office",
                    "user": "Bruno Keller",
                    "route": "/api/v1/User/202/Presence",
                },
            ),
        ),
        (
            lambda pbx: pbx.raw.update(
                {"/api/v1/User": (400, REFUSAL, "application/json")}
            ),
            (
                "pbx_refused",
                {
                    "entry": "Office",
                    "user": "Bruno Keller",
                    # The status, never the PBX's own text.
                    "status": "400",
                },
            ),
        ),
        (
            lambda pbx: pbx.raw.update(
                {"/api/v1/User": (302, b"<html>login</html>", "text/html")}
            ),
            (
                "pbx_unexpected_answer",
                {"entry": "Office", "status": "302"},
            ),
        ),
    ],
)
async def test_pbx_refusals_are_translated(
    hass: HomeAssistant,
    pbx: FakePbx,
    entry: MockConfigEntry,
    breakage: Any,
    expected: tuple[str, dict[str, str]],
) -> None:
    """What the PBX answers instead of doing it becomes a translated error."""
    key, placeholders = expected
    breakage(pbx)
    error = await refused(
        hass,
        HomeAssistantError,
        key,
        "set_presence",
        device_id=device(hass, "202"),
        status="away",
    )
    assert error.translation_placeholders == placeholders
    assert pbx.users["202"].presence == ""


async def test_a_refused_token_asks_for_a_new_one(
    hass: HomeAssistant, pbx: FakePbx, entry: MockConfigEntry
) -> None:
    """401: the error says the token is refused, and reauthentication starts."""
    pbx.token = "access_revoked"
    await refused(
        hass,
        HomeAssistantError,
        "pbx_token_refused",
        "hang_up",
        device_id=device(hass, "202"),
    )
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def wait_for_requests(pbx: FakePbx, method: str, count: int) -> None:
    """Wait until the fake PBX has `count` requests of `method` (the clock is frozen)."""
    for _ in range(100_000):
        if sum(r[0] == method for r in pbx.requests) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{count} {method} requests were not made")


async def test_several_users_share_one_time_limit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Requests for several users run at once, all within the action's limit."""
    assert services.ACTION_TIMEOUT <= 10
    with (
        patch.object(coordinator, "API_TIMEOUT", 5),
        patch.object(services, "ACTION_TIMEOUT", 0.5),
    ):
        async with FakePbx() as pbx:
            await add_entry(hass, pbx, **entry_data())
            pbx.requests.clear()
            pbx.slow.add("/api/v1/User")
            users = [device(hass, extension) for extension in ("202", "203", "204")]
            waiting = hass.async_create_task(
                act(hass, "set_presence", device_id=users, status="dnd")
            )
            # All three are asked before any answer or time limit: at the same time.
            await wait_for_requests(pbx, "PUT", 3)
            freezer.tick(timedelta(seconds=1))
            async_fire_time_changed(hass)
            await hass.async_block_till_done()
            for _ in range(1000):  # letting the three requests go takes a few turns
                if waiting.done():
                    break
                await asyncio.sleep(0)
            assert waiting.done()
            with pytest.raises(HomeAssistantError) as caught:
                await waiting
            assert caught.value.translation_key == "pbx_cannot_connect"


async def test_the_time_limit_covers_every_request_of_an_action(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """hang_up asks twice; a slow second answer still ends the action in time."""
    with (
        patch.object(coordinator, "API_TIMEOUT", 5),
        patch.object(services, "ACTION_TIMEOUT", 0.5),
    ):
        async with FakePbx() as pbx:
            await add_entry(hass, pbx, **entry_data())
            pbx.calls["202"] = [FakeCall("a@pbx", "202", "203")]
            pbx.requests.clear()
            pbx.slow.add(HANGUP)
            waiting = hass.async_create_task(
                act(hass, "hang_up", device_id=device(hass, "202"))
            )
            await wait_for_requests(pbx, "POST", 1)
            freezer.tick(timedelta(seconds=1))
            async_fire_time_changed(hass)
            await hass.async_block_till_done()
            with pytest.raises(HomeAssistantError) as caught:
                await waiting
            assert caught.value.translation_key == "pbx_cannot_connect"
            assert caught.value.translation_placeholders == {"entry": "Office"}
