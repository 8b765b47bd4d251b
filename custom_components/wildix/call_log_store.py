"""Where an entry's call logs and callbacks are kept: a store of their own, saved a slice at a time.

Up to 2,000 calls for each of 650 users: a save encodes a few users' logs at a time
and a restore reads a few at a time (sliced_store.py), so neither holds the event
loop for long.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
import orjson

from .const import DOMAIN
from .sliced_store import OFF_THE_LOOP, SlicedStore, encode_all, in_slices

if TYPE_CHECKING:
    from .call_history import CallHistory

STORAGE_VERSION = 1
SAVE_DELAY = 30.0
# Calls and callbacks a save encodes, or a restore reads, before the event loop
# gets a turn: a few milliseconds.
SAVE_SLICE = 5000

type Encoded = tuple[orjson.Fragment | None, orjson.Fragment | None]


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.call_log", **OFF_THE_LOOP)


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
        calls, callbacks = (
            _mapping(stored.get("calls")),
            _mapping(stored.get("callbacks")),
        )
        history = self._history

        def weight(extension: str) -> int:
            return len(calls.get(extension, ())) + len(callbacks.get(extension, ()))

        async for extensions in in_slices({**calls, **callbacks}, weight, SAVE_SLICE):
            for extension in extensions:
                if extension in calls:
                    history.log(extension).restore(calls[extension], now_ms)
                if extension in callbacks:
                    history.callback_list(extension).restore(callbacks[extension])
                    history.callback_list(extension).expire(now_ms)

    def _parts(self) -> list[str]:
        return list({**self._history.logs, **self._history.callbacks})

    def _weight(self, part: str) -> int:
        log, items = self._history.logs.get(part), self._history.callbacks.get(part)
        return (0 if log is None else len(log)) + (
            0 if items is None else len(items.items)
        )

    def _encode(self, part: str) -> Encoded:
        log, items = self._history.logs.get(part), self._history.callbacks.get(part)
        return (
            encode_all("logged call", list(log)) if log else None,
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


def _mapping(value: Any) -> Mapping[str, list[Any]]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): item for key, item in value.items() if isinstance(item, list)}
