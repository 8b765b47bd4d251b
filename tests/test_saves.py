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
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wildix import call_log_store, inbox_store
from custom_components.wildix.call_log import UserCallLog
from custom_components.wildix.call_log_store import SAVE_DELAY as CALL_LOG_DELAY
from custom_components.wildix.const import DOMAIN, SAVE_DELAY
from custom_components.wildix.inbox import Inbox
from custom_components.wildix.sliced_store import encode_all

from .common import ENTRY_ID, START, WildixSender, hub_of
from .inbox_events import voicemail_completed

CALL_LOG = f"{DOMAIN}.{ENTRY_ID}.call_log"
INBOX = f"{DOMAIN}.{ENTRY_ID}.inbox"
START_MS = int(START.timestamp() * 1000)
# Enough calls for a save in several slices: three users' logs fit in one.
LOG_USERS = 7
LOG_CALLS = call_log_store.SAVE_SLICE * 3 // 10
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


def saved_call(extension: str, number: int) -> dict[str, Any]:
    """Return a call as version 1 of the call log saved it: one every 10 minutes back."""
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


@pytest.fixture
def saved_logs(hass_storage: dict[str, Any]) -> list[str]:
    """Save full call logs of users, enough for a save in several slices."""
    extensions = [str(300 + number) for number in range(LOG_USERS)]
    hass_storage[CALL_LOG] = {
        "version": 1,
        "minor_version": 1,
        "key": CALL_LOG,
        "data": {
            "calls": {
                extension: [saved_call(extension, n) for n in range(LOG_CALLS)]
                for extension in extensions
            },
            "callbacks": {},
        },
    }
    return extensions


@pytest.fixture
def saved_inboxes(hass_storage: dict[str, Any]) -> list[str]:
    """Save full inboxes of users, enough for a save in two slices."""
    extensions = [str(300 + number) for number in range(INBOX_USERS)]
    hass_storage[INBOX] = {
        "version": 1,
        "minor_version": 1,
        "key": INBOX,
        "data": {
            "users": {
                extension: [saved_item(extension, n) for n in range(INBOX_ITEMS)]
                for extension in extensions
            },
            "announced": ["201_0"],
        },
    }
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
    """Setting up reads at most SAVE_SLICE calls before others get a turn."""
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
    assert max(restored_in_turn.values()) <= call_log_store.SAVE_SLICE


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
