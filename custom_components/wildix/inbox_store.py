"""Where an entry's inbox is kept: a store of its own, saved a slice at a time.

Up to 300 items for each of 650 users: a save encodes a few users' items at a time
and a restore reads a few at a time (sliced_store.py), so neither holds the event
loop for long.
"""

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
import orjson

from .const import DOMAIN, SAVE_DELAY
from .inbox import Inbox, InboxItem
from .sliced_store import OFF_THE_LOOP, SlicedStore, encode_all, in_slices, lists_by_key

STORAGE_VERSION = 1
# Items a save encodes, or a restore reads, before the event loop gets a turn: a
# few milliseconds.
SAVE_SLICE = 2000

# A user's items, by id: left out of a save if the user was forgotten meanwhile.
type UserItems = tuple[str, dict[str, InboxItem]]


def _store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.inbox", **OFF_THE_LOOP)


async def async_remove_inbox(hass: HomeAssistant, entry_id: str) -> None:
    """Delete what a removed entry's inbox saved."""
    await _store(hass, entry_id).async_remove()


class InboxStore(SlicedStore[UserItems, orjson.Fragment]):
    """Saves every user's inbox items, and the voicemails announced."""

    slice_budget = SAVE_SLICE

    def __init__(self, hass: HomeAssistant, entry_id: str, inbox: Inbox) -> None:
        """Initialise the storage of an entry's inbox."""
        super().__init__(hass, _store(hass, entry_id), SAVE_DELAY)
        self._inbox = inbox

    async def async_restore(self, now_ms: int) -> None:
        """Restore the saved inbox, a few users at a time."""
        if (stored := await self.store.async_load()) is None:
            return
        users = lists_by_key(stored.get("users"))
        if isinstance(announced := stored.get("announced"), list):
            self._inbox.restore_announced(announced)
        # Each user's items are let go once read, so that they are not held twice
        # (unless Home Assistant still holds what it loaded, to write it when stopping).
        del stored

        def weight(extension: str) -> int:
            return len(users[extension])

        async for extensions in in_slices(list(users), weight, SAVE_SLICE):
            for extension in extensions:
                self._inbox.restore_user(extension, users.pop(extension), now_ms)

    def _parts(self) -> list[UserItems]:
        return list(self._inbox.users.items())

    def _weight(self, part: UserItems) -> int:
        return len(part[1])

    def _encode(self, part: UserItems) -> orjson.Fragment:
        return encode_all("inbox item", list(part[1].values()))

    def _data(
        self, parts: list[UserItems], encoded: list[orjson.Fragment]
    ) -> dict[str, Any]:
        current = self._inbox.users
        return {
            "users": {
                extension: fragment
                for (extension, items), fragment in zip(parts, encoded, strict=True)
                if items and current.get(extension) is items
            },
            "announced": orjson.Fragment(orjson.dumps(list(self._inbox.announced))),
        }
