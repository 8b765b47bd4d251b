"""Callbacks: the missed calls a user has not returned, as a list that clears itself.

No Home Assistant imports. A missed call from a number opens an item (or counts
another attempt on the open one); calling that number, or answering a later call
from it, completes the item; completed items are forgotten after a week.
"""

from bisect import insort
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from heapq import heapify, heappop, heappush
from types import MappingProxyType
from typing import Any, Self
from uuid import uuid4

from .call_log import LoggedCall
from .phone_numbers import key_tail, number_tail

COMPLETED_MEMORY_MS = 7 * 86_400_000
MAX_CALLBACKS = 500
# The missed calls counted on one item, to count each once.
MAX_COUNTED = 32

type NumberKey = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Callback:
    """One number to call back."""

    uid: str
    key: str  # the number normalised, to compare
    number: str
    name: str | None
    remote_local: bool
    first_ms: int
    last_ms: int
    attempts: int
    calls: tuple[str, ...]
    completed_ms: int | None = None
    summary: str | None = None  # set by the user when renaming

    @property
    def done(self) -> bool:
        """Tell whether the item is completed."""
        return self.completed_ms is not None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read an item as saved (orjson writes a dataclass as a dict of its fields)."""
        return cls(
            uid=str(data["uid"]),
            key=str(data["key"]),
            number=str(data["number"]),
            name=data.get("name"),
            remote_local=bool(data.get("remote_local")),
            first_ms=int(data["first_ms"]),
            last_ms=int(data["last_ms"]),
            attempts=int(data["attempts"]),
            calls=tuple(str(call) for call in data.get("calls", ())),
            completed_ms=data.get("completed_ms"),
            summary=data.get("summary"),
        )


class CallbackList:
    """One user's callbacks by uid, in the order they were opened.

    `take` follows every finished call of the user, and a busy user holds hundreds
    of items: what it looks up is indexed, so that it does not go through them all.
    `_put` and `_drop`, the only two places that change the items, keep in step the
    open items by number, the call ids counted on any item and, once the list has
    been full, the items by age. Several open items with one number (once one is
    unchecked by hand while another is open) take the next call on the one opened
    first, as when the items were searched in order.
    """

    def __init__(self, number_key: NumberKey) -> None:
        """Initialise an empty list comparing numbers by `number_key`."""
        self._key = number_key
        self._items: dict[str, Callback] = {}
        self._view = MappingProxyType(self._items)
        # When each item joined the list: its place in the order of the items.
        self._joined: dict[str, int] = {}
        self._joins = 0
        # The uids of the open items by number, in the order of the items; and how
        # many open items each number's last digits have (phone_numbers.number_tail).
        self._open: dict[str, list[str]] = {}
        self._open_tails: dict[str, int] = {}
        # How many items count each call id.
        self._counted: dict[str, int] = {}
        # (last_ms, joined, uid) of the items, a heap with stale entries left in it,
        # built when the list is first full.
        self._by_age: list[tuple[int, int, str]] | None = None
        # Counts the changes of the items: the same version, the same items.
        self.version = 0

    @property
    def items(self) -> Mapping[str, Callback]:
        """The items by uid, in order; read-only: the methods change them."""
        return self._view

    def take(self, call: LoggedCall, now_ms: int) -> bool:
        """Follow a finished call of the user; return whether the list changed."""
        if not (number := call.remote_number):
            return False
        missed = call.missed and not call.outgoing
        if (
            not missed
            and (tail := number_tail(number)) is not None
            and tail not in self._open_tails
        ):
            # No open item's number ends so: nothing to complete, and no need to
            # read the number (most calls come from numbers without a callback).
            return False
        key = self._key(number)
        opened = self._open.get(key)
        item = None if opened is None else self._items[opened[0]]
        if missed:
            return self._missed(item, key, call)
        returned = call.outgoing or call.answered
        if item is None or not returned or call.started_ms < item.last_ms:
            return False
        self._put(replace(item, completed_ms=now_ms))
        return True

    def set_done(self, uid: str, done: bool, now_ms: int) -> None:
        """Check or uncheck an item by hand."""
        item = self._items[uid]
        if done != item.done:
            self._put(replace(item, completed_ms=now_ms if done else None))

    def rename(self, uid: str, summary: str | None) -> None:
        """Give an item the user's own summary."""
        self._put(replace(self._items[uid], summary=summary))

    def delete(self, uids: list[str]) -> None:
        """Remove items."""
        for uid in uids:
            if uid in self._items:
                self._drop(uid)

    def expire(self, now_ms: int) -> bool:
        """Forget items completed more than a week ago; return whether any went."""
        since_ms = now_ms - COMPLETED_MEMORY_MS
        gone = [
            uid
            for uid, item in self._items.items()
            if item.completed_ms is not None and item.completed_ms < since_ms
        ]
        for uid in gone:
            self._drop(uid)
        return bool(gone)

    def restore(self, data: list[Mapping[str, Any]]) -> None:
        """Load the items as saved, skipping malformed ones."""
        for entry in data:
            try:
                item = Callback.from_dict(entry)
            except (KeyError, TypeError, ValueError):
                continue
            self._put(item)

    def _missed(self, item: Callback | None, key: str, call: LoggedCall) -> bool:
        assert call.remote_number is not None
        if item is None:
            if call.call_id in self._counted:
                return False  # counted on an item the user completed since
            if len(self._items) >= MAX_CALLBACKS:
                self._drop(self._oldest())
            self._put(
                Callback(
                    uid=uuid4().hex,
                    key=key,
                    number=call.remote_number,
                    name=call.remote_name,
                    remote_local=call.remote_local,
                    first_ms=call.started_ms,
                    last_ms=call.started_ms,
                    attempts=1,
                    calls=(call.call_id,),
                )
            )
            return True
        if call.call_id in item.calls:
            return False
        self._put(
            replace(
                item,
                name=call.remote_name or item.name,
                first_ms=min(item.first_ms, call.started_ms),
                last_ms=max(item.last_ms, call.started_ms),
                attempts=item.attempts + 1,
                calls=(*item.calls, call.call_id)[-MAX_COUNTED:],
            )
        )
        return True

    def _put(self, item: Callback) -> None:
        """Add an item, or replace the one with its uid in its place."""
        self.version += 1
        uid = item.uid
        old = self._items.get(uid)
        self._items[uid] = item
        if old is None:
            self._joined[uid] = self._joins
            self._joins += 1
        if old is None or old.calls is not item.calls:
            if old is not None:
                self._uncount(old.calls)
            for call_id in item.calls:
                self._counted[call_id] = self._counted.get(call_id, 0) + 1
        if old is None or old.key != item.key or old.done != item.done:
            if old is not None and not old.done:
                self._close(old)
            if not item.done:
                insort(
                    self._open.setdefault(item.key, []),
                    uid,
                    key=self._joined.__getitem__,
                )
                tail = key_tail(item.key)
                self._open_tails[tail] = self._open_tails.get(tail, 0) + 1
        if self._by_age is not None and (old is None or old.last_ms != item.last_ms):
            heappush(self._by_age, (item.last_ms, self._joined[uid], uid))
            if len(self._by_age) > 2 * len(self._items) + 16:
                self._by_age = None  # mostly stale: built anew when needed

    def _drop(self, uid: str) -> None:
        self.version += 1
        item = self._items.pop(uid)
        del self._joined[uid]
        self._uncount(item.calls)
        if not item.done:
            self._close(item)

    def _uncount(self, calls: tuple[str, ...]) -> None:
        for call_id in calls:
            if (count := self._counted[call_id]) > 1:
                self._counted[call_id] = count - 1
            else:
                del self._counted[call_id]

    def _close(self, item: Callback) -> None:
        opened = self._open[item.key]
        opened.remove(item.uid)
        if not opened:
            del self._open[item.key]
        tail = key_tail(item.key)
        if (count := self._open_tails[tail]) > 1:
            self._open_tails[tail] = count - 1
        else:
            del self._open_tails[tail]

    def _oldest(self) -> str:
        """Return the uid of the item called last the longest ago, first of equals."""
        if self._by_age is None:
            self._by_age = [
                (item.last_ms, self._joined[uid], uid)
                for uid, item in self._items.items()
            ]
            heapify(self._by_age)
        while True:
            last_ms, joined, uid = heappop(self._by_age)
            item = self._items.get(uid)
            if (
                item is not None
                and item.last_ms == last_ms
                and self._joined[uid] == joined
            ):
                return uid
