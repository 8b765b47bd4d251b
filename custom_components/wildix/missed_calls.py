"""A user's missed calls since a time, from their call log (call_history.py).

The call log keeps each user's finished calls for up to 90 days across restarts, and
with the PBX API the PBX's history too (calls from before Home Assistant knew the
PBX). The model's calls are added in case one ended but was not logged, e.g. one the
log's bounds left out.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.util import dt as dt_util

from .call_log import LoggedCall
from .model import Call, CallRecord

if TYPE_CHECKING:
    from .hub import WildixHub


async def async_missed_calls(
    hub: "WildixHub", extension: str, since: datetime
) -> list[LoggedCall]:
    """Return a user's missed calls that began at or after `since`, newest first.

    With the PBX API, the PBX's history of the window is read first (once per past
    day; today again, as the calendar does).
    """
    await hub.call_history.async_backfill(since, dt_util.utcnow())
    since_ms = since.timestamp() * 1000
    found: dict[str, LoggedCall] = {}
    if (log := hub.call_history.logs.get(extension)) is not None:
        found = {
            call.call_id: call
            for call in log
            if call.missed and call.started_ms >= since_ms
        }
    model = hub.model
    records: list[tuple[CallRecord, Call | None]] = [
        (leg.record, call)
        for call in model.ended_calls.values()
        if (leg := call.legs.get(extension)) is not None
    ]
    if (user := model.users.get(extension)) is not None and user.last_call:
        records.append((user.last_call, model.ended_calls.get(user.last_call.call_id)))
    for record, call in records:
        if (
            record.missed
            and record.started_ms >= since_ms
            and record.call_id not in found
            and (log is None or record.call_id not in log)
            and (logged := LoggedCall.from_record(extension, record, call)) is not None
        ):
            found[record.call_id] = logged
    return sorted(found.values(), key=lambda call: call.started_ms, reverse=True)
