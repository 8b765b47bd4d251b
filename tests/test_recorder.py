"""What the recorder keeps: no Last event row per event, no attributes new with every call."""

from datetime import timedelta
from typing import Any

from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.wildix.views import CALL_UNRECORDED

from .common import ENTRY_ID, WildixSender, entity_id, user_entity


async def test_last_event_sensor_is_disabled_by_default(
    recorder_mock: Recorder, hass: HomeAssistant, wildix: WildixSender
) -> None:
    """The PBX's Last event sensor exists, disabled: it changes with nearly every event."""
    await wildix.post("presence_user_dnd")
    sensor = entity_id(hass, "sensor", f"{ENTRY_ID}_last_event")
    entry = er.async_get(hass).async_get(sensor)
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(sensor) is None


async def test_call_attributes_new_with_every_call_are_not_recorded(
    recorder_mock: Recorder, hass: HomeAssistant, wildix: WildixSender
) -> None:
    """The call's id, start, duration and files are shown but not recorded."""
    began = dt_util.utcnow() - timedelta(days=1)
    await wildix.post_all("call_start_inbound", "call_update_inbound_talking")
    phone = user_entity(hass, "sensor", "201", "phone")
    last_call = user_entity(hass, "sensor", "201", "last_call")
    calls = user_entity(hass, "event", "201", "calls")
    assert {"call_id", "started"} <= set(hass.states.get(phone).attributes)
    await wildix.post("call_end_inbound_answered")
    assert {"call_id", "duration"} <= set(hass.states.get(last_call).attributes)
    assert "call_id" in hass.states.get(calls).attributes

    await async_wait_recording_done(hass)
    history: dict[str, list[Any]] = await hass.async_add_executor_job(
        get_significant_states, hass, began, None, [phone, last_call, calls]
    )
    recorded = {
        name: set().union(*(state.attributes for state in history[name]))
        for name in (phone, last_call, calls)
    }
    for name, attributes in recorded.items():
        assert not attributes & set(CALL_UNRECORDED), name
        assert attributes, name
    assert "direction" in recorded[last_call]
