"""The call log: each user's finished calls, bounded, and what a day of them adds up to.

No Home Assistant imports. Calls come from the model's records (live) and from the
PBX's call history (backfill); the same call from both is kept once.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Self

from .call_log_rows import (
    COL_ENDED,
    COL_MISSED,
    COL_NUMBER,
    COL_OUTGOING,
    COL_SOURCE,
    COL_STARTED,
    COL_TALK,
    Row,
    Source,
    stored_rows,
)
from .calls import Call, CallRecord
from .pbx_history import HistoryRecord
from .protocol import Direction, is_internal_number

DEFAULT_LOG_DAYS = 90
DEFAULT_LOG_CALLS = 2000
# A call the PBX's history reports is the live one when it began this close to it.
SAME_CALL_WINDOW_MS = 90 * 1000


@dataclass(frozen=True, slots=True)
class LoggedCall:
    """One user's side of a finished call."""

    call_id: str
    direction: Direction
    outgoing: bool
    remote_number: str | None
    remote_name: str | None
    remote_local: bool
    started_ms: int
    ended_ms: int
    answered: bool
    missed: bool
    talk_seconds: float
    answered_by: str | None = None
    voicemail: bool = False
    recording: bool = False
    source: Source = Source.LIVE

    @classmethod
    def from_record(
        cls, extension: str, record: CallRecord, call: Call | None
    ) -> Self | None:
        """Return what the log keeps of an ended record, None while it has not ended."""
        if record.ended_ms is None:
            return None
        leg = None if call is None else call.legs.get(extension)
        answered_by = next(
            (
                other.extension
                for other in (() if call is None else call.legs.values())
                if other.record.answered
            ),
            None,
        )
        types = {item.type for item in record.attachments}
        return cls(
            call_id=record.call_id,
            direction=record.direction,
            outgoing=(
                record.direction is Direction.OUTBOUND
                or (leg is not None and leg.caller)
            ),
            remote_number=record.remote_number,
            remote_name=record.remote_name,
            remote_local=record.remote_local,
            started_ms=record.started_ms,
            ended_ms=max(record.ended_ms, record.started_ms),
            answered=record.answered,
            missed=bool(record.missed),
            talk_seconds=(record.duration or 0.0) if record.answered else 0.0,
            answered_by=extension if record.answered else answered_by,
            voicemail="voicemail" in types,
            recording="recording" in types or bool(record.recordings),
        )

    def as_row(self) -> Row:
        """Return the call as a row of plain values: as stored, and as the log holds it.

        Only strings, numbers, booleans and None (the enums' values, not the enums):
        the garbage collector stops tracking such a tuple, and a log at its bounds
        holds 1.3 million calls.
        """
        return (
            self.call_id,
            self.direction.value,
            self.outgoing,
            self.remote_number,
            self.remote_name,
            self.remote_local,
            self.started_ms,
            self.ended_ms,
            self.answered,
            self.missed,
            self.talk_seconds,
            self.answered_by,
            self.voicemail,
            self.recording,
            self.source.value,
        )

    @classmethod
    def of_row(cls, row: Row) -> Self:
        """Return the call a row the log holds (already checked) stands for."""
        return cls(
            row[0],
            Direction(row[1]),
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            row[8],
            row[9],
            row[10],
            row[11],
            row[12],
            row[13],
            Source(row[14]),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read a call as version 1 of the store kept it: a dict of its fields."""
        return cls(
            call_id=str(data["call_id"]),
            direction=Direction(data["direction"]),
            outgoing=bool(data["outgoing"]),
            remote_number=data.get("remote_number"),
            remote_name=data.get("remote_name"),
            remote_local=bool(data["remote_local"]),
            started_ms=int(data["started_ms"]),
            ended_ms=int(data["ended_ms"]),
            answered=bool(data["answered"]),
            missed=bool(data["missed"]),
            talk_seconds=float(data["talk_seconds"]),
            answered_by=data.get("answered_by"),
            voicemail=bool(data.get("voicemail")),
            recording=bool(data.get("recording")),
            source=Source(data.get("source", Source.LIVE)),
        )


@dataclass(frozen=True, slots=True)
class DayTotals:
    """What a user's calls of one day add up to."""

    calls: int = 0
    missed: int = 0
    talk_seconds: float = 0.0


class UserCallLog:
    """One user's logged calls by id, oldest first, within the bounds.

    Held as rows of plain values (LoggedCall.as_row), which the garbage collector
    does not track, with an index of the remote numbers so that matching the PBX's
    history to live calls does not go through the whole log.
    """

    def __init__(self, max_days: int, max_calls: int) -> None:
        """Initialise an empty log that keeps `max_days` and at most `max_calls`."""
        self.max_days = max_days
        self.max_calls = max_calls
        self._rows: dict[str, Row] = {}
        # The calls by the last nine digits of their remote number (None: no number),
        # as tuples of ids, which the garbage collector does not track either.
        # Built when first needed (not at restore: a restart restores every log).
        self._by_number: dict[str | None, tuple[str, ...]] | None = None
        # The last totals asked for (the daily sensors ask at every change), and the
        # latest call (the calendar asks at every change of its call): kept up to date
        # as calls are logged, worked out again over the whole log only after a
        # change that could move them some other way.
        # The last totals asked for: since when, the totals, their talk time in ms.
        self._totals: tuple[int, DayTotals, int] | None = None
        self._latest_row: Row | None = None
        self._latest_known = False
        self._latest: tuple[Row, LoggedCall] | None = None  # the latest row, read

    def __len__(self) -> int:
        """Return how many calls are logged."""
        return len(self._rows)

    def __contains__(self, call_id: object) -> bool:
        """Tell whether a call is logged, by id."""
        return call_id in self._rows

    def __iter__(self) -> Iterator[LoggedCall]:
        """Iterate over the logged calls, oldest first."""
        return (LoggedCall.of_row(row) for row in list(self._rows.values()))

    def add(self, call: LoggedCall, now_ms: int) -> bool:
        """Log a call, or update it; return whether the log changed."""
        if call.started_ms < now_ms - self.max_days * 86_400_000:
            return False
        if call.source is Source.HISTORY:
            if (live := self._match(call, Source.LIVE)) is not None:
                # The live record wins; the history only adds what it lacks.
                merged = replace(
                    live,
                    remote_name=live.remote_name or call.remote_name,
                    voicemail=live.voicemail or call.voicemail,
                    recording=live.recording or call.recording,
                )
                return self._put(merged.as_row())
        elif (backfilled := self._match(call, Source.HISTORY)) is not None:
            # Logged from the history before its events arrived: the live one wins.
            self._remove(backfilled.call_id)
        changed = self._put(call.as_row())
        if len(self._rows) > self.max_calls:
            # One over the bound: the oldest goes (older days go in prune, daily).
            oldest = min(self._rows.values(), key=_started)
            self._remove(oldest[0])
            changed = oldest[0] != call.call_id
        return changed

    def prune(self, now_ms: int) -> bool:
        """Drop calls older than the days kept and beyond the count; return whether any went."""
        oldest = now_ms - self.max_days * 86_400_000
        if len(self._rows) <= self.max_calls and all(
            row[COL_STARTED] >= oldest for row in self._rows.values()
        ):
            return False
        keep = sorted(
            (row for row in self._rows.values() if row[COL_STARTED] >= oldest),
            key=_started,
        )[-self.max_calls :]
        if len(keep) == len(self._rows):
            return False
        self._rows = {row[0]: row for row in keep}
        self._by_number = None
        self._forget_aggregates()
        return True

    def between(self, start_ms: int, end_ms: int) -> list[LoggedCall]:
        """Return the calls overlapping a window, by start."""
        return [
            LoggedCall.of_row(row)
            for row in sorted(
                (
                    row
                    for row in self._rows.values()
                    if row[COL_STARTED] < end_ms and row[COL_ENDED] >= start_ms
                ),
                key=_started,
            )
        ]

    def latest(self) -> LoggedCall | None:
        """Return the call that began last (the first logged of those, on a tie)."""
        if not self._latest_known:
            self._latest_row = max(self._rows.values(), key=_started, default=None)
            self._latest_known = True
        row = self._latest_row
        if row is None:
            return None
        if self._latest is None or self._latest[0] is not row:
            self._latest = (row, LoggedCall.of_row(row))
        return self._latest[1]

    def totals_since(self, start_ms: int) -> DayTotals:
        """Return what the calls that began at or after a time add up to.

        The talk time is added up in whole milliseconds: the same sum whatever
        order the calls came and went in, so that it can follow each call exactly.
        """
        if self._totals is not None and self._totals[0] == start_ms:
            return self._totals[1]
        calls = missed = talk_ms = 0
        for row in self._rows.values():
            if row[COL_STARTED] < start_ms:
                continue
            calls += 1
            missed += row[COL_MISSED]
            talk_ms += _ms(row[COL_TALK])
        totals = DayTotals(calls, missed, talk_ms / 1000)
        self._totals = (start_ms, totals, talk_ms)
        return totals

    def as_rows(self) -> list[Row]:
        """Return the log as stored: a row per call (LoggedCall.as_row), oldest first."""
        return list(self._rows.values())

    def restore(self, rows: list[Any], now_ms: int) -> None:
        """Load what as_rows stored, skipping malformed calls, then apply the bounds."""
        self._rows.update((row[0], row) for row in stored_rows(rows))
        self._by_number = None
        self._forget_aggregates()
        self.prune(now_ms)

    def _put(self, row: Row) -> bool:
        call_id = row[0]
        if (before := self._rows.get(call_id)) == row:
            return False
        index = self._by_number
        if index is not None and (before is None or _number(before) != _number(row)):
            if before is not None:
                self._unindex(_number(before), call_id)
            number = _number(row)
            index[number] = (*index.get(number, ()), call_id)
        self._rows[call_id] = row
        self._follow_latest(before, row)
        self._follow_totals(before, row)
        return True

    def _remove(self, call_id: str) -> None:
        row = self._rows.pop(call_id)
        if self._by_number is not None:
            self._unindex(_number(row), call_id)
        if self._latest_row is not None and self._latest_row[0] == call_id:
            self._latest_known = False
        self._follow_totals(row, None)

    def _follow_latest(self, before: Row | None, row: Row) -> None:
        """Keep the latest call known through a call logged or updated."""
        if not self._latest_known:
            return
        latest = self._latest_row
        if latest is None or row[COL_STARTED] > latest[COL_STARTED]:
            self._latest_row = row  # the only one that began last
        elif row[COL_STARTED] == latest[COL_STARTED]:
            if row[0] == latest[0]:
                self._latest_row = row  # the latest, updated: still the first of a tie
            elif before is not None:
                # An older row ties with it: the order of logging decides, and the
                # whole log is looked at again when asked (a new row comes last).
                self._latest_known = False
        elif row[0] == latest[0]:
            self._latest_known = False  # the latest began earlier now

    def _follow_totals(self, before: Row | None, row: Row | None) -> None:
        """Keep the last totals asked for through a call logged, updated or removed.

        The call as it was is taken off and as it is now added on: whole numbers,
        so the totals stay what adding up the log gives, without going through it.
        """
        if self._totals is None:
            return
        start_ms, totals, talk_ms = self._totals
        calls, missed, talk = totals.calls, totals.missed, talk_ms
        for sign, counted in ((-1, before), (1, row)):
            if counted is not None and counted[COL_STARTED] >= start_ms:
                calls += sign
                missed += sign * counted[COL_MISSED]
                talk += sign * _ms(counted[COL_TALK])
        if (calls, missed, talk) != (totals.calls, totals.missed, talk_ms):
            self._totals = (start_ms, DayTotals(calls, missed, talk / 1000), talk)

    def _forget_aggregates(self) -> None:
        self._totals = None
        self._latest_known = False

    def _unindex(self, number: str | None, call_id: str) -> None:
        index = self._index()
        if ids := tuple(other for other in index[number] if other != call_id):
            index[number] = ids
        else:
            del index[number]

    def _index(self) -> dict[str | None, tuple[str, ...]]:
        """Return the calls by number, built the first time it is needed."""
        if self._by_number is None:
            index: dict[str | None, list[str]] = {}
            for call_id, row in self._rows.items():
                index.setdefault(_number(row), []).append(call_id)
            self._by_number = {number: tuple(ids) for number, ids in index.items()}
        return self._by_number

    def _match(self, call: LoggedCall, source: Source) -> LoggedCall | None:
        """Return the call of the other source this one is (same party, close start)."""
        for call_id in self._index().get(_last_digits(call.remote_number), ()):
            row = self._rows[call_id]
            if (
                row[COL_SOURCE] == source
                and abs(row[COL_STARTED] - call.started_ms) <= SAME_CALL_WINDOW_MS
                and row[COL_OUTGOING] == call.outgoing
            ):
                return LoggedCall.of_row(row)
        return None


def _ms(seconds: float) -> int:
    """Return a talk time in whole milliseconds."""
    return round(seconds * 1000)


def _started(row: Row) -> int:
    return row[COL_STARTED]


def _number(row: Row) -> str | None:
    return _last_digits(row[COL_NUMBER])


def _last_digits(number: str | None) -> str | None:
    """Return what identifies a reported number's line: its last nine digits."""
    if number is None:
        return None
    if (digits := number.removeprefix("+")).isdigit():
        # As Wildix reports numbers: no need to pick the digits out.
        return digits[-9:]
    return "".join(ch for ch in number if ch.isdigit())[-9:]


def from_history(
    record: HistoryRecord, extension: str, *, missed_internal: bool
) -> LoggedCall | None:
    """Return one user's side of a PBX history row, None if they are not in it."""
    caller = record.from_number == extension or (
        record.channel is not None and record.channel.startswith(f"SIP/{extension}-")
    )
    if caller:
        number, name = record.to_number, record.to_name
    elif record.to_number == extension:
        number, name = record.from_number, record.from_name
    else:
        return None
    local = number is not None and is_internal_number(number)
    if local:
        direction = Direction.INTERNAL
    else:
        direction = Direction.OUTBOUND if caller else Direction.INBOUND
    missed = (
        record.missed
        and not caller
        and (direction is Direction.INBOUND or missed_internal)
    )
    start_ms = int(record.start.timestamp() * 1000)
    return LoggedCall(
        call_id=f"cdr_{record.id}",
        direction=direction,
        outgoing=caller,
        remote_number=number,
        remote_name=name if name != number else None,
        remote_local=local,
        started_ms=start_ms,
        ended_ms=max(int(record.end.timestamp() * 1000), start_ms),
        answered=record.answered,
        missed=missed,
        talk_seconds=float(record.talk_seconds),
        answered_by=extension if record.answered and not caller else None,
        voicemail=record.voicemail,
        source=Source.HISTORY,
    )
