"""What an entry keeps across restarts: its model and the deliveries it took, written quietly."""

import asyncio
from collections import OrderedDict
import inspect
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.storage import Store
import orjson

from .const import DOMAIN, DUPLICATE_CACHE_SIZE, DUPLICATE_MEMORY, SAVE_DELAY
from .model import PbxModel, User
from .persistence import encode, model_as_data, restore_model, user_as_dict

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 2
# Users a save encodes before it lets the event loop run: about a millisecond.
SAVE_SLICE = 50


class SeenDeliveries:
    """The deliveries taken, by signature, with the time each arrived."""

    def __init__(self) -> None:
        """Initialise an empty memory."""
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        """Return how many deliveries are remembered."""
        return len(self._seen)

    def add(self, key: str, received: float) -> bool:
        """Remember a delivery; False if it was taken before."""
        if key in self._seen:
            return False
        self._seen[key] = received
        if len(self._seen) > DUPLICATE_CACHE_SIZE:
            self._seen.popitem(last=False)
        return True

    def encoded(self) -> orjson.Fragment:
        """Return the memory as JSON (a list of [key, received]) to embed in a save."""
        return orjson.Fragment(orjson.dumps(list(self._seen.items())))

    def restore(self, data: list[list[Any]], now: float) -> None:
        """Load what `encoded` saved, except deliveries too old to come again."""
        self._seen.update(
            (key, received)
            for key, received in data
            if received >= now - DUPLICATE_MEMORY
        )


# What is saved is a snapshot (encoded pieces and plain values), so Home Assistant may
# serialise it in its executor: older releases (2025.4 among them) always do, newer
# ones when told.
_OFF_THE_LOOP: dict[str, Any] = (
    {"serialize_in_event_loop": False}
    if "serialize_in_event_loop" in inspect.signature(Store.__init__).parameters
    else {}
)


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(
        hass,
        STORAGE_VERSION,
        f"{DOMAIN}.{entry_id}",
        minor_version=STORAGE_MINOR_VERSION,
        **_OFF_THE_LOOP,
    )


async def async_remove_storage(hass: HomeAssistant, entry_id: str) -> None:
    """Delete what an entry saved."""
    await _store(hass, entry_id).async_remove()


class ModelStorage:
    """Saves an entry's model and seen deliveries: nothing when idle, at most once per SAVE_DELAY.

    A save encodes SAVE_SLICE users at a time and lets the event loop run between
    them, so that however many users there are no delivery waits long for a save;
    Home Assistant's storage then writes the encoded pieces as they are. Each user
    is saved as they were when encoded; a user forgotten meanwhile is left out.
    Unloading, and Home Assistant's final write, save everything at once.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        model: PbxModel,
        seen: SeenDeliveries,
    ) -> None:
        """Initialise the storage of an entry's model."""
        self._hass = hass
        self._store = _store(hass, entry_id)
        self._model = model
        self._seen = seen
        # Something changed since the last save began.
        self._dirty = False
        self._timer: asyncio.TimerHandle | None = None
        self._saving: asyncio.Task[None] | None = None
        self._unsubscribe_final_write: CALLBACK_TYPE | None = None
        self._stopped = False

    async def async_load(self, now: float) -> None:
        """Restore what was saved into the model and the seen deliveries."""
        if (stored := await self._store.async_load()) is None:
            return
        restore_model(self._model, stored, now)
        self._seen.restore(stored.get("deliveries", []), now)

    @callback
    def async_schedule_save(self) -> None:
        """Save soon; repeated calls within the delay make one write."""
        if self._stopped:
            return
        self._dirty = True
        if self._unsubscribe_final_write is None:
            self._unsubscribe_final_write = self._hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write
            )
        # Not postponed by later calls: under steady traffic it would never save.
        if self._timer is None and self._saving is None:
            self._timer = self._hass.loop.call_later(SAVE_DELAY, self._async_begin)

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
        fragments = self._encode_users(list(self._model.users.values()))
        await self._store.async_save(
            self._data([fragment for fragment in fragments if fragment is not None])
        )

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
        self._saving = self._hass.async_create_task(
            self._async_save_in_slices(), f"{DOMAIN} save", eager_start=False
        )

    async def _async_save_in_slices(self) -> None:
        try:
            self._dirty = False
            users = list(self._model.users.values())
            # Two flat lists, not a pair per user: fewer objects for the garbage
            # collector to carry from slice to slice.
            fragments: list[orjson.Fragment | None] = []
            for start in range(0, len(users), SAVE_SLICE):
                fragments += self._encode_users(users[start : start + SAVE_SLICE])
                await asyncio.sleep(0)
            current = self._model.users
            data = self._data(
                [
                    fragment
                    for user, fragment in zip(users, fragments, strict=True)
                    if fragment is not None and current.get(user.extension) is user
                ]
            )
            await self._store.async_save(data)
        finally:
            self._saving = None
            if self._dirty and self._timer is None and not self._stopped:
                self._timer = self._hass.loop.call_later(SAVE_DELAY, self._async_begin)

    def _encode_users(self, users: list[User]) -> list[orjson.Fragment | None]:
        """Encode users for a save (None for one JSON cannot hold): what grows with them."""
        return [encode("user", user, user_as_dict) for user in users]

    def _data(self, users: list[orjson.Fragment]) -> dict[str, Any]:
        """Return what is saved besides the users, with the users encoded before."""
        return model_as_data(self._model, users) | {"deliveries": self._seen.encoded()}
