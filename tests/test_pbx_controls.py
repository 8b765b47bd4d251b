"""Controls of the PBX: dialplan switches and selects, each user's do not disturb.

Through Home Assistant's services against the fake PBX over HTTP on loopback.
"""

import asyncio
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_platform,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.wildix.const import DOMAIN
from custom_components.wildix.coordinator import MAX_SWITCHES
from custom_components.wildix.model import MAX_USERS

from .common import ENTRY_ID, SECRET, WEBHOOK_ID, WildixSender, entry_data, load_event
from .fake_pbx import FakePbx
from .surface import snapshot_platform
from .test_pbx_api import asked, later, time_out

SWITCHES = "/api/v1/Dialplan/Switches"
NIGHT = "switch.wildix_nightservice"
OFFICE = "select.wildix_officemode"


@pytest.fixture
def config_entry(hass: HomeAssistant, pbx: FakePbx) -> MockConfigEntry:
    """Return the test entry, connected to the fake PBX's API."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Wildix",
        entry_id=ENTRY_ID,
        data=entry_data(pbx_url=pbx.url, api_token=pbx.token, verify_ssl=True),
    )
    entry.add_to_hass(hass)
    return entry


async def call(
    hass: HomeAssistant, domain: str, service: str, entity_id: str, **data: Any
) -> None:
    """Call an entity service as the UI or an automation does, and wait for it."""
    await hass.services.async_call(
        domain, service, {"entity_id": entity_id, **data}, blocking=True
    )


def shown(hass: HomeAssistant, entity_id: str) -> str:
    """Return an entity's state."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


def dnd(extension: str) -> str:
    """Return the entity id of a directory user's do not disturb."""
    names = {
        "201": "alice_martin",
        "202": "bruno_keller",
        "203": "chiara_rossi",
        "204": "reception",
    }
    return f"switch.{names[extension]}_do_not_disturb"


def writes(pbx: FakePbx, path: str) -> list[Any]:
    """Return the bodies of the PUTs the fake PBX received on a path."""
    return [
        body
        for method, asked_path, _, body in pbx.requests
        if method == "PUT" and asked_path.rstrip("/") == path
    ]


async def test_switches_are_named_by_the_pbx(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A two-state switch is a switch, a tree switch a select, on the PBX device."""
    registry = er.async_get(hass)
    night = registry.async_get(NIGHT)
    office = registry.async_get(OFFICE)
    assert night is not None and office is not None
    assert night.unique_id == f"{ENTRY_ID}_switch_1"
    assert office.unique_id == f"{ENTRY_ID}_switch_2"
    assert (night.original_name, office.original_name) == ("NightService", "OfficeMode")
    assert night.device_id == office.device_id
    assert night.device_id is not None
    pbx_device = dr.async_get(hass).async_get(night.device_id)
    assert pbx_device is not None
    assert pbx_device.identifiers == {(DOMAIN, ENTRY_ID)}
    assert shown(hass, NIGHT) == STATE_OFF
    state = hass.states.get(OFFICE)
    assert state is not None
    assert state.state == "0"
    assert state.attributes["options"] == ["0", "1", "2"]
    assert state.attributes["friendly_name"] == "Wildix OfficeMode"


async def test_switch_and_select_write_to_the_pbx(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx
) -> None:
    """Turning on and off and choosing a state reach the PBX with the title it wants."""
    await call(hass, "switch", "turn_on", NIGHT)
    assert pbx.switches[1].state == 1
    assert shown(hass, NIGHT) == STATE_ON
    assert writes(pbx, f"{SWITCHES}/1") == [{"title": "NightService", "state": 1}]

    await call(hass, "switch", "turn_off", NIGHT)
    assert pbx.switches[1].state == 0
    assert shown(hass, NIGHT) == STATE_OFF

    await call(hass, "select", "select_option", OFFICE, option="2")
    assert pbx.switches[2].state == 2
    assert shown(hass, OFFICE) == "2"
    assert writes(pbx, f"{SWITCHES}/2") == [{"title": "OfficeMode", "state": 2}]


async def test_polls_show_changes_made_on_the_pbx(
    hass: HomeAssistant,
    wildix: WildixSender,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every minute the PBX's switches are read again: state, title and new switches."""
    pbx.switches[1].state = 1
    pbx.switches[1].title = "Night"
    pbx.switches[2].state = 1
    pbx.add_switch("Holiday", state=1)

    await later(hass, freezer, 30)
    assert shown(hass, NIGHT) == STATE_OFF

    await later(hass, freezer, 31)
    state = hass.states.get(NIGHT)
    assert state is not None
    assert state.state == STATE_ON
    assert state.attributes["friendly_name"] == "Wildix Night"
    assert shown(hass, OFFICE) == "1"
    assert shown(hass, "switch.wildix_holiday") == STATE_ON


async def test_switches_removed_on_the_pbx_leave_the_registry(
    hass: HomeAssistant,
    wildix: WildixSender,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A switch the PBX no longer lists is removed; one that became a tree is a select."""
    registry = er.async_get(hass)
    del pbx.switches[1]
    pbx.switches[2].states = 2  # no longer a tree

    await later(hass, freezer, 61)

    assert registry.async_get(NIGHT) is None
    assert hass.states.get(NIGHT) is None
    assert registry.async_get(OFFICE) is None
    office = registry.async_get_entity_id("switch", DOMAIN, f"{ENTRY_ID}_switch_2")
    assert office == "switch.wildix_officemode"
    assert shown(hass, office) == STATE_OFF


async def test_switches_left_over_from_a_previous_run_are_removed(
    hass: HomeAssistant,
    pbx: FakePbx,
    config_entry: MockConfigEntry,
) -> None:
    """A switch deleted on the PBX while Home Assistant was stopped does not linger."""
    er.async_get(hass).async_get_or_create(
        "switch",
        DOMAIN,
        f"{ENTRY_ID}_switch_9",
        config_entry=config_entry,
        suggested_object_id="wildix_gone",
        translation_key="dialplan_switch",
    )
    assert await async_setup_component(hass, "webhook", {})
    assert await hass.config_entries.async_setup(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert er.async_get(hass).async_get("switch.wildix_gone") is None
    assert shown(hass, NIGHT) == STATE_OFF


@pytest.mark.parametrize(
    ("breakage", "key", "words"),
    [
        (
            lambda pbx: pbx.failing.update({f"{SWITCHES}/1": 400}),
            "pbx_refused",
            "refused the request for NightService (HTTP 400)",
        ),
        (
            lambda pbx: pbx.missing.add(f"{SWITCHES}/1"),
            "switch_not_found",
            "does not offer the switch NightService: it answered 404",
        ),
        (
            lambda pbx: pbx.failing.update({f"{SWITCHES}/1": 503}),
            "pbx_cannot_connect",
            "Could not reach the PBX of Wildix",
        ),
        (
            lambda pbx: pbx.failing.update({f"{SWITCHES}/1": 403}),
            "switch_forbidden",
            "change the switch NightService. That needs a Simple token of a PBX admin",
        ),
        (
            lambda pbx: pbx.raw.update({f"{SWITCHES}/1": (302, b"<html>", "text/html")}),
            "pbx_unexpected_answer",
            "does not understand",
        ),
    ],
)  # fmt: skip
@pytest.mark.usefixtures("wildix")
async def test_refused_switch_write_is_an_error_and_shows_the_pbx_state(
    hass: HomeAssistant,
    pbx: FakePbx,
    breakage: Any,
    key: str,
    words: str,
) -> None:
    """A write the PBX does not take raises a translated error; the switch shows off again."""
    breakage(pbx)
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", "turn_on", NIGHT)
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_key == key
    assert words in str(raised.value)
    assert shown(hass, NIGHT) == STATE_OFF
    assert pbx.switches[1].state == 0


async def test_refused_token_on_a_write_asks_for_a_new_one(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx
) -> None:
    """A 401 on a write says the token is refused and starts reauthentication at once."""
    pbx.token = "access_renewed0123456789"
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "select", "select_option", OFFICE, option="1")
    assert raised.value.translation_key == "pbx_token_refused"
    assert shown(hass, OFFICE) == "0"

    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_slow_write_shows_the_new_state_then_times_out(
    hass: HomeAssistant,
    wildix: WildixSender,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The switch shows the new state while the PBX is asked; no answer in time: back."""
    pbx.slow.add(f"{SWITCHES}/1")
    writing = asyncio.ensure_future(call(hass, "switch", "turn_on", NIGHT))
    await asked(pbx, f"{SWITCHES}/1")
    assert shown(hass, NIGHT) == STATE_ON

    await time_out(hass, freezer, pbx, f"{SWITCHES}/1")
    with pytest.raises(HomeAssistantError) as raised:
        await writing
    assert raised.value.translation_key == "pbx_cannot_connect"
    assert shown(hass, NIGHT) == STATE_OFF


async def test_state_out_of_range_is_refused_by_the_pbx(
    hass: HomeAssistant,
    wildix: WildixSender,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A tree switch reporting state 4 offers states up to 4; the PBX refuses 3."""
    pbx.switches[2].states = 5
    pbx.switches[2].state = 4
    await later(hass, freezer, 61)
    state = hass.states.get(OFFICE)
    assert state is not None
    assert state.attributes["options"] == ["0", "1", "2", "3", "4"]

    pbx.switches[2].states = 3
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "select", "select_option", OFFICE, option="3")
    assert raised.value.translation_key == "pbx_refused"
    assert "(HTTP 400)" in str(raised.value)
    assert "state must be within valid range" not in str(raised.value)
    assert shown(hass, OFFICE) == "4"


@pytest.mark.parametrize(
    ("status", "log"),
    [
        (404, "feature switches is off: missing (HTTP 404"),
        (403, "feature switches is off: refused (HTTP 403)"),
    ],
)
@pytest.mark.usefixtures("config_entry")
async def test_pbx_without_switches_has_none(
    hass: HomeAssistant,
    pbx: FakePbx,
    caplog: pytest.LogCaptureFixture,
    status: int,
    log: str,
) -> None:
    """A 404 route, or a token without rights to it, turns the switches off once."""
    pbx.failing[SWITCHES] = status
    assert await async_setup_component(hass, "webhook", {})
    assert await hass.config_entries.async_setup(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert hass.states.get(NIGHT) is None
    assert hass.states.get(OFFICE) is None
    assert shown(hass, dnd("201")) == STATE_UNKNOWN
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len([r for r in pbx.requests if r[1] == SWITCHES]) == 1
    assert caplog.text.count(log) == 1
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"missing_permission_{ENTRY_ID}_switches"
    )
    assert issue is not None
    assert issue.translation_key == "missing_permission"
    assert issue.translation_placeholders["feature"] == "switches"
    assert issue.translation_placeholders["needs"] == "an admin's token"


@pytest.mark.usefixtures("config_entry")
async def test_switches_appear_when_a_pbx_down_at_start_answers(
    hass: HomeAssistant, pbx: FakePbx, freezer: FrozenDateTimeFactory
) -> None:
    """A PBX unreachable while Home Assistant starts: its switches come with its answer."""
    pbx.failing["/api/v1"] = 503
    assert await async_setup_component(hass, "webhook", {})
    assert await hass.config_entries.async_setup(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(NIGHT) is None

    pbx.heal()
    # The 503 made the polls back off: the next one is two minutes away.
    await later(hass, freezer, 121)
    assert shown(hass, NIGHT) == STATE_OFF
    assert shown(hass, OFFICE) == "0"


async def test_switches_unavailable_while_their_poll_fails(
    hass: HomeAssistant,
    wildix: WildixSender,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
) -> None:
    """5xx answers to the poll: the switches are unavailable, and back with the PBX."""
    pbx.failing[SWITCHES] = 503
    await later(hass, freezer, 61)
    assert shown(hass, NIGHT) == STATE_UNAVAILABLE
    assert shown(hass, OFFICE) == STATE_UNAVAILABLE
    pbx.heal()
    # A 503 makes the polls back off: the next one is two minutes away.
    await later(hass, freezer, 61)
    assert shown(hass, NIGHT) == STATE_UNAVAILABLE
    await later(hass, freezer, 61)
    assert shown(hass, NIGHT) == STATE_OFF


async def test_dnd_follows_presence_events(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A user's do not disturb is unknown until a presence event tells it."""
    entity_id = er.async_get(hass).async_get_entity_id(
        "switch", DOMAIN, f"{ENTRY_ID}_201_dnd"
    )
    assert entity_id == dnd("201")
    assert shown(hass, entity_id) == STATE_UNKNOWN

    await wildix.post("presence_user_dnd")
    assert shown(hass, entity_id) == STATE_ON

    await wildix.post("presence_user_available")
    assert shown(hass, entity_id) == STATE_OFF


async def test_dnd_sets_the_presence_on_the_pbx(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx
) -> None:
    """On sets dnd, off sets available; shown at once, until the next presence event."""
    await call(hass, "switch", "turn_on", dnd("202"))
    assert pbx.users["202"].presence == "dnd"
    assert writes(pbx, "/api/v1/User/202/Presence") == [
        {"status": "dnd", "message": ""}
    ]
    assert shown(hass, dnd("202")) == STATE_ON

    await call(hass, "switch", "turn_off", dnd("202"))
    assert pbx.users["202"].presence == ""
    assert shown(hass, dnd("202")) == STATE_OFF

    event = load_event("presence_user_dnd")
    event["data"]["extension"] = "202"
    await wildix.post(event)
    assert shown(hass, dnd("202")) == STATE_ON


async def test_own_dnd_uses_the_own_presence_route(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx
) -> None:
    """The token's own user (201) sets their presence through Personal/Presence."""
    pbx.admin = False
    await call(hass, "switch", "turn_on", dnd("201"))
    assert pbx.users["201"].presence == "dnd"
    assert writes(pbx, "/api/v1/Personal/Presence") == [
        {"status": "dnd", "message": ""}
    ]
    assert writes(pbx, "/api/v1/User/201/Presence") == []


async def test_whose_token_is_asked_once(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx
) -> None:
    """The probe at setup learns whose token it is; presence writes do not ask again."""
    info = "/api/v1/personal/info"
    assert [r[1] for r in pbx.requests].count(info) == 1
    pbx.failing[info] = 503
    await call(hass, "switch", "turn_on", dnd("201"))
    await call(hass, "switch", "turn_off", dnd("202"))
    await call(hass, "switch", "turn_off", dnd("201"))
    assert [r[1] for r in pbx.requests].count(info) == 1
    assert len(writes(pbx, "/api/v1/Personal/Presence")) == 2
    assert len(writes(pbx, "/api/v1/User/202/Presence")) == 1


async def test_refused_token_on_a_dnd_write(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx
) -> None:
    """A token the PBX no longer accepts: the translated error says so."""
    pbx.token = "access_renewed0123456789"
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", "turn_on", dnd("202"))
    assert raised.value.translation_key == "pbx_token_refused"
    assert "Enter a new one" in str(raised.value)
    assert shown(hass, dnd("202")) == STATE_UNKNOWN


async def test_dnd_of_another_user_needs_an_admin_credential(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx
) -> None:
    """A token of a plain user may not set a colleague's presence: a translated error."""
    await wildix.post("presence_user_available")
    pbx.admin = False
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", "turn_on", dnd("204"))
    # The refusal turns the feature off alone, with a repair issue.
    assert raised.value.translation_key == "missing_permission"
    assert "may not use presence_others: it needs an admin's token" in str(raised.value)
    assert pbx.users["204"].presence == ""
    assert shown(hass, dnd("204")) == STATE_UNKNOWN
    assert ir.async_get(hass).async_get_issue(
        DOMAIN, f"missing_permission_{ENTRY_ID}_presence_others"
    )
    # Asked no more: the feature is off.
    count = len(pbx.requests)
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", "turn_on", dnd("203"))
    assert raised.value.translation_key == "missing_permission"
    assert len(pbx.requests) == count
    # The own user's presence is another feature, still on.
    await call(hass, "switch", "turn_on", dnd("201"))
    assert pbx.users["201"].presence == "dnd"


async def test_refused_dnd_shows_the_reported_presence_again(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx
) -> None:
    """A presence the PBX does not set: a translated error, the last reported state."""
    await wildix.post("presence_user_dnd")
    pbx.failing["/api/v1/Personal/Presence"] = 503
    with pytest.raises(HomeAssistantError) as raised:
        await call(hass, "switch", "turn_off", dnd("201"))
    assert raised.value.translation_key == "pbx_cannot_connect"
    assert shown(hass, dnd("201")) == STATE_ON


async def test_dnd_of_an_extension_the_api_cannot_name_is_an_error(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx
) -> None:
    """Events may name extensions with * or #, which no API route takes: an error, no write."""
    event = load_event("presence_user_dnd")
    event["data"]["extension"] = "*8"
    await wildix.post(event)
    entity_id = er.async_get(hass).async_get_entity_id(
        "switch", DOMAIN, f"{ENTRY_ID}_*8_dnd"
    )
    assert entity_id is not None
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, "switch", "turn_off", entity_id)
    assert raised.value.translation_key == "invalid_extension"
    assert shown(hass, entity_id) == STATE_ON
    assert not [r for r in pbx.requests if r[0] == "PUT"]


async def test_the_user_limit_leaves_room_for_every_entity(
    hass: HomeAssistant, wildix: WildixSender, pbx: FakePbx
) -> None:
    """With the connection, the most users and switches stay below Home Assistant's limit."""
    registry = er.async_get(hass)
    devices = dr.async_get(hass)
    per_device: dict[str, int] = {}
    for entity in er.async_entries_for_config_entry(registry, ENTRY_ID):
        if entity.translation_key == "dialplan_switch":
            continue
        device = devices.async_get(entity.device_id or "")
        assert device is not None and device.name is not None
        per_device[device.name] = per_device.get(device.name, 0) + 1
    per_user = per_device["Alice Martin"]
    assert per_user == 15
    limit = getattr(entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 10_000)
    assert MAX_USERS * per_user + per_device["Wildix"] + MAX_SWITCHES <= limit


async def test_only_so_many_switches_are_shown(
    hass: HomeAssistant,
    pbx: FakePbx,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A PBX with more switches than fit: the first are shown, and that is logged once."""
    for number in range(MAX_SWITCHES):
        pbx.add_switch(f"Extra{number}")
    assert await async_setup_component(hass, "webhook", {})
    assert await hass.config_entries.async_setup(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    await later(hass, freezer, 61)

    switches = [
        entity
        for entity in er.async_entries_for_config_entry(er.async_get(hass), ENTRY_ID)
        if entity.translation_key == "dialplan_switch"
    ]
    assert len(switches) == MAX_SWITCHES
    assert hass.states.get(OFFICE) is not None
    assert caplog.text.count(f"only the first {MAX_SWITCHES} are shown") == 1


async def test_no_connection_no_controls(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without a PBX API connection there are no switches, selects or do not disturb."""
    entry = MockConfigEntry(
        domain=DOMAIN, title="Wildix", entry_id=ENTRY_ID, data=entry_data()
    )
    entry.add_to_hass(hass)
    assert await async_setup_component(hass, "webhook", {})
    assert await hass.config_entries.async_setup(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    wildix = WildixSender(
        hass, await hass_client_no_auth(), freezer, WEBHOOK_ID, SECRET
    )
    await wildix.post("presence_user_dnd")

    platforms = {
        e.domain
        for e in er.async_entries_for_config_entry(er.async_get(hass), ENTRY_ID)
    }
    assert platforms == {"binary_sensor", "calendar", "event", "sensor", "todo"}


async def test_switch_surface(
    hass: HomeAssistant,
    wildix: WildixSender,
    pbx: FakePbx,
    snapshot: SnapshotAssertion,
) -> None:
    """Every switch: the PBX's night service on, Alice in do not disturb."""
    pbx.switches[1].state = 1
    await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)
    await wildix.post("presence_user_dnd")
    snapshot_platform(hass, snapshot, "switch")


async def test_select_surface(
    hass: HomeAssistant, wildix: WildixSender, snapshot: SnapshotAssertion
) -> None:
    """The PBX's tree switch as a select of its states."""
    snapshot_platform(hass, snapshot, "select")
