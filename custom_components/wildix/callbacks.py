"""Callbacks: the missed calls a user has not returned, as a list that clears itself.

No Home Assistant imports. A missed call from a number opens an item (or counts
another attempt on the open one); calling that number, or answering a later call
from it, completes the item; completed items are forgotten after a week.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Self
from uuid import uuid4

from .call_log import LoggedCall

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
    """One user's callbacks by uid, in the order they were opened."""

    def __init__(self, number_key: NumberKey) -> None:
        """Initialise an empty list comparing numbers by `number_key`."""
        self._key = number_key
        self.items: dict[str, Callback] = {}

    def take(self, call: LoggedCall, now_ms: int) -> bool:
        """Follow a finished call of the user; return whether the list changed."""
        if not call.remote_number:
            return False
        key = self._key(call.remote_number)
        item = self._open(key)
        if call.missed and not call.outgoing:
            return self._missed(item, key, call)
        returned = call.outgoing or call.answered
        if item is None or not returned or call.started_ms < item.last_ms:
            return False
        self.items[item.uid] = replace(item, completed_ms=now_ms)
        return True

    def set_done(self, uid: str, done: bool, now_ms: int) -> None:
        """Check or uncheck an item by hand."""
        item = self.items[uid]
        if done != item.done:
            self.items[uid] = replace(item, completed_ms=now_ms if done else None)

    def rename(self, uid: str, summary: str | None) -> None:
        """Give an item the user's own summary."""
        self.items[uid] = replace(self.items[uid], summary=summary)

    def delete(self, uids: list[str]) -> None:
        """Remove items."""
        for uid in uids:
            self.items.pop(uid, None)

    def expire(self, now_ms: int) -> bool:
        """Forget items completed more than a week ago; return whether any went."""
        kept = {
            uid: item
            for uid, item in self.items.items()
            if item.completed_ms is None
            or item.completed_ms >= now_ms - COMPLETED_MEMORY_MS
        }
        if len(kept) == len(self.items):
            return False
        self.items = kept
        return True

    def restore(self, data: list[Mapping[str, Any]]) -> None:
        """Load the items as saved, skipping malformed ones."""
        for entry in data:
            try:
                item = Callback.from_dict(entry)
            except (KeyError, TypeError, ValueError):
                continue
            self.items[item.uid] = item

    def _open(self, key: str) -> Callback | None:
        return next(
            (item for item in self.items.values() if item.key == key and not item.done),
            None,
        )

    def _missed(self, item: Callback | None, key: str, call: LoggedCall) -> bool:
        assert call.remote_number is not None
        if item is None:
            if any(call.call_id in other.calls for other in self.items.values()):
                return False  # counted on an item the user completed since
            if len(self.items) >= MAX_CALLBACKS:
                oldest = min(self.items.values(), key=lambda other: other.last_ms)
                del self.items[oldest.uid]
            item = Callback(
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
            self.items[item.uid] = item
            return True
        if call.call_id in item.calls:
            return False
        self.items[item.uid] = replace(
            item,
            name=call.remote_name or item.name,
            first_ms=min(item.first_ms, call.started_ms),
            last_ms=max(item.last_ms, call.started_ms),
            attempts=item.attempts + 1,
            calls=(*item.calls, call.call_id)[-MAX_COUNTED:],
        )
        return True
