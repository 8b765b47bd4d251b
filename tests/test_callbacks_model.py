"""A user's callbacks, without Home Assistant: bounded work per call, and the same list.

`CallbackList.take` follows every finished call of a user; it finds the open item of
the caller's number, the call ids counted before and, when the list is full, the
oldest item, through indexes. Here they are checked against the list searched in
order, as it was before them.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace
from itertools import count
import random
from typing import Any

import pytest

from custom_components.wildix import callbacks
from custom_components.wildix.call_log import LoggedCall
from custom_components.wildix.callbacks import Callback, CallbackList
from custom_components.wildix.phone_numbers import number_key
from custom_components.wildix.protocol import Direction

DAY_MS = 86_400_000
NOW_MS = 1_741_079_700_000


def finished(
    call_id: str,
    number: str,
    started_ms: int,
    *,
    missed: bool = False,
    outgoing: bool = False,
    answered: bool = False,
) -> LoggedCall:
    """Return a finished call with a remote party."""
    return LoggedCall(
        call_id=call_id,
        direction=Direction.OUTBOUND if outgoing else Direction.INBOUND,
        outgoing=outgoing,
        remote_number=number,
        remote_name=None,
        remote_local=False,
        started_ms=started_ms,
        ended_ms=started_ms + 30_000,
        answered=answered,
        missed=missed,
        talk_seconds=25.0 if answered else 0.0,
    )


def german(number: str) -> str:
    """Compare numbers as a German Home Assistant does."""
    return number_key(number, "DE")


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count the reads of an item's number key, counted calls and last call.

    These are what finding the caller's open item, a call counted before and the
    oldest item look at in each item searched.
    """
    counted: Counter[str] = Counter()
    for field in ("key", "calls", "last_ms"):
        slot = Callback.__dict__[field]

        def get(item: Callback, slot: Any = slot, field: str = field) -> Any:
            counted[field] += 1
            return slot.__get__(item, Callback)

        def put(item: Callback, value: Any, slot: Any = slot) -> None:
            slot.__set__(item, value)

        monkeypatch.setattr(Callback, field, property(get, put))
    return counted


def test_a_full_list_looks_at_few_items_per_call(reads: Counter[str]) -> None:
    """A user with 500 open callbacks: each call looks at a few items, not all 500.

    Before, each call with a number went through every item to find its open one,
    a missed call from a new number through every item's calls again, and at the
    bound through every item for the oldest: 1,500 reads for a new caller.
    """
    items = CallbackList(german)
    started = NOW_MS - DAY_MS
    for caller in range(callbacks.MAX_CALLBACKS):
        items.take(
            finished(f"m{caller}", f"030 555 {caller:05}", started, missed=True), NOW_MS
        )
        started += 60_000
    assert len(items.items) == callbacks.MAX_CALLBACKS
    reads.clear()

    calls = 0
    for round_ in range(100):
        new = f"089 777 {round_:05}"
        known = f"030 555 {round_ * 3 + 1:05}"
        for call in (
            finished(f"n{round_}", new, started, missed=True),  # the oldest goes
            finished(f"a{round_}", known, started, missed=True),  # another attempt
            finished(f"a{round_}", known, started, missed=True),  # counted already
            finished(f"o{round_}", known, started + 1, outgoing=True),  # returned
            finished(f"a{round_}", known, started, missed=True),  # counted, done
        ):
            items.take(call, started)
            calls += 1
        started += 60_000

    looked = reads.total()
    assert len(items.items) == callbacks.MAX_CALLBACKS
    numbers = {item.number: item for item in items.items.values()}
    assert "089 777 00099" in numbers
    assert "030 555 00000" not in numbers  # the oldest went first
    assert numbers["030 555 00298"].done
    assert numbers["030 555 00298"].attempts == 2
    assert sum(not item.done for item in items.items.values()) == 400
    print(f"{calls} calls, {looked} reads: {dict(reads)}")  # noqa: T201
    assert looked <= 20 * calls, reads


class SearchedInOrder:
    """The callbacks as they were before the indexes: searched in order at each call."""

    def __init__(self, uids: Callable[[], str]) -> None:
        """Initialise an empty list naming new items by `uids`."""
        self.uids = uids
        self.items: dict[str, Callback] = {}

    def take(self, call: LoggedCall, now_ms: int) -> bool:
        """Follow a finished call."""
        assert call.remote_number is not None
        key = call.remote_number
        item = next(
            (item for item in self.items.values() if item.key == key and not item.done),
            None,
        )
        if not call.missed or call.outgoing:
            if item is None or call.started_ms < item.last_ms:
                return False
            if not (call.outgoing or call.answered):
                return False
            self.items[item.uid] = replace(item, completed_ms=now_ms)
            return True
        if item is not None:
            if call.call_id in item.calls:
                return False
            self.items[item.uid] = replace(
                item,
                name=call.remote_name or item.name,
                first_ms=min(item.first_ms, call.started_ms),
                last_ms=max(item.last_ms, call.started_ms),
                attempts=item.attempts + 1,
                calls=(*item.calls, call.call_id)[-callbacks.MAX_COUNTED :],
            )
            return True
        if any(call.call_id in other.calls for other in self.items.values()):
            return False
        if len(self.items) >= callbacks.MAX_CALLBACKS:
            del self.items[min(self.items.values(), key=lambda o: o.last_ms).uid]
        uid = self.uids()
        self.items[uid] = Callback(
            uid,
            key,
            key,
            None,
            False,
            call.started_ms,
            call.started_ms,
            1,
            (call.call_id,),
        )
        return True

    def set_done(self, uid: str, done: bool, now_ms: int) -> None:
        """Check or uncheck an item."""
        if done != self.items[uid].done:
            completed_ms = now_ms if done else None
            self.items[uid] = replace(self.items[uid], completed_ms=completed_ms)

    def rename(self, uid: str, summary: str | None) -> None:
        """Rename an item."""
        self.items[uid] = replace(self.items[uid], summary=summary)

    def delete(self, uids: list[str]) -> None:
        """Remove items."""
        for uid in uids:
            self.items.pop(uid, None)

    def expire(self, now_ms: int) -> bool:
        """Forget items completed more than a week ago."""
        since_ms = now_ms - callbacks.COMPLETED_MEMORY_MS
        kept = {
            uid: item
            for uid, item in self.items.items()
            if item.completed_ms is None or item.completed_ms >= since_ms
        }
        gone = len(kept) < len(self.items)
        self.items = kept
        return gone

    def restore(self, data: list[dict[str, Any]]) -> None:
        """Load items as saved, skipping malformed ones."""
        for entry in data:
            try:
                item = Callback.from_dict(entry)
            except (KeyError, TypeError, ValueError):
                continue
            self.items[item.uid] = item


def uid_maker() -> Callable[[], str]:
    """Return a maker of the uids 0, 1, 2..., as every run names its items alike."""
    numbers: Iterator[int] = count()
    return lambda: f"{next(numbers)}"


class Uid:
    """What `uuid4()` returns, as far as the callbacks read it."""

    def __init__(self, hex_: str) -> None:
        """Hold a uid."""
        self.hex = hex_


@pytest.mark.parametrize("seed", range(6))
def test_the_indexes_keep_the_list_as_searched_in_order(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Random calls and edits give the list as searching it in order gave.

    A small bound and few counted calls, so that the oldest item goes, calls are let
    go and numbers come back; the saved list restored, with malformed entries, is
    followed further. What happened is checked, so that each seed tests something.
    """
    monkeypatch.setattr(callbacks, "MAX_CALLBACKS", 8)
    monkeypatch.setattr(callbacks, "MAX_COUNTED", 3)
    made = uid_maker()
    monkeypatch.setattr(callbacks, "uuid4", lambda: Uid(made()))
    rng = random.Random(seed)
    numbers = [f"+4930555{number:04}" for number in range(12)]
    indexed = CallbackList(str)
    searched = SearchedInOrder(uid_maker())
    now_ms = NOW_MS
    call_ids: list[str] = []
    seen: Counter[str] = Counter()

    for _ in range(600):
        now_ms += rng.randrange(60_000, 4 * 3_600_000)
        uids = list(searched.items)
        operation = rng.random()
        if operation < 0.6 or not uids:
            if call_ids and rng.random() < 0.25:
                call_id = rng.choice(call_ids)
            else:
                call_id = f"call{len(call_ids)}"
                call_ids.append(call_id)
            kind = rng.choice(
                ("missed", "missed", "outgoing", "answered", "unanswered")
            )
            call = finished(
                call_id,
                rng.choice(numbers),
                now_ms - rng.randrange(0, 6 * 3_600_000),
                missed=kind == "missed",
                outgoing=kind == "outgoing",
                answered=kind == "answered",
            )
            changed = searched.take(call, now_ms)
            assert indexed.take(call, now_ms) == changed
            seen["evicted"] += not searched.items.keys() >= set(uids)
        elif operation < 0.75:
            uid, done = rng.choice(uids), rng.random() < 0.5
            key = searched.items[uid].key
            seen["reopened beside an open one"] += not done and any(
                item.key == key and not item.done for item in searched.items.values()
            )
            searched.set_done(uid, done, now_ms)
            indexed.set_done(uid, done, now_ms)
        elif operation < 0.8:
            uid = rng.choice(uids)
            searched.rename(uid, f"call back {uid}")
            indexed.rename(uid, f"call back {uid}")
        elif operation < 0.87:
            gone = [*rng.sample(uids, rng.randint(1, min(3, len(uids)))), "unknown"]
            searched.delete(gone)
            indexed.delete(gone)
        elif operation < 0.94:
            now_ms += rng.randrange(0, 10 * DAY_MS)
            expired = searched.expire(now_ms)
            assert indexed.expire(now_ms) == expired
            seen["expired"] += expired
        else:
            saved: list[dict[str, Any]] = [
                asdict(item) for item in indexed.items.values()
            ]
            if saved and rng.random() < 0.5:
                # Restored over the items held: some saved with another number and
                # state (and last call), changing their place in the indexes.
                data = [
                    {**entry, "key": rng.choice(numbers), "completed_ms": None}
                    | {"last_ms": entry["last_ms"] - rng.randrange(0, DAY_MS)}
                    for entry in rng.sample(saved, rng.randint(1, len(saved)))
                ]
                seen["restored over"] += 1
            else:
                data = [
                    *saved,
                    {"uid": "no number"},
                    {**(saved or [{}])[0], "attempts": "x"},
                ]
                indexed = CallbackList(str)
                searched.items = {}
                seen["restored"] += 1
            searched.restore(data)
            indexed.restore(data)
        assert list(indexed.items.items()) == list(searched.items.items())

    assert seen["evicted"] and seen["expired"] and seen["restored"], seen
    assert seen["restored over"] and seen["reopened beside an open one"], seen


def test_a_call_from_a_number_without_an_open_callback_is_not_read() -> None:
    """Most finished calls are answered or made, from and to numbers with no callback.

    Reading a number (libphonenumber) is the dearest step of following a call; the
    list reads one only when it is missed, or when an open item's number ends with
    the same digits. Before, it read every call's number.
    """
    read: Counter[str] = Counter()

    def counted(number: str) -> str:
        read[number] += 1
        return german(number)

    items = CallbackList(counted)
    now_ms = NOW_MS
    for number in range(20):  # missed: each opens an item, its number read
        missed = finished(f"m{number}", f"+49 30 555 1{number:03}", now_ms, missed=True)
        assert items.take(missed, now_ms)
    for number in range(200):  # answered and made, from and to other numbers
        call = finished(
            f"a{number}",
            f"0049 89 777 2{number:03}",
            now_ms,
            missed=False,
            answered=number % 2 == 0,
            outgoing=number % 2 == 1,
        )
        assert not items.take(call, now_ms)
    # Calling back one of the missed numbers, written otherwise, completes its item.
    back = finished("b", "030 5551007", now_ms + 1, missed=False, outgoing=True)
    assert items.take(back, now_ms + 1)

    assert sum(read.values()) == 21  # 221 before
    assert sum(item.done for item in items.items.values()) == 1
