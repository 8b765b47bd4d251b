"""The call log's bounds and deduplication, without Home Assistant."""

from collections import Counter
from dataclasses import replace
import gc
import random
from time import perf_counter
from typing import Any

import pytest

from custom_components.wildix import call_log, call_log_rows
from custom_components.wildix.call_log import LoggedCall, UserCallLog
from custom_components.wildix.call_log_rows import Source
from custom_components.wildix.protocol import Direction

DAY_MS = 86_400_000
NOW_MS = 1_741_079_700_000


def call(number: int, started_ms: int, **changes: object) -> LoggedCall:
    """Return a finished inbound call."""
    logged = LoggedCall(
        call_id=f"call{number}",
        direction=Direction.INBOUND,
        outgoing=False,
        remote_number=f"+49305550{number:05}",
        remote_name=None,
        remote_local=False,
        started_ms=started_ms,
        ended_ms=started_ms + 60_000,
        answered=True,
        missed=False,
        talk_seconds=55.0,
    )
    return replace(logged, **changes)  # type: ignore[arg-type]


def test_at_most_the_calls_and_days_of_the_options() -> None:
    """2,000 calls a user and 90 days: the oldest go first; a call older is refused."""
    log = UserCallLog(max_days=90, max_calls=2000)
    for number in range(2500):
        log.add(call(number, NOW_MS - (2500 - number) * 60_000), NOW_MS)
    assert len(log) == 2000
    assert "call499" not in log and "call500" in log
    assert not log.add(call(9999, NOW_MS - 91 * DAY_MS), NOW_MS)
    log.max_days = 1
    assert log.prune(NOW_MS + DAY_MS)
    assert len(log) == 0


def test_a_month_of_2000_calls_is_read_quickly() -> None:
    """A 30-day window over 2,000 calls; the time is printed, not asserted."""
    log = UserCallLog(max_days=90, max_calls=2000)
    for number in range(2000):
        log.add(call(number, NOW_MS - number * 30 * 60_000), NOW_MS)
    started = perf_counter()
    window = log.between(NOW_MS - 30 * DAY_MS, NOW_MS)
    elapsed = perf_counter() - started
    print(f"30-day window over 2,000 calls: {elapsed * 1000:.2f} ms")  # noqa: T201
    # One call every half hour: 48 a day; the window's end is exclusive.
    assert len(window) == 30 * 48


def test_the_same_call_from_both_sources_is_kept_once() -> None:
    """History then live, or live then history: one call, the live one."""
    live = call(1, NOW_MS - 3_600_000)
    history = replace(
        live,
        call_id="cdr_10452",
        source=Source.HISTORY,
        remote_number="004930555000001",
        started_ms=live.started_ms + 20_000,
        voicemail=True,
    )
    first = UserCallLog(90, 2000)
    first.add(history, NOW_MS)
    first.add(live, NOW_MS)
    assert [logged.call_id for logged in first] == ["call1"]
    second = UserCallLog(90, 2000)
    second.add(live, NOW_MS)
    second.add(history, NOW_MS)
    (kept,) = second
    assert kept.call_id == "call1"
    assert kept.voicemail
    # Another caller at the same time is another call.
    second.add(
        replace(history, call_id="cdr_10453", remote_number="+4940555777888"), NOW_MS
    )
    assert len(second) == 2


def test_a_full_log_gives_the_garbage_collector_nothing_to_go_through() -> None:
    """At the bounds an entry logs 1.3 million calls (650 users, 2,000 each).

    A full collection of the garbage collector goes through every object that may
    hold others: the log holds its calls as rows of plain values, which it does
    not track (before, every logged call was one more object to go through).
    """
    gc.collect()
    before = len(gc.get_objects())
    log = UserCallLog(max_days=90, max_calls=2000)
    for number in range(2000):
        log.add(call(number, NOW_MS - number * 60_000), NOW_MS)
    restored = UserCallLog(max_days=90, max_calls=2000)
    restored.restore([list(row) for row in log.as_rows()], NOW_MS)
    gc.collect()
    assert len(log) == len(restored) == 2000
    assert len(gc.get_objects()) - before < 100


def test_matching_the_history_looks_only_at_calls_with_its_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each call of the PBX's history is matched against the live calls with its number.

    Before, each one went through the whole log (2,000 calls a user).
    """
    compared = 0

    def counted(value: Any) -> Any:
        nonlocal compared
        compared += 1
        return abs(value)

    log = UserCallLog(max_days=90, max_calls=2000)
    for number in range(1900):
        log.add(call(number, NOW_MS - number * 60_000), NOW_MS)
    monkeypatch.setattr(call_log, "abs", counted, raising=False)
    for number in range(1900, 2000):
        log.add(call(number, NOW_MS - number * 60_000, source=Source.HISTORY), NOW_MS)
    assert len(log) == 2000
    assert compared <= 100


def test_restoring_a_log_builds_no_call_object(monkeypatch: pytest.MonkeyPatch) -> None:
    """A restart restores every user's log (1.3 million calls at the bounds).

    The stored rows are checked and kept as rows; a call object is built only when
    a call is shown, and a value converted only when it was stored otherwise. Before,
    restoring built one call per row, converting every value, and took it apart again.
    """
    log = UserCallLog(max_days=90, max_calls=2000)
    for number in range(2000):
        log.add(call(number, NOW_MS - number * 60_000), NOW_MS)
    stored = [list(row) for row in log.as_rows()]
    built = 0
    real = LoggedCall.__init__

    def counted(self: LoggedCall, *args: Any, **kwargs: Any) -> None:
        nonlocal built
        built += 1
        real(self, *args, **kwargs)

    converted = 0

    def direction(value: Any) -> Direction:
        nonlocal converted
        converted += 1
        return Direction(value)

    monkeypatch.setattr(LoggedCall, "__init__", counted)
    monkeypatch.setattr(call_log_rows, "Direction", direction)
    restored = UserCallLog(max_days=90, max_calls=2000)
    restored.restore(stored, NOW_MS)
    assert built == 0
    # Rows stored by this version have the log's types: nothing is converted.
    assert converted == 0
    assert len(restored) == 2000
    assert restored.latest() == call(0, NOW_MS)


def test_restoring_checks_the_rows_in_bulk_and_indexes_numbers_when_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows as this version stores them are checked a field at a time over all rows.

    No function runs per row at restore (before: a check and a number's digits per
    call); the index of numbers is built when the history is first matched.
    """
    log = UserCallLog(max_days=90, max_calls=2000)
    for number in range(2000):
        log.add(call(number, NOW_MS - number * 60_000), NOW_MS)
    stored = [list(row) for row in log.as_rows()]
    per_row: Counter[str] = Counter()

    def counting(module: Any, name: str) -> Any:
        real = getattr(module, name)

        def counted(*args: Any) -> Any:
            per_row[name] += 1
            return real(*args)

        return counted

    for module, name in ((call_log_rows, "stored_row"), (call_log, "_last_digits")):
        monkeypatch.setattr(module, name, counting(module, name))
    restored = UserCallLog(max_days=90, max_calls=2000)
    restored.restore(stored, NOW_MS)
    assert len(restored) == 2000
    assert per_row == Counter()
    # The first call of the history to match builds the index once.
    assert not restored.add(call(5, NOW_MS - 5 * 60_000, source=Source.HISTORY), NOW_MS)
    assert per_row["_last_digits"] == 2001


def test_a_malformed_stored_call_is_left_out_alone() -> None:
    """A row this version would not store makes restoring check each row by itself."""
    good = [
        list(call(number, NOW_MS - number * 60_000).as_row()) for number in range(3)
    ]
    bad: list[Any] = [
        ["short"],
        [*good[0][:1], ["not", "a", "direction"], *good[0][2:]],
        [*good[0][:6], "not a time", *good[0][7:]],
        "not a row",
    ]
    old = [*good[2][:10], 55, *good[2][11:]]  # talk time stored as a whole number
    log = UserCallLog(max_days=90, max_calls=2000)
    log.restore([good[0], *bad, good[1], old], NOW_MS)
    assert [logged.call_id for logged in log] == ["call0", "call1", "call2"]
    assert log.latest() == call(0, NOW_MS)


class _CountedRows(dict[str, Any]):
    """A log's calls, counting the times something went through all of them."""

    scans = 0

    def values(self) -> Any:
        _CountedRows.scans += 1
        return super().values()


def test_the_latest_call_and_todays_totals_follow_new_calls_without_a_scan() -> None:
    """A new call updates the latest call and today's totals without a scan.

    The calendar asks for the latest call and the daily sensors for today's totals
    at every change of a log; before, each went through its 2,000 calls again.
    """
    log = UserCallLog(max_days=90, max_calls=5000)
    for number in range(2000):
        log.add(call(number, NOW_MS - (3000 - number) * 60_000), NOW_MS)
    day_ms = NOW_MS - DAY_MS
    log.latest()
    log.totals_since(day_ms)
    log._rows = _CountedRows(log._rows)
    _CountedRows.scans = 0
    for number in range(2000, 2100):
        log.add(call(number, NOW_MS - (3000 - number) * 60_000), NOW_MS)
        assert log.latest() == call(number, NOW_MS - (3000 - number) * 60_000)
        log.totals_since(day_ms)
    assert _CountedRows.scans == 0
    totals = log.totals_since(day_ms)
    assert (totals.calls, totals.talk_seconds) == (540, 540 * 55.0)


def test_todays_totals_follow_calls_refined_or_evicted_without_a_scan() -> None:
    """A logged call that changes, or leaves the log, changes today's totals without a scan.

    Calls are refined after they are logged (their length, whether they were
    missed, as later events tell). Before, each such change had the next look at
    the totals go through the whole log again.
    """
    log = UserCallLog(max_days=90, max_calls=2000)
    for number in range(2000):
        log.add(call(number, NOW_MS - (3000 - number) * 60_000), NOW_MS)
    day_ms = NOW_MS - DAY_MS
    log.totals_since(day_ms)
    log._rows = _CountedRows(log._rows)
    _CountedRows.scans = 0
    for number in range(1900, 2000):
        refined = call(
            number,
            NOW_MS - (3000 - number) * 60_000,
            missed=number % 2 == 0,
            talk_seconds=number / 1000,
        )
        log.add(refined, NOW_MS)
        log.totals_since(day_ms)
    log.add(call(2000, NOW_MS), NOW_MS)  # one over the bound: the oldest goes
    totals = log.totals_since(day_ms)
    assert _CountedRows.scans == 1  # the search for the oldest call to evict
    today = [logged for logged in log if logged.started_ms >= day_ms]
    assert totals == call_log.DayTotals(
        len(today),
        sum(logged.missed for logged in today),
        sum(round(logged.talk_seconds * 1000) for logged in today) / 1000,
    )
    assert (totals.calls, totals.missed) == (441, 50)


@pytest.mark.parametrize("seed", range(6))
def test_the_latest_call_and_todays_totals_are_those_of_the_whole_log(
    seed: int,
) -> None:
    """The latest call and a day's totals are what going through the log gives.

    Through calls logged, updated, tied, refined by the history, evicted and
    pruned, to the last bit of the talk time.
    """
    rng = random.Random(seed)
    log = UserCallLog(max_days=2, max_calls=40)
    now_ms = NOW_MS
    day_ms = NOW_MS - DAY_MS // 2
    for _ in range(600):
        number = rng.randrange(80)
        roll = rng.random()
        if roll < 0.03:
            now_ms += rng.randrange(DAY_MS // 4)
            log.prune(now_ms)
        elif roll < 0.06:
            day_ms += rng.choice((-1, 1)) * rng.randrange(DAY_MS // 2)
        else:
            started = now_ms - rng.randrange(8) * 3_600_000 - rng.choice((0, 1000))
            log.add(
                call(
                    number,
                    started,
                    missed=rng.random() < 0.3,
                    talk_seconds=round(rng.uniform(0, 900), 3),
                    source=rng.choice((Source.LIVE, Source.LIVE, Source.HISTORY)),
                ),
                now_ms,
            )
        if rng.random() < 0.8:  # asked most of the time, as the entities do
            calls = list(log)
            assert log.latest() == max(
                calls, key=lambda logged: logged.started_ms, default=None
            )
            today = [logged for logged in calls if logged.started_ms >= day_ms]
            # To the millisecond, in whatever order the calls came and went.
            talk_ms = sum(round(logged.talk_seconds * 1000) for logged in today)
            assert log.totals_since(day_ms) == call_log.DayTotals(
                len(today), sum(logged.missed for logged in today), talk_ms / 1000
            )
