"""The call log: a calendar of every finished call, callbacks that clear themselves, daily statistics."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from time import process_time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.const import EVENT_STATE_CHANGED, STATE_OFF, STATE_ON
from homeassistant.core import (
    Context,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from .calls import INBOUND_ANSWERED, INBOUND_MISSED, INTERNAL, OUTBOUND
from .common import ENTRY_ID, WildixSender, entity_id, load_event

MISSED_NUMBER = "+4940555777888"
ALICE = {
    "type": "LOCAL",
    "phone": "201",
    "name": "Alice Example",
    "email": "alice@example.com",
    "userId": "4401201",
    "userExtension": "201",
}


def _calendar(hass: HomeAssistant, extension: str = "201") -> str:
    return entity_id(hass, "calendar", f"{ENTRY_ID}_{extension}_call_log")


def _todo(hass: HomeAssistant, extension: str = "201") -> str:
    return entity_id(hass, "todo", f"{ENTRY_ID}_{extension}_callbacks")


def _sensor(hass: HomeAssistant, key: str, extension: str = "201") -> str:
    return entity_id(hass, "sensor", f"{ENTRY_ID}_{extension}_{key}")


def alice_calls_back(time_ms: int, number: str = MISSED_NUMBER) -> dict[str, Any]:
    """Return the end of a call Alice made to a number."""
    event = load_event("call_end_outbound", id=f"de_w204518_{time_ms // 1000}.9001")
    event["time"] = time_ms
    event["data"]["caller"] |= ALICE
    event["data"]["callee"] |= {"phone": number, "name": number}
    event["data"]["destination"] = number
    return event


def missed_again(time_ms: int, *, answered: bool = False) -> dict[str, Any]:
    """Return the end of another call from the missed number to Alice."""
    event = load_event(
        "call_end_inbound_missed", id=f"de_w204518_{time_ms // 1000}.9002"
    )
    event["time"] = time_ms
    if answered:
        event["data"] |= {"status": "TALKING", "endCause": "16"}
    return event


async def _events(hass: HomeAssistant, calendar: str, day: str) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {"start_date_time": f"{day}T00:00:00+00:00", "duration": {"hours": 48}},
        target={"entity_id": calendar},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    events: list[dict[str, Any]] = response[calendar]["events"]  # type: ignore[index,assignment]
    return events


async def _items(hass: HomeAssistant, todo: str) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        "todo",
        "get_items",
        target={"entity_id": todo},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    items: list[dict[str, Any]] = response[todo]["items"]  # type: ignore[index,assignment]
    return items


async def test_every_finished_call_is_an_event(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Alice's answered and missed calls are events with their outcome; Bob's are his."""
    await wildix.post_all(*INBOUND_ANSWERED, *OUTBOUND, *INBOUND_MISSED)
    events = await _events(hass, _calendar(hass), "2025-03-04")
    assert [event["summary"] for event in events] == [
        "Call with +4930555010203",
        f"Missed call from {MISSED_NUMBER}",
    ]
    answered, missed = events
    assert datetime.fromisoformat(answered["start"]) == datetime(
        2025, 3, 4, 9, 15, 0, 412000, tzinfo=UTC
    )
    assert "Answered" in answered["description"]
    assert "Talked for 1:02" in answered["description"]
    assert missed["description"].startswith("Missed")
    bob = await _events(hass, _calendar(hass, "202"), "2025-03-04")
    assert [event["summary"] for event in bob] == ["Call with +4989555123456"]
    # The calendar's state shows the latest call, over.
    assert hass.states.get(_calendar(hass)).state == STATE_OFF  # type: ignore[union-attr]


async def test_the_calendar_is_on_during_a_call(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """While Alice talks her call log is on, with the call as its event; then off."""
    await wildix.post_all(*INBOUND_ANSWERED[:3])
    state = hass.states.get(_calendar(hass))
    assert state is not None
    assert state.state == STATE_ON
    assert state.attributes["message"] == "Call with +4930555010203"
    await wildix.post_all(*INBOUND_ANSWERED[3:])
    assert hass.states.get(_calendar(hass)).state == STATE_OFF  # type: ignore[union-attr]


async def test_the_calendar_shows_a_call_over_in_one_change(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """As Alice's call ends, her call log goes from the call in progress to it, over.

    The hub tells the last call before the phone: the call is logged when the
    calendar sees the phone let go of it. Before, the order depended on the
    process's hash seed, and in one of two orders the calendar first showed no call
    (or the one before) and then this one: two writes.
    """
    await wildix.post_all(*INBOUND_ANSWERED[:3])
    calendar = _calendar(hass)
    shown: list[tuple[str, Any]] = []

    @callback
    def changed(event: Event[EventStateChangedData]) -> None:
        if event.data["entity_id"] == calendar and (new := event.data["new_state"]):
            shown.append((new.state, new.attributes.get("message")))

    hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
    await wildix.post_all(*INBOUND_ANSWERED[3:])

    assert shown == [(STATE_OFF, "Call with +4930555010203")]


async def test_a_missed_call_is_a_callback_until_alice_calls_back(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A second attempt updates the item; calling the number completes it."""
    await wildix.post_all(*INBOUND_MISSED)
    end = load_event("call_end_inbound_missed")["time"]
    await wildix.post(missed_again(end + 600_000))
    (item,) = await _items(hass, _todo(hass))
    assert item["summary"] == f"Call back {MISSED_NUMBER}"
    assert item["status"] == "needs_action"
    assert item["description"].startswith(f"{MISSED_NUMBER}: 2 missed")
    assert hass.states.get(_todo(hass)).state == "1"  # type: ignore[union-attr]
    # Written differently (00 instead of +), it is the same number.
    await wildix.post(alice_calls_back(end + 1_200_000, "004940555777888"))
    (item,) = await _items(hass, _todo(hass))
    assert item["status"] == "completed"
    assert hass.states.get(_todo(hass)).state == "0"  # type: ignore[union-attr]


async def test_answering_a_later_call_completes_the_callback(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """The caller tries again and Alice answers: nothing left to call back."""
    await wildix.post_all(*INBOUND_MISSED)
    end = load_event("call_end_inbound_missed")["time"]
    await wildix.post(missed_again(end + 600_000, answered=True))
    (item,) = await _items(hass, _todo(hass))
    assert item["status"] == "completed"


async def test_a_call_before_the_miss_completes_nothing(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Alice's call to the number earlier in the day is no callback."""
    end = load_event("call_end_inbound_missed")["time"]
    await wildix.post(alice_calls_back(end - 3_600_000))
    await wildix.post_all(*INBOUND_MISSED)
    (item,) = await _items(hass, _todo(hass))
    assert item["status"] == "needs_action"


async def test_callbacks_can_be_checked_renamed_and_deleted(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """The to-do features: update and delete; an unknown item is a clear error."""
    await wildix.post_all(*INBOUND_MISSED)
    todo = _todo(hass)
    (item,) = await _items(hass, todo)
    await hass.services.async_call(
        "todo",
        "update_item",
        {"item": item["uid"], "rename": "Ring the plumber", "status": "completed"},
        target={"entity_id": todo},
        blocking=True,
    )
    (item,) = await _items(hass, todo)
    assert (item["summary"], item["status"]) == ("Ring the plumber", "completed")
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "todo",
            "remove_item",
            {"item": ["nothing"]},
            target={"entity_id": todo},
            blocking=True,
        )
    await hass.services.async_call(
        "todo",
        "remove_item",
        {"item": [item["uid"]]},
        target={"entity_id": todo},
        blocking=True,
    )
    assert await _items(hass, todo) == []


async def test_only_alice_and_admins_edit_her_callbacks(
    hass: HomeAssistant,
    wildix: WildixSender,
    hass_read_only_user: User,
) -> None:
    """A user whose person is not linked to Alice may not edit her list."""
    await wildix.post_all(*INBOUND_MISSED)
    todo = _todo(hass)
    (item,) = await _items(hass, todo)
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            "todo",
            "update_item",
            {"item": item["uid"], "status": "completed"},
            target={"entity_id": todo},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    (item,) = await _items(hass, todo)
    assert item["status"] == "needs_action"


async def test_completed_callbacks_are_cleared_after_a_week(
    hass: HomeAssistant, wildix: WildixSender, freezer: FrozenDateTimeFactory
) -> None:
    """Seven days after completion the item is gone; open items stay."""
    await wildix.post_all(*INBOUND_MISSED)
    end = load_event("call_end_inbound_missed")["time"]
    await wildix.post(alice_calls_back(end + 60_000))
    for _ in range(8):
        freezer.tick(timedelta(days=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert await _items(hass, _todo(hass)) == []


async def test_outside_parties_stay_hidden(
    hass: HomeAssistant, wildix: WildixSender, setup_integration: MockConfigEntry
) -> None:
    """With outside parties hidden, summaries say so; colleagues are still named."""
    hass.config_entries.async_update_entry(
        setup_integration, options={**setup_integration.options, "show_remote": False}
    )
    await hass.async_block_till_done()
    await wildix.post_all(*INBOUND_MISSED, *INTERNAL)
    events = await _events(hass, _calendar(hass), "2025-03-04")
    assert [event["summary"] for event in events] == [
        "Missed call from an outside party"
    ]
    assert MISSED_NUMBER not in events[0]["description"]
    (item,) = await _items(hass, _todo(hass))
    assert item["summary"] == "Call back an outside party"
    assert MISSED_NUMBER not in item["description"]
    bob = await _events(hass, _calendar(hass, "202"), "2025-03-04")
    assert [event["summary"] for event in bob] == ["Call with Carol Example"]


async def test_internal_misses_follow_the_option(
    hass: HomeAssistant, wildix: WildixSender, setup_integration: MockConfigEntry
) -> None:
    """Carol's unanswered call is a callback for Bob only with missed_internal on."""
    await wildix.post_all(*INTERNAL)
    assert await _items(hass, _todo(hass, "202")) == []
    hass.config_entries.async_update_entry(
        setup_integration,
        options={**setup_integration.options, "missed_internal": True},
    )
    await hass.async_block_till_done()
    later = [load_event(name) for name in INTERNAL]
    for event in later:
        event["id"] += "0"
        event["time"] += 3_600_000
    await wildix.post_all(*later)
    (item,) = await _items(hass, _todo(hass, "202"))
    assert item["summary"] == "Call back Carol Example"


async def test_daily_statistics_count_today_and_restart_at_local_midnight(
    hass: HomeAssistant,
    wildix: WildixSender,
    freezer: FrozenDateTimeFactory,
    setup_integration: MockConfigEntry,
) -> None:
    """Berlin: two calls, one missed, 62 s talked; at 00:00 Berlin (23:00 UTC) all zero."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await wildix.post_all(*INBOUND_ANSWERED, *INBOUND_MISSED)
    calls = hass.states.get(_sensor(hass, "calls_today"))
    talk = hass.states.get(_sensor(hass, "talk_time_today"))
    assert calls is not None and talk is not None
    assert calls.state == "2"
    assert calls.attributes["state_class"] == "total_increasing"
    assert hass.states.get(_sensor(hass, "missed_calls_today")).state == "1"  # type: ignore[union-attr]
    assert float(talk.state) == pytest.approx(62 / 60, abs=0.01)
    assert talk.attributes["unit_of_measurement"] == "min"
    assert talk.attributes["device_class"] == "duration"
    freezer.move_to(datetime(2025, 3, 4, 22, 59, 59, tzinfo=UTC))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(_sensor(hass, "calls_today")).state == "2"  # type: ignore[union-attr]
    freezer.move_to(datetime(2025, 3, 4, 23, 0, 0, tzinfo=UTC))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    for key in ("calls_today", "missed_calls_today", "talk_time_today"):
        assert float(hass.states.get(_sensor(hass, key)).state) == 0  # type: ignore[union-attr]
    # Yesterday's calls stay in the calendar.
    assert len(await _events(hass, _calendar(hass), "2025-03-04")) == 2


async def test_the_log_and_the_callbacks_survive_a_restart(
    hass: HomeAssistant, wildix: WildixSender, setup_integration: MockConfigEntry
) -> None:
    """Reloading the entry keeps the calls, the callbacks and today's totals."""
    await wildix.post_all(*INBOUND_ANSWERED, *INBOUND_MISSED)
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    events = await _events(hass, _calendar(hass), "2025-03-04")
    assert len(events) == 2
    (item,) = await _items(hass, _todo(hass))
    assert item["summary"] == f"Call back {MISSED_NUMBER}"
    assert hass.states.get(_sensor(hass, "calls_today")).state == "2"  # type: ignore[union-attr]


async def test_a_month_of_calls_from_the_bounded_log(
    hass: HomeAssistant, wildix: WildixSender, setup_integration: MockConfigEntry
) -> None:
    """2,500 calls logged for Alice: 2,000 kept, a 30-day window answers all of them."""
    await wildix.post_all(*INBOUND_MISSED)
    history = setup_integration.runtime_data.call_history
    (missed,) = history.log("201")
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    # As a backfill adds them: a batch, oldest first.
    history.async_add_calls(
        "201",
        (
            replace(
                missed,
                call_id=f"call{number}",
                remote_number=f"+4930555{number:06}",
                started_ms=now_ms - (number + 1) * 900_000,
                ended_ms=now_ms - (number + 1) * 900_000 + 60_000,
            )
            for number in reversed(range(2500))
        ),
    )
    await hass.async_block_till_done()
    started = process_time()
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "start_date_time": datetime.now(UTC) - timedelta(days=30),
            "duration": {"days": 31},
        },
        target={"entity_id": _calendar(hass)},
        blocking=True,
        return_response=True,
    )
    elapsed = process_time() - started
    print(f"calendar.get_events, 30 days, 2,000 calls: {elapsed * 1000:.0f} ms")  # noqa: T201
    assert response is not None
    assert len(response[_calendar(hass)]["events"]) == 2000  # type: ignore[arg-type,index]
    # Each call was missed from a new number: the callbacks keep the newest 500.
    assert len(await _items(hass, _todo(hass))) == 500
