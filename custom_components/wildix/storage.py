"""What an entry keeps across restarts: its model and the deliveries it took, written quietly."""

from collections import OrderedDict
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
import orjson

from .const import DOMAIN, DUPLICATE_CACHE_SIZE, DUPLICATE_MEMORY, SAVE_DELAY
from .model import PbxModel, User
from .persistence import encode, model_as_data, restore_model, user_as_dict
from .sliced_store import OFF_THE_LOOP, SlicedStore

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


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(
        hass,
        STORAGE_VERSION,
        f"{DOMAIN}.{entry_id}",
        minor_version=STORAGE_MINOR_VERSION,
        **OFF_THE_LOOP,
    )


async def async_remove_storage(hass: HomeAssistant, entry_id: str) -> None:
    """Delete what an entry saved."""
    await _store(hass, entry_id).async_remove()


class ModelStorage(SlicedStore[User, orjson.Fragment | None]):
    """Saves an entry's model and seen deliveries: nothing when idle, at most once per SAVE_DELAY.

    A save encodes SAVE_SLICE users at a time (sliced_store.py); Home Assistant's
    storage then writes the encoded pieces as they are. A user forgotten during a
    save is left out.
    """

    slice_budget = SAVE_SLICE

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        model: PbxModel,
        seen: SeenDeliveries,
    ) -> None:
        """Initialise the storage of an entry's model."""
        super().__init__(hass, _store(hass, entry_id), SAVE_DELAY)
        self._model = model
        self._seen = seen

    async def async_load(self, now: float) -> None:
        """Restore what was saved into the model and the seen deliveries."""
        if (stored := await self.store.async_load()) is None:
            return
        restore_model(self._model, stored, now)
        self._seen.restore(stored.get("deliveries", []), now)

    def _parts(self) -> list[User]:
        return list(self._model.users.values())

    def _encode(self, part: User) -> orjson.Fragment | None:
        """Encode a user (None for one JSON cannot hold): what grows with them."""
        return encode("user", part, user_as_dict)

    def _data(
        self, parts: list[User], encoded: list[orjson.Fragment | None]
    ) -> dict[str, Any]:
        """Return what is saved: the users encoded before, if still known, and the rest."""
        current = self._model.users
        users = [
            fragment
            for user, fragment in zip(parts, encoded, strict=True)
            if fragment is not None and current.get(user.extension) is user
        ]
        return model_as_data(self._model, users) | {"deliveries": self._seen.encoded()}
