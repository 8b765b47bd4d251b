"""Exactly once across restarts, and storage that is written only when something changed."""

from datetime import timedelta
from itertools import pairwise
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.wildix.const import EVENT_CALL, EVENT_WEBHOOK

from .common import ENTRY_ID, WildixSender, event_time, load_event, user_state
from .moto_sqs import SQS_ENTRY_ID, WildixQueueSender, poll, sqs_entity

STORE = f"wildix.{ENTRY_ID}"
MISSED = ("call_update_inbound_missed_ringing", "call_end_inbound_missed")


async def _reload(hass: HomeAssistant, entry_id: str) -> None:
    assert await hass.config_entries.async_reload(entry_id)
    await hass.async_block_till_done()


async def test_retried_call_events_after_a_restart_fire_nothing_again(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
) -> None:
    """Wildix retrying a missed call's update and end after a restart changes nothing."""
    moments = async_capture_events(hass, EVENT_CALL)
    for name in MISSED:
        await wildix.post(name)
    assert [event.data["type"] for event in moments] == [
        "incoming_call",
        "missed_call",
        "call_ended",
    ]
    calls = user_state(hass, "201", "calls")
    shown = (calls.state, calls.attributes)

    await _reload(hass, setup_integration.entry_id)
    for name in MISSED:
        # The very same bytes, then the same event stamped a second later.
        await wildix.post(name, follow_clock=False)
        time_ms = load_event(name)["time"] + 1000
        await wildix.post(name, follow_clock=False, time=time_ms)

    assert len(moments) == 3
    calls = user_state(hass, "201", "calls")
    assert (calls.state, calls.attributes) == shown
    assert user_state(hass, "201", "missed_calls").state == "1"
    assert line_idle(hass, "201")


def line_idle(hass: HomeAssistant, extension: str) -> bool:
    """Tell whether a user's phone is idle."""
    return bool(user_state(hass, extension, "phone").state == "idle")


async def test_duplicate_sqs_message_after_a_restart_is_dropped(
    hass: HomeAssistant,
    setup_sqs: MockConfigEntry,
    queue: WildixQueueSender,
    freezer: FrozenDateTimeFactory,
) -> None:
    """SQS delivering a message again after a restart fires neither raw nor call events."""
    raw = async_capture_events(hass, EVENT_WEBHOOK)
    moments = async_capture_events(hass, EVENT_CALL)
    # A jump of the frozen clock would time out the poll in flight.
    payloads = [await queue.send(name, follow_clock=False) for name in MISSED]
    await poll(hass, freezer)
    assert (len(raw), len(moments)) == (2, 3)

    await _reload(hass, SQS_ENTRY_ID)
    for payload in payloads:
        await queue.send(payload, follow_clock=False)
    await poll(hass, freezer)

    assert (len(raw), len(moments)) == (2, 3)
    assert setup_sqs.runtime_data.deliveries.counters["duplicate"] == 2
    missed = hass.states.get(sqs_entity(hass, "sensor", "201", "missed_calls"))
    assert missed is not None
    assert missed.state == "1"


def _writes(steps: list[object]) -> int:
    """Return how often the saved data was replaced between the recorded steps."""
    return sum(before is not after for before, after in pairwise(steps))


async def test_idle_entry_writes_nothing(
    hass: HomeAssistant,
    wildix: WildixSender,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Once saved, an entry without events leaves its storage file alone for hours."""
    await wildix.post("presence_user_dnd")
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    steps: list[object] = [hass_storage[STORE]]
    for _ in range(180):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        steps.append(hass_storage[STORE])
    assert _writes(steps) == 0


async def test_steady_traffic_writes_once_per_save_interval(
    hass: HomeAssistant,
    wildix: WildixSender,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """An event every two seconds for two minutes is saved at most every ten seconds."""
    event = load_event("presence_user_dnd")
    time_ms = event["time"]
    freezer.move_to(event_time(event))
    steps: list[object] = [hass_storage.get(STORE)]
    for _ in range(60):
        time_ms += 2000
        await wildix.post("presence_user_dnd", time=time_ms, follow_clock=False)
        freezer.tick(2)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        steps.append(hass_storage.get(STORE))
    assert 10 <= _writes(steps) <= 120 / 10 + 1
    freezer.tick(10)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass_storage[STORE]["data"]["users"][0]["presence_ms"] == time_ms
