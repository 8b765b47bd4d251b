"""Where an entry's call logs and callbacks are kept: a store of their own, saved a slice at a time.

Up to 2,000 calls for each of 650 users: a save encodes a few users' logs at a time
and a restore reads a few at a time (sliced_store.py), so neither holds the event
loop for long.

Version 2 keeps each call as a row of its fields (LoggedCall.as_row); version 1 kept
a dict of them, twice the size and twice as slow to read. Callbacks are dicts.
"""

from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
import orjson

from .call_log import LoggedCall
from .call_log_rows import Row
from .const import DOMAIN
from .sliced_store import OFF_THE_LOOP, SlicedStore, encode_all, in_slices, lists_by_key

if TYPE_CHECKING:
    from .call_history import CallHistory

STORAGE_VERSION = 2
SAVE_DELAY = 30.0
# Calls and callbacks a save encodes before the event loop gets a turn, and a
# restore or migration reads (four times the work per call): a few milliseconds.
SAVE_SLICE = 5000
RESTORE_SLICE = 2000

type Encoded = tuple[orjson.Fragment | None, orjson.Fragment | None]


class _Store(Store[dict[str, Any]]):
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Bring what an older version stored up to date, a few users at a time."""
        if old_major_version > STORAGE_VERSION:
            # A newer version's: neither read nor overwritten (setting up fails).
            raise NotImplementedError
        if old_major_version == 1:
            calls = lists_by_key(old_data.pop("calls", None))

            def weight(extension: str) -> int:
                return len(calls[extension])

            rows: dict[str, list[Row]] = {}
            async for extensions in in_slices(list(calls), weight, RESTORE_SLICE):
                for extension in extensions:
                    rows[extension] = _rows_of_dicts(calls.pop(extension))
            old_data["calls"] = rows
        return old_data


def _rows_of_dicts(calls: list[Any]) -> list[Row]:
    """Return version 1's calls (dicts) as rows, leaving out what is no call."""
    rows = []
    for call in calls:
        try:
            rows.append(LoggedCall.from_dict(call).as_row())
        except (KeyError, TypeError, ValueError):
            continue
    return rows


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return _Store(
        hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.call_log", **OFF_THE_LOOP
    )


async def async_remove_call_history(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the call log an entry saved."""
    await _store(hass, entry_id).async_remove()


class CallLogStore(SlicedStore[str, Encoded]):
    """Saves every user's call log and callbacks, by extension."""

    slice_budget = SAVE_SLICE

    def __init__(self, history: "CallHistory") -> None:
        """Initialise the storage of a hub's call history."""
        super().__init__(
            history.hass, _store(history.hass, history.hub.entry.entry_id), SAVE_DELAY
        )
        self._history = history

    async def async_restore(self, now_ms: int) -> None:
        """Restore the saved logs and callbacks, a few users at a time."""
        if (stored := await self.store.async_load()) is None:
            return
        calls = lists_by_key(stored.get("calls"))
        callbacks = lists_by_key(stored.get("callbacks"))
        # Each user's rows are let go once read, so that the calls are not held twice
        # (unless Home Assistant still holds what it loaded, to write it when stopping).
        del stored
        history = self._history

        def weight(extension: str) -> int:
            return len(calls.get(extension, ())) + len(callbacks.get(extension, ()))

        users = list(dict.fromkeys([*calls, *callbacks]))
        async for extensions in in_slices(users, weight, RESTORE_SLICE):
            for extension in extensions:
                if (rows := calls.pop(extension, None)) is not None:
                    history.log(extension).restore(rows, now_ms)
                if (items := callbacks.pop(extension, None)) is not None:
                    history.callback_list(extension).restore(items)
                    history.callback_list(extension).expire(now_ms)

    def _parts(self) -> list[str]:
        return list(dict.fromkeys([*self._history.logs, *self._history.callbacks]))

    def _weight(self, part: str) -> int:
        log, items = self._history.logs.get(part), self._history.callbacks.get(part)
        return (0 if log is None else len(log)) + (
            0 if items is None else len(items.items)
        )

    def _encode(self, part: str) -> Encoded:
        log, items = self._history.logs.get(part), self._history.callbacks.get(part)
        return (
            encode_all("logged call", log.as_rows()) if log else None,
            encode_all("callback", list(items.items.values()))
            if items and items.items
            else None,
        )

    def _data(self, parts: list[str], encoded: list[Encoded]) -> dict[str, Any]:
        return {
            "calls": {
                extension: calls
                for extension, (calls, _) in zip(parts, encoded, strict=True)
                if calls is not None
            },
            "callbacks": {
                extension: items
                for extension, (_, items) in zip(parts, encoded, strict=True)
                if items is not None
            },
        }
