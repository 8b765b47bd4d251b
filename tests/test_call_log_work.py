"""Following calls costs little: each step is done once, not per entity or per delivery.

Each test drives the bench's mix of calls through the webhook for a few users and
counts a step the call log repeated before (issue 25), never a time.
"""

from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from homeassistant.components.calendar import DOMAIN as CALENDAR_DOMAIN, CalendarEvent
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.util.signal_type import SignalType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wildix import (
    calendar,
    call_history,
    call_log,
    call_names,
    callbacks,
    deliveries,
    hub as hub_module,
    inbox_hub,
    model,
    phone_numbers,
    signals,
    todo,
)
from custom_components.wildix.const import EVENT_CALL
from custom_components.wildix.model import Aspect, User

from .common import SECRET, START, WEBHOOK_ID, WildixSender, load_event
from .workload import Workload

USERS = ["201", "202", "203", "204"]


async def _add_users(hass: HomeAssistant, wildix: WildixSender) -> None:
    for extension in USERS:
        payload = load_event("presence_user_dnd")
        payload["data"]["extension"] = extension
        await wildix.post(payload, follow_clock=False)
    await hass.async_block_till_done()


def _count_log_changes(hass: HomeAssistant, entry: MockConfigEntry) -> Counter[str]:
    """Count the changes of the users' call logs (under "changes"), as they come."""
    history = entry.runtime_data.call_history
    counted: Counter[str] = Counter()

    @callback
    def log_changed() -> None:
        counted["changes"] += 1

    for extension in USERS:
        history.hub.signals.connect(history.signal_changed(extension), log_changed)
    return counted


class _Calls:
    """How often a function replaced by `_count_calls` was called."""

    count = 0


def _count_calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> _Calls:
    """Replace `owner.name` by a wrapper that counts its calls; return the count."""
    real = getattr(owner, name)
    calls = _Calls()

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.count += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


async def _drive(hass: HomeAssistant, wildix: WildixSender, seed: int) -> Counter[str]:
    """Send 300 deliveries of the mix; return the state changes by entity key."""
    if not hass.states.async_entity_ids("calendar"):
        await _add_users(hass, wildix)
    changes: Counter[str] = Counter()

    @callback
    def changed(event: Event) -> None:
        changes[event.data["entity_id"].rsplit("_", 1)[-1]] += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
    workload = Workload(
        SECRET, USERS, seed=seed, start_ms=int(START.timestamp() * 1000) + 60_000
    )
    for delivery in workload.mix(300):
        response = await wildix.client.post(
            f"/api/webhook/{WEBHOOK_ID}",
            data=delivery.body,
            headers={"x-signature": delivery.signature},
        )
        assert response.status == 200
    await hass.async_block_till_done()
    return changes


async def test_the_calendar_builds_an_event_only_to_show_a_new_one(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calendar looks at every change of its user's phone and call log.

    Home Assistant's `CalendarEvent` validates itself (a deep copy of its fields)
    when built: the calendar builds one only when what it shows changed. Before, it
    built one for every look: three to four times per change shown.
    """
    built = _count_calls(monkeypatch, calendar, "CallEvent")
    changes = await _drive(hass, wildix, seed=7)

    assert changes["log"] > 20  # calendar.*_call_log
    assert built.count > 0
    # One build per change shown (and none for the initial state without calls).
    assert built.count <= changes["log"]


async def test_the_calendar_shows_events_home_assistant_accepts_without_checking_each(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The calendar skips Home Assistant's check of its events, which pass it.

    The check (a copy of each field through a schema) cost more than all else the
    calendar did for a change. The calendar's events are valid as built; each event
    it shows, and each it lists, passes the check when run afterwards.
    """
    check = CalendarEvent.__post_init__
    checked = _count_calls(monkeypatch, CalendarEvent, "__post_init__")
    component = hass.data[CALENDAR_DOMAIN]
    shown: list[CalendarEvent] = []

    @callback
    def changed(event: Event) -> None:
        if event.data["entity_id"].startswith("calendar."):
            calendar_entity = component.get_entity(event.data["entity_id"])
            if calendar_entity.event is not None:
                shown.append(calendar_entity.event)

    hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
    changes = await _drive(hass, wildix, seed=9)
    assert changes["log"] > 20
    assert checked.count == 0
    listed = [
        event
        for entity_id in hass.states.async_entity_ids("calendar")
        for event in await component.get_entity(entity_id).async_get_events(
            hass, START - timedelta(days=1), START + timedelta(days=1)
        )
    ]
    assert len(listed) > 20
    for event in [*shown, *listed]:
        check(event)  # raises what Home Assistant would for an invalid event


async def test_a_number_is_parsed_once_however_often_it_calls(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Callbacks compare numbers in E.164: parsing one is the dearest step of a call's end.

    Parsed numbers are remembered, so each distinct number is parsed once; before,
    once per finished call of each party.
    """
    phone_numbers.number_key.cache_clear()
    parsed: Counter[str] = Counter()
    real = phone_numbers.phonenumbers.parse

    def counted(number: str, region: str | None = None) -> Any:
        parsed[number] += 1
        return real(number, region)

    monkeypatch.setattr(phone_numbers.phonenumbers, "parse", counted)
    changes = await _drive(hass, wildix, seed=8)

    assert changes["log"] > 20
    assert parsed, "outside numbers were compared"
    assert max(parsed.values()) == 1


async def test_a_days_totals_are_added_up_once_per_change(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The three daily sensors of a user show the same totals of their call log.

    The log adds them up once per change and hands the same totals to all three;
    before, each sensor went through the whole log (up to 2,000 calls) by itself.
    """
    await _add_users(hass, wildix)
    added = _count_calls(monkeypatch, call_log, "DayTotals")
    logs_changed = _count_log_changes(hass, setup_integration)
    changes = await _drive(hass, wildix, seed=9)

    assert changes["today"] > 20  # sensor.*_calls_today
    assert 20 < added.count <= logs_changed["changes"]


async def test_the_latest_call_is_found_once_per_change_of_the_log(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The calendar shows a user's latest call whenever their phone changes.

    The log remembers which call that is until it changes; before, every change of
    the phone went through the whole log (up to 2,000 calls) to find it.
    """
    await _add_users(hass, wildix)
    scans = 0

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal scans
        scans += "key" in kwargs  # a search of the log, not a max of two times
        return max(*args, **kwargs)

    monkeypatch.setattr(call_log, "max", counted, raising=False)
    logs_changed = _count_log_changes(hass, setup_integration)
    await _drive(hass, wildix, seed=10)

    assert logs_changed["changes"] > 20
    assert scans <= logs_changed["changes"]


async def test_the_callbacks_are_rendered_only_when_they_changed(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every finished call changes its user's call log; few change their callbacks.

    The to-do list renders its items (a summary and a description each) only when
    the callbacks, or the way they are shown, changed; before, at every change of
    the call log.
    """
    await _add_users(hass, wildix)
    built = _count_calls(monkeypatch, todo, "TodoItem")
    history = setup_integration.runtime_data.call_history
    shown: dict[str, tuple[object, ...]] = {}
    items_changed = 0

    def follow(extension: str) -> None:
        @callback
        def log_changed() -> None:
            nonlocal items_changed
            items = tuple(history.callback_list(extension).items.values())
            if items != shown.get(extension, ()):
                shown[extension] = items
                items_changed += len(items)

        history.hub.signals.connect(history.signal_changed(extension), log_changed)

    for extension in USERS:
        follow(extension)
    changes = await _drive(hass, wildix, seed=11)

    assert changes["log"] > 20
    assert 0 < built.count <= items_changed


async def test_the_calendar_looks_only_when_the_call_shown_may_have_changed(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most changes of a phone (a call's progress, the line's status) keep its call.

    The hub tells the calendar when the call a phone shows, or its other party,
    changed, and the call log when a call ended; before, the calendar looked at
    every change of the phone: more than three looks per change it showed.
    """
    looks = _count_calls(monkeypatch, calendar.WildixCallLogCalendar, "_update_event")
    changes = await _drive(hass, wildix, seed=12)

    assert changes["log"] > 20
    assert looks.count <= 2 * changes["log"]


async def test_what_automations_see_of_a_moment_is_worked_out_once(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call moment's data (names, privacy, files) is made once for its bus event and entity.

    Before, the calls event entity made it again from the moment: twice per moment.
    """
    made = _count_calls(monkeypatch, call_names, "moment_data")
    fired: list[Event] = []
    hass.bus.async_listen(EVENT_CALL, fired.append)
    changes = await _drive(hass, wildix, seed=10)

    assert len(fired) > 20
    assert changes["calls"] > 20  # the calls event entities (and missed calls sensors)
    assert made.count == len(fired)


async def test_a_finished_call_is_logged_once_at_its_end(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call that ends as its user's last call is logged through the last call alone.

    Its end is also a moment, which logs the calls that ended while another was the
    user's last (overlapping calls); before, it logged the last call again: two
    entries made for each call that ended.
    """
    made = _count_calls(monkeypatch, call_log.LoggedCall, "from_record")
    ended: list[Event] = []

    @callback
    def fired(event: Event) -> None:
        if event.data["type"] == "call_ended":
            ended.append(event)

    hass.bus.async_listen(EVENT_CALL, fired)
    await _drive(hass, wildix, seed=13)

    assert len(ended) > 20
    # Some calls are logged again later (refined by the history, or ended while
    # another was the user's last): 67 for 52 ends, against 105 before.
    assert made.count < 1.5 * len(ended)


async def test_the_to_do_list_reads_its_callbacks_only_when_they_changed(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The to-do list hears of every change of its user's call log; few change the callbacks.

    It tells by the callbacks' version whether they changed; before, it read every
    item (up to 500) to compare them with the ones shown, at every change of the log.
    """
    reads = 0
    items = callbacks.CallbackList.items

    def counted(callback_list: callbacks.CallbackList) -> Mapping[str, Any]:
        nonlocal reads
        reads += 1
        return items.fget(callback_list)  # type: ignore[no-any-return]

    monkeypatch.setattr(callbacks.CallbackList, "items", property(counted))
    changes = await _drive(hass, wildix, seed=14)

    assert changes["log"] > 20  # calendar.*_call_log
    assert changes["callbacks"] > 0  # todo.*_callbacks
    # The items are read once per change shown, and once as each list is first shown.
    assert reads <= changes["callbacks"] + len(USERS)


async def test_a_change_of_the_callbacks_renders_only_the_items_that_changed(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A missed call opens or counts on one item; the others keep their rendering.

    Items are replaced, never changed: the to-do list renders an item (a summary and
    a description, with a local time) only when it is new or was replaced; before,
    it rendered every item of the list at each change (up to 500).
    """
    await _add_users(hass, wildix)
    built = _count_calls(monkeypatch, todo, "TodoItem")
    history = setup_integration.runtime_data.call_history
    known: dict[str, dict[str, object]] = {extension: {} for extension in USERS}
    replaced = 0
    listed = 0

    def follow(extension: str) -> None:
        @callback
        def log_changed() -> None:
            nonlocal replaced, listed
            items = dict(history.callback_list(extension).items)
            if items != known[extension]:
                replaced += sum(
                    item is not known[extension].get(uid) for uid, item in items.items()
                )
                listed += len(items)
                known[extension] = items

        history.hub.signals.connect(history.signal_changed(extension), log_changed)

    for extension in USERS:
        follow(extension)
    changes = await _drive(hass, wildix, seed=16)

    assert changes["callbacks"] > 5
    assert 0 < built.count <= replaced < listed


async def test_the_calendar_renders_the_latest_call_once_per_change_of_it(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call's end is seen twice by its calendar: as the phone lets go, as the log takes it.

    The latest finished call is rendered (summary, description, names) once for
    each call that becomes the latest; before, at each look without a call in
    progress: about twice per call.
    """
    rendered = _count_calls(monkeypatch, calendar.WildixCallLogCalendar, "_shown_call")
    latest: dict[str, object] = {}
    became_latest = 0

    @callback
    def changed(event: Event) -> None:
        nonlocal became_latest
        entity_id = event.data["entity_id"]
        if entity_id.startswith("calendar.") and (state := event.data["new_state"]):
            shown = (state.attributes.get("message"), state.attributes.get("end_time"))
            if state.state == "off" and shown != latest.get(entity_id):
                latest[entity_id] = shown
                became_latest += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
    changes = await _drive(hass, wildix, seed=17)

    assert changes["log"] > 20
    # 43 renders for 59 calls shown as the latest, against 62 before.
    assert 0 < rendered.count <= became_latest


async def test_call_events_without_files_pass_the_inbox_by(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most call events carry no voicemail and no recording: the inbox only looks.

    Before, it read the clock and went through its bookkeeping for every call event.
    """
    bookkept = _count_calls(monkeypatch, inbox_hub.WildixInbox, "_async_changed")
    changes = await _drive(hass, wildix, seed=18)

    assert changes["calls"] > 20
    # Only the events with a file (voicemails: the voicemail sensors' changes).
    assert bookkept.count <= 2 * changes["voicemail"] + 2


async def test_a_phone_is_worked_out_once_per_change_of_it(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a user's phone shows is worked out once for all who show part of it.

    The phone sensor, the ringing and on-call sensors, the calendar and the hub
    look at it when it changed. Before, each worked it out for itself, the phone
    sensor twice: about four times per change.
    """
    await _add_users(hass, wildix)
    hub = setup_integration.runtime_data
    told: Counter[str] = Counter()
    for extension in USERS:
        hub.signals.connect(
            hub.signal_user(extension, Aspect.PHONE),
            partial(told.update, ("phone",)),
        )
    looks = _count_calls(monkeypatch, User, "phone")
    changes = await _drive(hass, wildix, seed=19)

    assert changes["phone"] > 20  # the phone sensors' state changes
    assert told["phone"] >= changes["phone"]
    assert looks.count <= told["phone"]


async def test_the_signals_of_a_user_are_made_once(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A delivery tells a few entities what changed, by signals made once per user.

    Before, each signal's name was put together again at every change it told.
    """
    made = 0

    def counted(name: str) -> SignalType[()]:
        nonlocal made
        made += 1
        return SignalType(name)

    for module in (hub_module, call_history, signals):
        monkeypatch.setattr(module, "SignalType", counted)
    await _add_users(hass, wildix)
    # Made as the users' entities start following them: a signal per user and
    # aspect at most, and their call log's, callbacks', today's totals' and call
    # moments'.
    assert 0 < made <= len(USERS) * (len(Aspect) + 4)
    made = 0
    changes = await _drive(hass, wildix, seed=20)

    assert sum(changes.values()) > 300
    assert made == 0


async def test_the_daily_sensors_are_told_todays_totals_once_when_they_changed(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A user's three daily sensors get the totals worked out once, when they changed.

    Before, each sensor worked them out for itself at every change of the call log
    (three looks per change), also when a change left today's totals as they were.
    """
    await _add_users(hass, wildix)
    looks = _count_calls(monkeypatch, call_history.CallHistory, "today")
    logs_changed = _count_log_changes(hass, setup_integration)
    changes = await _drive(hass, wildix, seed=21)

    assert changes["today"] > 20  # sensor.*_calls_today
    assert looks.count <= logs_changed["changes"]


async def test_a_delivery_touches_no_repair_issue_when_none_is_open(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A good delivery clears the issues bad deliveries raised, when there are any.

    Before, every delivery went through clearing two issues that were not open.
    """
    cleared = _count_calls(monkeypatch, deliveries.DeliveryLog, "async_clear")
    changes = await _drive(hass, wildix, seed=22)

    assert sum(changes.values()) > 300
    assert cleared.count == 0


async def test_a_reported_status_is_read_by_a_look_up(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Line and presence statuses are read from a table, not by calling their enum.

    An enum called with a value goes through its metaclass: before, that was the
    dearest step of a line status event in the model (a third of the mix).
    """
    called = Counter[str]()
    for name in ("PresenceStatus", "TelephonyStatus"):
        enum = getattr(model, name)

        def counted(value: str, name: str = name, enum: Any = enum) -> Any:
            called[name] += 1
            return enum(value)

        monkeypatch.setattr(model, name, counted)
    changes = await _drive(hass, wildix, seed=23)

    assert changes["phone"] > 20 and changes["presence"] > 5
    assert called.total() == 0


async def test_the_to_do_list_looks_only_when_the_callbacks_changed(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Most changes of a call log leave the callbacks as they were: the list need not look.

    The call log tells its calendar when the log changed and its to-do list when
    the callbacks did; before, both looked at every change of either.
    """
    await _add_users(hass, wildix)
    logs_changed = _count_log_changes(hass, setup_integration)
    looks = _count_calls(monkeypatch, todo.WildixCallbacksTodo, "_async_update_items")
    changes = await _drive(hass, wildix, seed=24)

    assert changes["callbacks"] > 0  # todo.*_callbacks
    # A look per change of the callbacks: far fewer than the changes of the log.
    assert 0 < looks.count < logs_changed["changes"] / 2
