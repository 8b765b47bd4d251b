"""A user's missed calls since a time, from the calls the model remembers.

The model keeps ended calls for a day (calls.ENDED_CALL_MEMORY) and each user's
last call; the call log (a persisted calendar) will answer for longer periods.
"""

from datetime import datetime

from .model import CallRecord, PbxModel


def missed_calls(model: PbxModel, extension: str, since: datetime) -> list[CallRecord]:
    """Return a user's missed calls that began at or after `since`, newest first."""
    since_ms = since.timestamp() * 1000
    found: dict[str, CallRecord] = {}
    records = [
        leg.record
        for call in model.ended_calls.values()
        if (leg := call.legs.get(extension)) is not None
    ]
    if (user := model.users.get(extension)) is not None and user.last_call:
        records.append(user.last_call)
    for record in records:
        if record.missed and record.started_ms >= since_ms:
            found[record.call_id] = record
    return sorted(found.values(), key=lambda record: record.started_ms, reverse=True)
