"""How the model is saved and restored: plain JSON data for Home Assistant's storage.

No Home Assistant imports; the hub hands this data to a Store.

Version 1.2 added the ended calls; 1.1 data (without them) restores as is.

A save encodes each user and call to JSON bytes on its own (`encode`): a storage
writes those pieces as they are, and can encode the users a few at a time, so
that no save holds the event loop for long (storage.py). The shape is the same as
`model_as_dict`'s.
"""

from collections.abc import Callable, Iterable
from datetime import datetime
import logging
from typing import Any

import orjson

from .model import (
    ENDED_CALL_MEMORY,
    MAX_CLOCK_AHEAD_MS,
    Call,
    CallRecord,
    Leg,
    MomentType,
    PbxModel,
    PhoneState,
    Presence,
    Ranked,
    User,
)
from .protocol import Attachment, Direction, Location

_LOGGER = logging.getLogger(__name__)


def model_as_dict(model: PbxModel) -> dict[str, Any]:
    """Return the model as JSON-serialisable data."""
    return {
        "pbx_serial": model.pbx_serial,
        "last_event": model.last_event,
        "users": _storable("user", model.users.values(), user_as_dict),
        "calls": _storable("call", model.calls.values(), call_as_dict),
        # Enough of an ended call to know it ended: a retried event stays quiet.
        "ended_calls": [
            [call.call_id, call.started_ms, call.last_news]
            for call in model.ended_calls.values()
        ],
    }


def encode[T](
    kind: str, item: T, as_dict: Callable[[T], dict[str, Any]]
) -> orjson.Fragment | None:
    """Return an item as JSON bytes to embed in a save, None if JSON cannot hold it.

    One bad value must not make every save fail and lose everything else.
    """
    try:
        return orjson.Fragment(orjson.dumps(as_dict(item)))
    except TypeError as err:
        _LOGGER.warning("Not saving a %s that cannot be stored: %s", kind, err)
        return None


def model_as_data(model: PbxModel, users: list[orjson.Fragment]) -> dict[str, Any]:
    """Return the model as data to save, with its users encoded before (`encode`)."""
    return {
        "pbx_serial": model.pbx_serial,
        "last_event": model.last_event,
        "users": users,
        "calls": [
            encoded
            for call in model.calls.values()
            if (encoded := encode("call", call, call_as_dict)) is not None
        ],
        "ended_calls": orjson.Fragment(
            orjson.dumps(
                [
                    (call.call_id, call.started_ms, call.last_news)
                    for call in model.ended_calls.values()
                ]
            )
        ),
    }


def restore_model(model: PbxModel, data: dict[str, Any], now: float) -> None:
    """Load into a model what model_as_dict saved, as seen at an epoch time in seconds."""
    now_ms = int(now * 1000)

    def sane(time_ms: int) -> int:
        # Times saved from a wrong clock before they were checked must not
        # make every later event look older.
        return now_ms if time_ms > now_ms + MAX_CLOCK_AHEAD_MS else time_ms

    model.pbx_serial = data.get("pbx_serial")
    model.last_event = data.get("last_event")
    for raw in data.get("users", []):
        user = _user_from_dict(raw)
        user.presence_ms = sane(user.presence_ms)
        user.telephony_ms = sane(user.telephony_ms)
        user.calls_ms = sane(user.calls_ms)
        model.users[user.extension] = user
    for raw in data.get("calls", []):
        call = _call_from_dict(raw)
        call.last_ms = sane(call.last_ms)
        model.calls[call.call_id] = call
        for leg in call.legs.values():
            member = model.users.get(leg.extension)
            if member is not None and not leg.ended:
                member.legs[call.call_id] = leg
    for call_id, started_ms, last_news in data.get("ended_calls", []):
        if last_news >= now - ENDED_CALL_MEMORY:
            model.ended_calls[call_id] = Call(
                call_id, started_ms, started_ms, last_news, ended=True
            )


def _storable[T](
    kind: str, items: Iterable[T], as_dict: Callable[[T], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Return the items as data, leaving out any one that JSON cannot hold.

    One bad value must not make every save fail and lose everything else.
    """
    stored = []
    for item in items:
        data = as_dict(item)
        try:
            orjson.dumps(data)
        except TypeError as err:
            _LOGGER.warning("Not saving a %s that cannot be stored: %s", kind, err)
            continue
        stored.append(data)
    return stored


def _record_as_dict(record: CallRecord) -> dict[str, Any]:
    return {
        "call_id": record.call_id,
        "direction": record.direction.value,
        "remote_number": record.remote_number,
        "remote_name": record.remote_name,
        "remote_local": record.remote_local,
        "started_ms": record.started_ms,
        "ended_ms": record.ended_ms,
        "answered": record.answered,
        "duration_ms": record.reported_duration_ms.value,
        "duration_rank": record.reported_duration_ms.rank,
        "missed": record.reported_missed.value,
        "missed_rank": record.reported_missed.rank,
        "end_cause": record.reported_end_cause.value,
        "end_cause_rank": record.reported_end_cause.rank,
        "recordings": list(record.recordings),
        "attachments": [
            {"type": item.type, "url": item.url, "name": item.name}
            for item in record.attachments
        ],
    }


def _record_from_dict(raw: dict[str, Any]) -> CallRecord:
    return CallRecord(
        call_id=raw["call_id"],
        direction=Direction(raw["direction"]),
        remote_number=raw.get("remote_number"),
        remote_name=raw.get("remote_name"),
        remote_local=raw.get("remote_local", False),
        started_ms=raw["started_ms"],
        ended_ms=raw.get("ended_ms"),
        answered=raw.get("answered", False),
        reported_duration_ms=Ranked(
            raw.get("duration_ms"), raw.get("duration_rank", 0)
        ),
        reported_missed=Ranked(raw.get("missed"), raw.get("missed_rank", 0)),
        reported_end_cause=Ranked(raw.get("end_cause"), raw.get("end_cause_rank", 0)),
        recordings=tuple(raw.get("recordings", ())),
        attachments=tuple(
            Attachment(type=item["type"], url=item.get("url"), name=item.get("name"))
            for item in raw.get("attachments", ())
        ),
    )


def user_as_dict(user: User) -> dict[str, Any]:
    """Return a user as stored."""
    presence = user.presence
    return {
        "extension": user.extension,
        "name": user.name,
        "email": user.email,
        "user_id": user.user_id,
        "group": user.group,
        "department": user.department,
        "presence": None
        if presence is None
        else {
            "status": presence.status,
            "message": presence.message,
            "until": None if presence.until is None else presence.until.isoformat(),
            "location": None
            if presence.location is None
            else {
                "address": presence.location.address,
                "latitude": presence.location.latitude,
                "longitude": presence.location.longitude,
            },
        },
        "presence_ms": user.presence_ms,
        "telephony": user.telephony,
        "telephony_ms": user.telephony_ms,
        "calls_ms": user.calls_ms,
        "last_call": None
        if user.last_call is None
        else _record_as_dict(user.last_call),
        "missed_calls": user.missed_calls,
        "counted": list(user.counted),
    }


def _user_from_dict(raw: dict[str, Any]) -> User:
    presence = None
    if (raw_presence := raw.get("presence")) is not None:
        location = None
        if (raw_location := raw_presence.get("location")) is not None:
            location = Location(
                address=raw_location.get("address"),
                latitude=raw_location.get("latitude"),
                longitude=raw_location.get("longitude"),
            )
        until = raw_presence.get("until")
        presence = Presence(
            status=raw_presence.get("status", ""),
            message=raw_presence.get("message"),
            until=None if until is None else datetime.fromisoformat(until),
            location=location,
        )
    user = User(
        extension=raw["extension"],
        name=raw.get("name"),
        email=raw.get("email"),
        user_id=raw.get("user_id"),
        group=raw.get("group"),
        department=raw.get("department"),
        presence=presence,
        presence_ms=raw.get("presence_ms", -1),
        telephony_ms=raw.get("telephony_ms", -1),
        calls_ms=raw.get("calls_ms", -1),
        last_call=None
        if raw.get("last_call") is None
        else _record_from_dict(raw["last_call"]),
        missed_calls=raw.get("missed_calls", 0),
    )
    user.report_line(raw.get("telephony"))
    user.counted.extend(raw.get("counted", ()))
    return user


def call_as_dict(call: Call) -> dict[str, Any]:
    """Return an active call as stored."""
    return {
        "call_id": call.call_id,
        "started_ms": call.started_ms,
        "last_ms": call.last_ms,
        "last_news": call.last_news,
        "legs": [
            {
                "extension": leg.extension,
                "caller": leg.caller,
                "state": leg.state.value,
                "updated_ms": leg.updated_ms,
                "flow_index": leg.flow_index,
                "ended": leg.ended,
                "fired": sorted(leg.fired),
                "record": _record_as_dict(leg.record),
            }
            for leg in call.legs.values()
        ],
    }


def _call_from_dict(raw: dict[str, Any]) -> Call:
    call = Call(
        call_id=raw["call_id"],
        started_ms=raw["started_ms"],
        last_ms=raw["last_ms"],
        last_news=raw["last_news"],
    )
    for raw_leg in raw.get("legs", []):
        leg = Leg(
            extension=raw_leg["extension"],
            caller=raw_leg["caller"],
            record=_record_from_dict(raw_leg["record"]),
            state=PhoneState(raw_leg["state"]),
            updated_ms=raw_leg["updated_ms"],
            flow_index=raw_leg.get("flow_index", -1),
            ended=raw_leg.get("ended", False),
            fired={MomentType(kind) for kind in raw_leg.get("fired", ())},
        )
        call.legs[leg.extension] = leg
    return call
