"""Under steady traffic: the model is still saved, and unchanged states are not rewritten."""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory

from custom_components.wildix.const import SAVE_DELAY
from homeassistant.core import HomeAssistant

from pytest_homeassistant_custom_component.common import async_fire_time_changed

from .common import ENTRY_ID, WildixSender, entity_id, load_event


async def test_the_model_is_saved_while_events_keep_coming(
    hass: HomeAssistant,
    wildix: WildixSender,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """An event every few seconds must not postpone the save for ever."""
    key = f"wildix.{ENTRY_ID}"
    event = load_event("presence_user_dnd")
    for step in range(8):
        event["time"] += 5000
        await wildix.post(dict(event), follow_clock=False)
        freezer.tick(timedelta(seconds=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        if (step + 1) * 5 > SAVE_DELAY + 5:
            break
    assert key in hass_storage
    saved = hass_storage[key]["data"]["users"]
    assert [user["extension"] for user in saved] == ["201"]


async def test_last_event_is_written_once_a_second_at_most(
    hass: HomeAssistant, wildix: WildixSender, freezer: FrozenDateTimeFactory
) -> None:
    """Events within the same second leave the last event sensor alone."""
    sensor = entity_id(hass, "sensor", f"{ENTRY_ID}_last_event")
    event = load_event("presence_user_dnd")
    await wildix.post(dict(event), follow_clock=False)
    first = hass.states.get(sensor)
    assert first is not None
    reported = first.last_reported

    freezer.tick(timedelta(milliseconds=300))
    event["time"] += 300
    await wildix.post(dict(event), follow_clock=False)
    same = hass.states.get(sensor)
    assert same is not None
    assert same.last_reported == reported
    assert same.state == first.state

    freezer.tick(timedelta(seconds=1))
    event["time"] += 1000
    await wildix.post(dict(event), follow_clock=False)
    later = hass.states.get(sensor)
    assert later is not None
    assert later.state != first.state
