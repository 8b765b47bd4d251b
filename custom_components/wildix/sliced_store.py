"""A store that never makes Home Assistant wait: saved within a delay, a slice at a time.

Home Assistant's `Store.async_delay_save` starts its delay again at every change,
so a store changing more often than that is not written until Home Assistant
stops; and it builds and serialises all the data at once in the event loop. A
SlicedStore's delay starts with the first change since the last save and later
changes do not postpone it. A save encodes the parts that grow (users, say) to
JSON bytes a slice at a time, letting the event loop run between slices, and
Home Assistant writes those bytes as they are, serialising in its executor.
Each part is saved as it was when encoded; a change meanwhile is saved next time.
Unloading, and Home Assistant's final write, save everything at once.
"""

from abc import ABC, abstractmethod
import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
import inspect
import logging
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.storage import Store
import orjson

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

# What is saved is a snapshot (encoded pieces and plain values), so Home Assistant may
# serialise it in its executor: older releases (2025.4 among them) always do, newer
# ones when told.
OFF_THE_LOOP: dict[str, Any] = (
    {"serialize_in_event_loop": False}
    if "serialize_in_event_loop" in inspect.signature(Store.__init__).parameters
    else {}
)


def encode_all(kind: str, items: list[Any]) -> orjson.Fragment:
    """Return items (dataclasses, lists...) as one JSON array, leaving out any JSON cannot hold.

    One bad value must not make every save fail and lose everything else.
    """
    try:
        return orjson.Fragment(orjson.dumps(items))
    except TypeError:
        pass
    kept = []
    for item in items:
        try:
            kept.append(orjson.Fragment(orjson.dumps(item)))
        except TypeError as err:
            _LOGGER.warning("Not saving a %s that cannot be stored: %s", kind, err)
    return orjson.Fragment(orjson.dumps(kept))


def lists_by_key(value: Any) -> dict[str, list[Any]]:
    """Return what was stored by key (say, each user's calls), leaving out what is no list."""
    if not isinstance(value, Mapping):
        return {}
    return {str(key): item for key, item in value.items() if isinstance(item, list)}


async def in_slices[T](
    parts: Iterable[T], weight: Callable[[T], int], budget: int
) -> AsyncIterator[list[T]]:
    """Yield the parts a slice at a time, letting the event loop run after each.

    A slice holds parts whose weights add up to at most `budget`, or one heavier part.
    """
    taken = 0
    chunk: list[T] = []
    for part in parts:
        size = weight(part)
        if chunk and taken + size > budget:
            yield chunk
            await asyncio.sleep(0)
            taken, chunk = 0, []
        taken += size
        chunk.append(part)
    if chunk:
        yield chunk
        await asyncio.sleep(0)


class SlicedStore[P, E](ABC):
    """Saves parts `P`, each encoded to `E`, at most once per delay and never all at once."""

    # How much (in the parts' weights) a save encodes before the event loop gets a turn.
    slice_budget: int

    def __init__(self, hass: HomeAssistant, store: Store[Any], delay: float) -> None:
        """Initialise the saving of a store."""
        self.hass = hass
        self.store = store
        self._delay = delay
        # Something changed since the last save began.
        self._dirty = False
        self._timer: asyncio.TimerHandle | None = None
        self._saving: asyncio.Task[None] | None = None
        self._unsubscribe_final_write: CALLBACK_TYPE | None = None
        self._stopped = False

    @abstractmethod
    def _parts(self) -> list[P]:
        """Return what grows, to be encoded a slice at a time."""

    def _weight(self, part: P) -> int:
        """Return how much encoding a part costs, in the units of `slice_budget`."""
        return 1

    @abstractmethod
    def _encode(self, part: P) -> E:
        """Encode a part (to JSON bytes, say)."""

    def _encode_slice(self, parts: list[P]) -> list[E]:
        """Encode a slice of parts: what one turn of the event loop does."""
        return [self._encode(part) for part in parts]

    @abstractmethod
    def _data(self, parts: list[P], encoded: list[E]) -> Any:
        """Return everything to save, with the parts as encoded, in the same order."""

    @callback
    def async_schedule_save(self) -> None:
        """Save soon; repeated calls within the delay make one write."""
        if self._stopped:
            return
        self._dirty = True
        if self._unsubscribe_final_write is None:
            self._unsubscribe_final_write = self.hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write
            )
        # Not postponed by later calls: under steady traffic it would never save.
        if self._timer is None and self._saving is None:
            self._timer = self.hass.loop.call_later(self._delay, self._async_begin)

    async def async_save(self) -> None:
        """Save everything now, and nothing later (on unload and at the final write)."""
        self._stopped = True
        if self._saving is not None:
            await self._saving
        self._cancel_timer()
        if self._unsubscribe_final_write is not None:
            self._unsubscribe_final_write()
            self._unsubscribe_final_write = None
        self._dirty = False
        parts = self._parts()
        await self.store.async_save(self._data(parts, self._encode_slice(parts)))

    async def _async_final_write(self, _event: Event) -> None:
        self._unsubscribe_final_write = None
        if self._dirty or self._saving is not None:
            await self.async_save()

    @callback
    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @callback
    def _async_begin(self) -> None:
        self._timer = None
        self._saving = self.hass.async_create_task(
            self._async_save_in_slices(),
            f"{DOMAIN} save {self.store.key}",
            eager_start=False,
        )

    async def _async_save_in_slices(self) -> None:
        try:
            self._dirty = False
            parts = self._parts()
            encoded: list[E] = []
            async for chunk in in_slices(parts, self._weight, self.slice_budget):
                encoded += self._encode_slice(chunk)
            await self.store.async_save(self._data(parts, encoded))
        finally:
            self._saving = None
            if self._dirty and self._timer is None and not self._stopped:
                self._timer = self.hass.loop.call_later(self._delay, self._async_begin)
