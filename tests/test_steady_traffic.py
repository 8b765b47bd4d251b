"""Under steady traffic, states that do not change are not written again."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from .common import ENTRY_ID, WildixSender, entity_id, load_event


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
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
