"""The call log's and the inbox's saves: within the delay under steady traffic, a few users at a time.

The model's saves are in test_restore.py. Counts, never times: a callback that
reschedules itself counts the event loop's turns, and each call or item encoded
or restored is stamped with the turn it was in.
"""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wildix import call_log_store, inbox_store
from custom_components.wildix.call_log import LoggedCall, UserCallLog
from custom_components.wildix.call_log_store import SAVE_DELAY as CALL_LOG_DELAY
from custom_components.wildix.const import DOMAIN, SAVE_DELAY
from custom_components.wildix.inbox import Inbox
from custom_components.wildix.sliced_store import encode_all

from .common import ENTRY_ID, START, WildixSender, entity_id, hub_of
from .inbox_events import voicemail_completed

CALL_LOG = f"{DOMAIN}.{ENTRY_ID}.call_log"
INBOX = f"{DOMAIN}.{ENTRY_ID}.inbox"
START_MS = int(START.timestamp() * 1000)
# Enough calls for a save in several slices (three users' logs fit in one), and for
# a restore one user at a time.
LOG_USERS = 7
LOG_CALLS = 1500
# Enough items for a save in two slices: a full inbox, 100 voicemails and 200 recordings.
INBOX_USERS = 7
INBOX_ITEMS = 300


class LoopTurns:
    """Counts the event loop's turns with a callback that reschedules itself."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Count nothing yet."""
        self.count = 0
        self._hass = hass
        self._running = False

    @contextmanager
    def counting(self) -> Iterator[None]:
        """Count the turns while inside."""
        self._running = True
        self._tick()
        try:
            yield
        finally:
            self._running = False

    def _tick(self) -> None:
        self.count += 1
        if self._running:
            self._hass.loop.call_soon(self._tick)


def voicemail(number: int) -> dict[str, Any]:
    """Return the end of the number-th missed call that left Alice a voicemail."""
    return voicemail_completed(
        None,
        shape="flag",
        call_id=f"de_w204518_1741082520.{number}",
        time_ms=START_MS + number * 5000,
    )


def saved_call(extension: str, number: int) -> list[Any]:
    """Return a call as the call log stores it (a row): one every 10 minutes back."""
    started = START_MS - (number + 1) * 600_000
    return [
        f"de_w204518_{started // 1000}.{extension}{number}",  # call id
        "inbound",  # direction
        False,  # outgoing
        "+4940555777888",  # remote number
        None,  # remote name
        False,  # remote is local
        started,
        started + 60_000,  # ended
        True,  # answered
        False,  # missed
        55.0,  # talk seconds
        extension,  # answered by
        False,  # voicemail
        False,  # recording
        "live",  # source
    ]


def saved_item(extension: str, number: int) -> dict[str, Any]:
    """Return an inbox item as saved: a voicemail or recording every minute back."""
    return {
        "id": f"{extension}_{number}",
        "kind": "voicemail" if number < 100 else "recording",
        "extension": extension,
        "time_ms": START_MS - number * 60_000,
        "call_id": f"de_w204518_1741079000.{number}",
        "url": None,
        "name": None,
        "remote_number": "+4940555777888",
        "remote_name": None,
        "remote_local": False,
        "duration": 12.0,
        "read": False,
        "message_id": None,
        "unplayable": None,
        "time_zone_free": False,
    }


def _stored(key: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    """Return what Home Assistant's storage keeps for a key."""
    return {"version": version, "minor_version": 1, "key": key, "data": data}


@pytest.fixture
def saved_logs(hass_storage: dict[str, Any]) -> list[str]:
    """Save full call logs of users, enough for a save in several slices."""
    extensions = [str(300 + number) for number in range(LOG_USERS)]
    hass_storage[CALL_LOG] = _stored(
        CALL_LOG,
        2,
        {
            "calls": {
                extension: [saved_call(extension, n) for n in range(LOG_CALLS)]
                for extension in extensions
            },
            "callbacks": {},
        },
    )
    return extensions


@pytest.fixture
def saved_inboxes(hass_storage: dict[str, Any]) -> list[str]:
    """Save full inboxes of users, enough for a save in two slices."""
    extensions = [str(300 + number) for number in range(INBOX_USERS)]
    hass_storage[INBOX] = _stored(
        INBOX,
        1,
        {
            "users": {
                extension: [saved_item(extension, n) for n in range(INBOX_ITEMS)]
                for extension in extensions
            },
            "announced": ["201_0"],
        },
    )
    return extensions


async def test_saved_under_steady_traffic(
    hass: HomeAssistant,
    wildix: WildixSender,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A voicemail every 5 s: the log and the inbox are written within the delay anyway.

    Home Assistant's delayed save starts its delay again at every change, so
    under steady traffic it would write nothing until Home Assistant stops.
    """
    for number in range(int(CALL_LOG_DELAY) // 5 + 2):
        await wildix.post(voicemail(number), follow_clock=False)
        freezer.tick(5)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    (calls,) = hass_storage[CALL_LOG]["data"]["calls"].values()
    assert "de_w204518_1741082520.0" in str(calls)
    (items,) = hass_storage[INBOX]["data"]["users"].values()
    assert "de_w204518_1741082520.0" in {item["call_id"] for item in items}


async def test_what_changed_just_before_home_assistant_stops_is_saved(
    hass: HomeAssistant, wildix: WildixSender, hass_storage: dict[str, Any]
) -> None:
    """Home Assistant's final write saves the log and the inbox the delay had not saved yet."""
    await wildix.post(voicemail(0))
    assert CALL_LOG not in hass_storage
    assert INBOX not in hass_storage

    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()

    (calls,) = hass_storage[CALL_LOG]["data"]["calls"].values()
    assert len(calls) == 1
    (items,) = hass_storage[INBOX]["data"]["users"].values()
    assert [item["call_id"] for item in items] == ["de_w204518_1741082520.0"]


async def test_a_call_log_save_lets_the_event_loop_run_between_a_few_users(
    hass: HomeAssistant,
    saved_logs: list[str],
    wildix: WildixSender,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """However many calls, a save encodes at most SAVE_SLICE before others get a turn."""
    turns = LoopTurns(hass)
    encoded_in_turn: Counter[int] = Counter()

    def counting(kind: str, items: list[Any]) -> Any:
        if kind == "logged call":
            encoded_in_turn[turns.count] += len(items)
        return encode_all(kind, items)

    await wildix.post(voicemail(0))
    with turns.counting(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(call_log_store, "encode_all", counting)
        freezer.tick(CALL_LOG_DELAY + 1)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    saved = hass_storage[CALL_LOG]["data"]["calls"]
    assert set(saved) == {*saved_logs, "201"}
    assert {len(saved[extension]) for extension in saved_logs} == {LOG_CALLS}
    assert sum(encoded_in_turn.values()) == LOG_USERS * LOG_CALLS + 1
    assert max(encoded_in_turn.values()) <= call_log_store.SAVE_SLICE


async def test_a_call_log_restore_lets_the_event_loop_run_between_a_few_users(
    hass: HomeAssistant, saved_logs: list[str], config_entry: MockConfigEntry
) -> None:
    """Setting up reads at most RESTORE_SLICE calls before others get a turn."""
    turns = LoopTurns(hass)
    restored_in_turn: Counter[int] = Counter()
    restore = UserCallLog.restore

    def counting(log: UserCallLog, data: list[Any], now_ms: int) -> None:
        restored_in_turn[turns.count] += len(data)
        restore(log, data, now_ms)

    assert await async_setup_component(hass, "webhook", {})
    with turns.counting(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(UserCallLog, "restore", counting)
        assert await hass.config_entries.async_setup(config_entry.entry_id)

    history = hub_of(hass).call_history
    assert {len(history.log(extension)) for extension in saved_logs} == {LOG_CALLS}
    assert sum(restored_in_turn.values()) == LOG_USERS * LOG_CALLS
    assert max(restored_in_turn.values()) <= call_log_store.RESTORE_SLICE


async def test_an_inbox_save_lets_the_event_loop_run_between_a_few_users(
    hass: HomeAssistant,
    saved_inboxes: list[str],
    wildix: WildixSender,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """However many items, a save encodes at most SAVE_SLICE before others get a turn."""
    turns = LoopTurns(hass)
    encoded_in_turn: Counter[int] = Counter()

    def counting(kind: str, items: list[Any]) -> Any:
        encoded_in_turn[turns.count] += len(items)
        return encode_all(kind, items)

    await wildix.post(voicemail(0))
    with turns.counting(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(inbox_store, "encode_all", counting)
        freezer.tick(SAVE_DELAY + 1)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    saved = hass_storage[INBOX]["data"]
    assert set(saved["users"]) == {*saved_inboxes, "201"}
    assert {len(saved["users"][extension]) for extension in saved_inboxes} == {
        INBOX_ITEMS
    }
    # The one announced before, and the new voicemail.
    assert len(saved["announced"]) == 2
    assert saved["announced"][0] == "201_0"
    assert sum(encoded_in_turn.values()) == INBOX_USERS * INBOX_ITEMS + 1
    assert max(encoded_in_turn.values()) <= inbox_store.SAVE_SLICE


async def test_an_inbox_restore_lets_the_event_loop_run_between_a_few_users(
    hass: HomeAssistant, saved_inboxes: list[str], config_entry: MockConfigEntry
) -> None:
    """Setting up reads at most SAVE_SLICE items before others get a turn."""
    turns = LoopTurns(hass)
    restored_in_turn: Counter[int] = Counter()
    restore = Inbox.restore_user

    def counting(inbox: Inbox, extension: str, data: list[Any], now_ms: int) -> None:
        restored_in_turn[turns.count] += len(data)
        restore(inbox, extension, data, now_ms)

    assert await async_setup_component(hass, "webhook", {})
    with turns.counting(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(Inbox, "restore_user", counting)
        assert await hass.config_entries.async_setup(config_entry.entry_id)

    inbox = hub_of(hass).inbox.inbox
    assert {len(inbox.users[extension]) for extension in saved_inboxes} == {INBOX_ITEMS}
    assert inbox.announced == {"201_0": None}
    assert sum(restored_in_turn.values()) == INBOX_USERS * INBOX_ITEMS
    assert max(restored_in_turn.values()) <= inbox_store.SAVE_SLICE


async def test_a_call_json_cannot_hold_loses_only_itself(
    hass: HomeAssistant,
    wildix: WildixSender,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A lone surrogate in a name (JSON cannot hold it) leaves out that call alone."""
    await wildix.post(voicemail(0))
    history = hub_of(hass).call_history
    (good,) = history.log("201")
    history.async_add_calls(
        "201", [replace(good, call_id="unstorable", remote_name="\ud800")]
    )
    freezer.tick(CALL_LOG_DELAY + 1)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    (calls,) = hass_storage[CALL_LOG]["data"]["calls"].values()
    assert "de_w204518_1741082520.0" in str(calls)
    assert "unstorable" not in str(calls)
    assert "Not saving a logged call that cannot be stored" in caplog.text


def version_1_call(extension: str, number: int) -> dict[str, Any]:
    """Return a call as version 1 of the call log stored it: a dict of its fields."""
    started = START_MS - (number + 1) * 600_000
    return {
        "call_id": f"de_w204518_{started // 1000}.{extension}{number}",
        "direction": "inbound",
        "outgoing": False,
        "remote_number": "+4940555777888",
        "remote_name": None,
        "remote_local": False,
        "started_ms": started,
        "ended_ms": started + 60_000,
        "answered": True,
        "missed": False,
        "talk_seconds": 55.0,
        "answered_by": extension,
        "voicemail": False,
        "recording": False,
        "source": "live",
    }


MISSED_AT_8 = START_MS - 3_600_000


@pytest.fixture
def version_1_log(hass_storage: dict[str, Any]) -> None:
    """Save Alice as a user, and her call log and callbacks as version 1 did."""
    hass_storage[f"{DOMAIN}.{ENTRY_ID}"] = {
        "version": 1,
        "minor_version": 2,
        "key": f"{DOMAIN}.{ENTRY_ID}",
        "data": {"users": [{"extension": "201", "name": "Alice Example"}]},
    }
    missed = {
        "call_id": "de_w204518_1741075990.3001",
        "direction": "inbound",
        "outgoing": False,
        "remote_number": "+4940555777888",
        "remote_name": "Max Mustermann",
        "remote_local": False,
        "started_ms": MISSED_AT_8,
        "ended_ms": MISSED_AT_8 + 30_000,
        "answered": False,
        "missed": True,
        "talk_seconds": 0.0,
        "answered_by": None,
        "voicemail": True,
        "recording": False,
        "source": "history",
    }
    # What version 1 read without: these keys had defaults.
    internal = {
        "call_id": "de_w204518_1741077790.3002",
        "direction": "internal",
        "outgoing": True,
        "remote_number": "202",
        "remote_name": "Bob Example",
        "remote_local": True,
        "started_ms": MISSED_AT_8 + 1_800_000,
        "ended_ms": MISSED_AT_8 + 1_860_000,
        "answered": True,
        "missed": False,
        "talk_seconds": 42.5,
    }
    hass_storage[CALL_LOG] = _stored(
        CALL_LOG,
        1,
        {
            "calls": {
                "201": [
                    missed,
                    {"call_id": "no start", "direction": "inbound"},
                    internal,
                ]
            },
            "callbacks": {
                "201": [
                    {
                        "uid": "4b1d5f0c9e2a4f6b8d7c3a1e0f9b2c4d",
                        "key": "+4940555777888",
                        "number": "+4940555777888",
                        "name": "Max Mustermann",
                        "remote_local": False,
                        "first_ms": MISSED_AT_8,
                        "last_ms": MISSED_AT_8,
                        "attempts": 1,
                        "calls": ["de_w204518_1741075990.3001"],
                        "completed_ms": None,
                        "summary": None,
                    }
                ]
            },
        },
    )


@pytest.mark.usefixtures("version_1_log")
async def test_a_call_log_of_version_1_is_migrated(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Version 1 kept a dict per call: its calls and callbacks come back, now stored as rows."""
    calendar = entity_id(hass, "calendar", f"{ENTRY_ID}_201_call_log")
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {"start_date_time": "2025-03-04T00:00:00+00:00", "duration": {"hours": 24}},
        target={"entity_id": calendar},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    events: list[dict[str, Any]] = response[calendar]["events"]  # type: ignore[index,assignment]
    assert [event["start"] for event in events] == [
        "2025-03-04T08:14:00+00:00",
        "2025-03-04T08:44:00+00:00",
    ]
    todo = entity_id(hass, "todo", f"{ENTRY_ID}_201_callbacks")
    assert hass.states.get(todo).state == "1"  # type: ignore[union-attr]

    stored = hass_storage[CALL_LOG]
    assert (stored["version"], stored["minor_version"]) == (2, 1)
    assert stored["data"]["calls"]["201"] == [
        [
            "de_w204518_1741075990.3001",
            "inbound",
            False,
            "+4940555777888",
            "Max Mustermann",
            False,
            MISSED_AT_8,
            MISSED_AT_8 + 30_000,
            False,
            True,
            0.0,
            None,
            True,
            False,
            "history",
        ],
        [
            "de_w204518_1741077790.3002",
            "internal",
            True,
            "202",
            "Bob Example",
            True,
            MISSED_AT_8 + 1_800_000,
            MISSED_AT_8 + 1_860_000,
            True,
            False,
            42.5,
            None,
            False,
            False,
            "live",
        ],
    ]
    assert stored["data"]["callbacks"]["201"][0]["number"] == "+4940555777888"


async def test_a_call_log_of_version_1_is_migrated_a_few_users_at_a_time(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: MockConfigEntry
) -> None:
    """Migrating reads at most RESTORE_SLICE calls before others get a turn."""
    extensions = [str(300 + number) for number in range(LOG_USERS)]
    hass_storage[CALL_LOG] = _stored(
        CALL_LOG,
        1,
        {
            "calls": {
                extension: [version_1_call(extension, n) for n in range(LOG_CALLS)]
                for extension in extensions
            },
            "callbacks": {},
        },
    )
    turns = LoopTurns(hass)
    read_in_turn: Counter[int] = Counter()
    from_dict = LoggedCall.from_dict

    def counting(data: dict[str, Any]) -> LoggedCall:
        read_in_turn[turns.count] += 1
        return from_dict(data)

    assert await async_setup_component(hass, "webhook", {})
    with turns.counting(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(LoggedCall, "from_dict", counting)
        assert await hass.config_entries.async_setup(config_entry.entry_id)

    stored = hass_storage[CALL_LOG]
    assert stored["version"] == 2
    assert {len(stored["data"]["calls"][extension]) for extension in extensions} == {
        LOG_CALLS
    }
    history = hub_of(hass).call_history
    assert {len(history.log(extension)) for extension in extensions} == {LOG_CALLS}
    assert sum(read_in_turn.values()) == LOG_USERS * LOG_CALLS
    assert max(read_in_turn.values()) <= call_log_store.RESTORE_SLICE


async def test_a_call_log_of_a_newer_version_is_left_alone(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_entry: MockConfigEntry
) -> None:
    """A call log stored by a newer version is neither read nor overwritten."""
    newer = _stored(
        CALL_LOG,
        3,
        {"calls": {"201": "as a newer version keeps them"}},
    )
    hass_storage[CALL_LOG] = newer
    assert await async_setup_component(hass, "webhook", {})
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert hass_storage[CALL_LOG] == newer
