"""What an entry keeps across restarts: its model and the deliveries it took, written quietly."""

from collections import OrderedDict
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import DOMAIN, DUPLICATE_CACHE_SIZE, DUPLICATE_MEMORY, SAVE_DELAY
from .model import PbxModel
from .persistence import model_as_dict, restore_model

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 2


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

    def as_list(self) -> list[list[Any]]:
        """Return the memory as JSON-serialisable data."""
        return [[key, received] for key, received in self._seen.items()]

    def restore(self, data: list[list[Any]], now: float) -> None:
        """Load what as_list saved, except deliveries too old to come again."""
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
    )


async def async_remove_storage(hass: HomeAssistant, entry_id: str) -> None:
    """Delete what an entry saved."""
    await _store(hass, entry_id).async_remove()


class ModelStorage:
    """Saves an entry's model and seen deliveries: nothing when idle, at most once per SAVE_DELAY."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        model: PbxModel,
        seen: SeenDeliveries,
    ) -> None:
        """Initialise the storage of an entry's model."""
        self._store = _store(hass, entry_id)
        self._model = model
        self._seen = seen
        self._save_pending = False

    async def async_load(self, now: float) -> None:
        """Restore what was saved into the model and the seen deliveries."""
        if (stored := await self._store.async_load()) is None:
            return
        restore_model(self._model, stored, now)
        self._seen.restore(stored.get("deliveries", []), now)

    @callback
    def async_schedule_save(self) -> None:
        """Save soon; repeated calls within the delay make one write."""
        # Store pushes a pending delayed save back on every call, so under steady
        # traffic it would never write; ask once per delay instead.
        if not self._save_pending:
            self._save_pending = True
            self._store.async_delay_save(self._data_to_save, SAVE_DELAY)

    async def async_save(self) -> None:
        """Save now (on unload)."""
        await self._store.async_save(self._data_to_save())

    @callback
    def _data_to_save(self) -> dict[str, Any]:
        self._save_pending = False
        return model_as_dict(self._model) | {"deliveries": self._seen.as_list()}
