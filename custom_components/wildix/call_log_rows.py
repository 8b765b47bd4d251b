"""The call log's rows: how a logged call is held in memory and stored, and checking stored ones.

A row holds only strings, numbers, booleans and None (the enums' values, not the
enums): the garbage collector does not track such a tuple, and the logs of an entry
at its bounds hold 1.3 million calls. No Home Assistant imports.
"""

from enum import StrEnum
from typing import Any, Final

from .protocol import Direction

# A logged call as a row: call_id, direction, outgoing, remote_number, remote_name,
# remote_local, started_ms, ended_ms, answered, missed, talk_seconds, answered_by,
# voicemail, recording, source (call_log.LoggedCall.as_row).
type Row = tuple[
    str,
    str,
    bool,
    str | None,
    str | None,
    bool,
    int,
    int,
    bool,
    bool,
    float,
    str | None,
    bool,
    bool,
    str,
]
ROW_LENGTH: Final = 15
COL_OUTGOING: Final = 2
COL_NUMBER: Final = 3
COL_STARTED: Final = 6
COL_ENDED: Final = 7
COL_MISSED: Final = 9
COL_TALK: Final = 10
COL_SOURCE: Final = 14


class Source(StrEnum):
    """Where a logged call came from."""

    LIVE = "live"  # the webhook or queue events
    HISTORY = "history"  # the PBX's call history (API)


_DIRECTIONS = frozenset(direction.value for direction in Direction)
_SOURCES = frozenset(source.value for source in Source)
_TEXT_TYPES = {str, type(None)}


def stored_row(raw: Any) -> Row:
    """Return a stored call as the log holds it; raise TypeError or ValueError if it is none."""
    if not isinstance(raw, list | tuple) or len(raw) != ROW_LENGTH:
        raise TypeError("a logged call is stored as a list of its fields")
    (
        call_id,
        direction,
        outgoing,
        remote_number,
        remote_name,
        remote_local,
        started_ms,
        ended_ms,
        answered,
        missed,
        talk_seconds,
        answered_by,
        voicemail,
        recording,
        source,
    ) = raw
    return (
        str(call_id),
        Direction(direction).value,
        bool(outgoing),
        _text(remote_number),
        _text(remote_name),
        bool(remote_local),
        int(started_ms),
        int(ended_ms),
        bool(answered),
        bool(missed),
        float(talk_seconds),
        _text(answered_by),
        bool(voicemail),
        bool(recording),
        Source(source).value,
    )


def stored_rows(raw: list[Any]) -> list[Row]:
    """Return stored calls as the log holds them, leaving out each that is no call."""
    if (rows := _held_rows(raw)) is not None:
        return rows
    # Some row is not as this version stores it: each is checked alone.
    rows = []
    for item in raw:
        try:
            rows.append(stored_row(item))
        except (TypeError, ValueError):
            continue
    return rows


def _held_rows(raw: list[Any]) -> list[Row] | None:
    """Return stored rows as the log holds them, if all have the log's types; else None.

    Checked a field at a time over all the rows, in bulk: a restart restores every
    user's log (1.3 million calls at the bounds).
    """
    if not raw:
        return []
    if set(map(type, raw)) != {list} or set(map(len, raw)) != {ROW_LENGTH}:
        return None
    columns = list(zip(*raw, strict=True))
    if not (
        _types(columns[0]) == {str}
        and _types(columns[1]) == _types(columns[14]) == {str}
        and set(columns[1]) <= _DIRECTIONS
        and set(columns[14]) <= _SOURCES
        and _types(columns[COL_STARTED]) == _types(columns[COL_ENDED]) == {int}
        and _types(columns[COL_TALK]) == {float}
        and all(_types(columns[index]) == {bool} for index in (2, 5, 8, 9, 12, 13))
        and all(_types(columns[index]) <= _TEXT_TYPES for index in (3, 4, 11))
    ):
        return None
    return list(map(tuple, raw))


def _types(column: tuple[Any, ...]) -> set[type]:
    return set(map(type, column))


def _text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("a text or nothing was expected")
    return value
