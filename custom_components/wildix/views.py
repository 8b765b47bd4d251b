"""What users see of the model: entity attributes and event data, privacy applied."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .model import CallMoment, CallRecord, Phone, User
from .protocol import Attachment

# Attributes new with every call (its id, start, duration and files): the recorder
# leaves them out, or each call would add rows of attributes seen only once.
CALL_UNRECORDED = ("call_id", "started", "duration", "attachments")

# Where the inbox keeps a user's file of a call: (media content id, epoch ms), or None.
FileLookup = Callable[[str, str, Attachment], tuple[str, int] | None]


def timestamp(epoch_ms: float) -> datetime:
    """Return an aware datetime for epoch milliseconds."""
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def remote_party(
    record: CallRecord | CallMoment, show_remote: bool
) -> dict[str, str | None]:
    """Return the other party of a call, hidden for outside parties if asked."""
    if not show_remote and not record.remote_local:
        return {"remote_number": None, "remote_name": None}
    return {"remote_number": record.remote_number, "remote_name": record.remote_name}


def attachments(
    record: CallRecord | CallMoment,
    extension: str,
    show_remote: bool,
    find: FileLookup,
) -> list[dict[str, str | None]]:
    """Return a call's files as the inbox plays them, never the PBX's URL.

    The PBX's URL carries no secret of ours but leads to the PBX (and some PBXs serve
    it without a token): browsers get the inbox's media content id instead, which
    Home Assistant resolves with its own permission checks. Wildix names recordings
    after the caller's number, so the file name is hidden with an outside party.
    """
    hide = not show_remote and not record.remote_local
    return [
        _attachment(item, find(extension, record.call_id, item), hide)
        for item in record.attachments
    ]


def _attachment(
    item: Attachment, found: tuple[str, int] | None, hide: bool
) -> dict[str, str | None]:
    time_ms = item.start_ms if found is None else found[1]
    return {
        "type": item.type,
        "name": None if hide else item.name,
        "time": None if time_ms is None else timestamp(time_ms).isoformat(),
        "media_content_id": None if found is None else found[0],
    }


def presence_attributes(user: User) -> dict[str, Any] | None:
    """Return the attributes of a user's presence sensor."""
    if (presence := user.presence) is None:
        return None
    location = presence.location
    return {
        "status": presence.status,
        "message": presence.message,
        "until": presence.until,
        "location": None
        if location is None
        else {
            "address": location.address,
            "latitude": location.latitude,
            "longitude": location.longitude,
        },
    }


def call_attributes(user: User, show_remote: bool, phone: Phone) -> dict[str, Any]:
    """Return the attributes of a user's phone sensor, from what the phone shows."""
    attributes: dict[str, Any] = {"telephony_status": user.telephony}
    if (leg := phone.leg) is not None:
        record = leg.record
        attributes |= {
            "call_id": record.call_id,
            "direction": record.direction.value,
            **remote_party(record, show_remote),
            "started": timestamp(record.started_ms),
            "answered": record.answered,
        }
    return attributes


def last_call_attributes(
    user: User, show_remote: bool, find: FileLookup
) -> dict[str, Any] | None:
    """Return the attributes of a user's last call sensor."""
    if (record := user.last_call) is None:
        return None
    result: dict[str, Any] = {
        "call_id": record.call_id,
        "direction": record.direction.value,
        **remote_party(record, show_remote),
        "duration": record.duration,
        "missed": bool(record.missed),
        "end_cause": record.end_cause,
    }
    if record.attachments:
        result["attachments"] = attachments(record, user.extension, show_remote, find)
    return result


def moment_data(
    moment: CallMoment, show_remote: bool, find: FileLookup
) -> dict[str, Any]:
    """Return what automations see of a call moment."""
    data: dict[str, Any] = {
        "type": moment.type.value,
        "call_id": moment.call_id,
        "direction": moment.direction.value,
        **remote_party(moment, show_remote),
    }
    if moment.duration is not None:
        data["duration"] = moment.duration
    if moment.missed is not None:
        data["missed"] = moment.missed
    if moment.attachments:
        data["attachments"] = attachments(moment, moment.extension, show_remote, find)
    if moment.media_content_id is not None:
        data["media_content_id"] = moment.media_content_id
    return data
