"""Call moments on the bus (`wildix_event`) and on each user's `calls` event entity."""

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from syrupy.assertion import SnapshotAssertion

from .calls import (
    INBOUND_ANSWERED,
    INBOUND_MISSED,
    INBOUND_MISSED_RECORDED,
    INTERNAL,
    OUTBOUND_LIVE,
)
from .common import ENTRY_ID, WildixSender, user_entity
from .moments import async_known_users

SCENARIOS = {
    "inbound_answered": INBOUND_ANSWERED,
    "inbound_missed": (*INBOUND_MISSED, INBOUND_MISSED_RECORDED),
    "outbound": OUTBOUND_LIVE,
    "internal": INTERNAL,
}


def attributes(state: State) -> dict[str, Any]:
    """Return a state's attributes as plain data, the same on every HA version."""
    return {str(key): value for key, value in state.attributes.items()}


def calls_state(hass: HomeAssistant, extension: str) -> State:
    """Return the state of a user's calls event entity."""
    state = hass.states.get(user_entity(hass, "event", extension, "calls"))
    assert state is not None
    return state


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_bus_events(
    hass: HomeAssistant,
    wildix: WildixSender,
    snapshot: SnapshotAssertion,
    scenario: str,
) -> None:
    """Each moment goes on the bus once, for the user's device, with the call's data."""
    devices = await async_known_users(hass, wildix, "201", "202", "203")
    events = async_capture_events(hass, "wildix_event")
    await wildix.post_all(*SCENARIOS[scenario])
    data: list[dict[str, Any]] = []
    for event in events:
        assert event.data["device_id"] == devices[event.data["extension"]]
        assert event.data["config_entry_id"] == ENTRY_ID
        data.append(
            {key: value for key, value in event.data.items() if key != "device_id"}
        )
    assert data == snapshot


async def test_event_entity_follows_the_moments(
    hass: HomeAssistant, wildix: WildixSender, snapshot: SnapshotAssertion
) -> None:
    """The calls entity shows when the user's last moment came, its type and data."""
    steps = (
        ("call_start_inbound", False),
        ("call_update_inbound_ringing", True),
        ("call_update_inbound_talking", True),
        ("call_update_inbound_hold", False),
        ("call_end_inbound_answered", True),
        ("call_live_completed_inbound", False),
    )
    shown = []
    before = None
    for name, fires in steps:
        await wildix.post(name)
        if (state := hass.states.get("event.alice_example_calls")) is None:
            continue
        when = dt_util.parse_datetime(state.state)
        assert when is not None
        if fires:
            assert abs(when - dt_util.utcnow()) < timedelta(milliseconds=2)
        else:
            assert state.state == getattr(before, "state", "unknown")
        before = state
        shown.append((name, attributes(state)))
    assert shown == snapshot


async def test_event_entity_names_what_it_shows(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Each event type and attribute the calls entity shows has an English name."""
    await wildix.post_all(*SCENARIOS["inbound_missed"])
    names = await async_get_translations(hass, "en", "entity", integrations=["wildix"])
    prefix = "component.wildix.entity.event.calls"
    state = calls_state(hass, "201")
    assert names.get(f"{prefix}.name") == "Calls"
    for event_type in state.attributes["event_types"]:
        key = f"{prefix}.state_attributes.event_type.state.{event_type}"
        assert names.get(key), key
    for attribute in attributes(state).keys() - {
        "event_type",
        "event_types",
        "friendly_name",
    }:
        key = f"{prefix}.state_attributes.{attribute}.name"
        assert names.get(key), key
    key = f"{prefix}.state_attributes.direction.state.{state.attributes['direction']}"
    assert names.get(key), key


async def test_event_entity_registry_and_restore(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """The entity is registered per user and keeps its last moment over a reload."""
    await wildix.post_all(*SCENARIOS["inbound_missed"])
    entity_id = user_entity(hass, "event", "201", "calls")
    entry = er.async_get(hass).async_get(entity_id)
    assert entry is not None
    assert entry.unique_id == f"{ENTRY_ID}_201_calls"
    assert entry.translation_key == "calls"
    before = calls_state(hass, "201")
    assert before.attributes["event_type"] == "call_ended"
    assert before.attributes["missed"] is True

    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    after = calls_state(hass, "201")
    assert (after.state, after.attributes) == (before.state, before.attributes)
    assert attributes(after) == snapshot
