"""Wildix PBX events: parse the envelope and event families, verify signatures.

This module knows the Wildix wire format and nothing of Home Assistant.
"""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
import hashlib
import hmac
from operator import attrgetter
import re
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from _hashlib import HASH

SIGNATURE_HEADER = "x-signature"
SQS_SIGNATURE_ATTRIBUTE = "X-SIGNATURE"

# Wildix events nest a few levels; deeper data is refused before it reaches
# Home Assistant's bus, whose JSON writer stops at a depth of 254.
MAX_DEPTH = 32
# A signed sender must not be able to make one event cost much: texts become
# device and entity names, flows become users.
MAX_TEXT = 255
MAX_FLOWS = 64
# Files one flow may list, and the longest file URL kept (a cut URL would be wrong).
MAX_ATTACHMENTS = 16
MAX_URL = 2048
# Durations and indexes beyond these are nonsense (a call of 100 days); larger
# numbers would not even fit Home Assistant's JSON writer.
MAX_DURATION_MS = 100 * 24 * 3600 * 1000
MAX_FLOW_INDEX = 1_000_000
MAX_EPOCH_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
# An extension needs a letter or digit: ".", "-" or "#" alone name nobody.
# The one key each `attachments[]` element holds (PBX-API-HISTORY.md §5).
_ATTACHMENT_KINDS = ("voicemail", "recording", "fax")
_EXTENSION = re.compile(r"(?=[^0-9A-Za-z]*[0-9A-Za-z])[0-9A-Za-z_.*#-]{1,32}")


class ProtocolError(ValueError):
    """A delivery that is not a Wildix event."""


class EventType(StrEnum):
    """Event types this integration understands."""

    CALL_START = "call:start"
    CALL_UPDATE = "call:update"
    CALL_END = "call:end"
    CALL_LIVE_PROGRESS = "call:live:progress"
    CALL_LIVE_COMPLETED = "call:live:completed"
    CALL_LIVE_INTERRUPTED = "call:live:interrupted"
    CALL_COMPLETED = "call:completed"
    PRESENCE_USER = "presence:user"
    PRESENCE_TELEPHONY = "presence:telephony"


class CallFamily(StrEnum):
    """Which Wildix event family reported a call."""

    LEGACY = "legacy"
    LIVE = "live"
    ANALYTICS = "analytics"


class CallPhase(StrEnum):
    """What a call event says about the call."""

    PROGRESS = "progress"
    END = "end"
    HISTORY = "history"


class Direction(StrEnum):
    """Direction of a call as seen by one of its local parties."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class LegStatus(StrEnum):
    """Status of a call leg as Wildix reports it."""

    CONNECTING = "CONNECTING"
    TALKING = "TALKING"
    HOLD = "HOLD"
    # Analytics flows describe a stored, ended leg and carry no status.
    ENDED = "ENDED"
    UNKNOWN = "UNKNOWN"


class TelephonyStatus(StrEnum):
    """Documented values of a user's telephony presence."""

    REGISTERED = "registered"
    RINGING = "ringing"
    TALKING = "talking"
    RINGING_WHILE_TALKING = "rt"


class PresenceStatus(StrEnum):
    """Known values of a user's presence."""

    AVAILABLE = "available"
    AWAY = "away"
    DND = "dnd"
    BUSY = "busy"
    OFFLINE = "offline"


_LEG_STATUSES = {status.value: status for status in LegStatus}
_ANSWERED = (LegStatus.TALKING, LegStatus.HOLD)
_DIRECTIONS = {direction.value: direction for direction in Direction}
_FLOW_INDEX = attrgetter("index")
# The words as Wildix sends them, found without cleaning them up first.
_DIRECTION_WORDS = _DIRECTIONS | {
    direction.value.upper(): direction for direction in Direction
}


# What a delivery becomes is built anew for each one and never changed afterwards, but
# is not frozen: a frozen dataclass sets every field through object.__setattr__, which
# made building them nearly a quarter of decoding a delivery. Nothing hashes them.
# Decoding builds them with positional arguments, named as the fields where it can: a
# class called with keywords goes through a dict (CPython specialises only positional
# calls), three times the cost.
@dataclass(slots=True)
class Party:
    """One end of a call flow."""

    local: bool
    phone: str | None
    name: str | None
    extension: str | None = None
    email: str | None = None
    user_id: str | None = None
    department: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file Wildix stored for a call leg: a recording, a voicemail, a fax."""

    type: str
    url: str | None
    name: str | None
    # Who the file belongs to (`caller`, `callee`, `system`), and when a recording ran.
    owner: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(slots=True)
class CallFlow:
    """One leg of a call: who calls whom and in which state."""

    index: int
    caller: Party | None
    callee: Party | None
    status: LegStatus
    direction: Direction | None
    # Talking, on hold, or with talk time: someone took the call on this leg.
    answered: bool
    remote_phone: str | None = None
    destination: str | None = None
    talk_time_ms: int | None = None
    duration_ms: int | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    missed: bool | None = None
    recordings: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    # The flow ended in voicemail (`flags` holds `voicemail`), with or without a file.
    voicemail: bool = False


@dataclass(slots=True)
class CallEvent:
    """A call started, changed, ended, or was stored in the call history."""

    call_id: str
    family: CallFamily
    phase: CallPhase
    flows: tuple[CallFlow, ...]
    start_ms: int | None = None
    # Why the call ended: Wildix's words for it, or its code when it gave none.
    end_cause: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    """Where a user said they are."""

    address: str | None
    latitude: float | None
    longitude: float | None


@dataclass(slots=True)
class UserPresence:
    """A user's presence changed (available, away, do not disturb...)."""

    extension: str
    email: str | None
    status: str
    message: str | None
    until: datetime | None
    location: Location | None


@dataclass(slots=True)
class UserTelephony:
    """A user's phone line changed state (idle, ringing, talking)."""

    extension: str
    email: str | None
    status: str


type EventBody = CallEvent | UserPresence | UserTelephony


@dataclass(slots=True)
class WildixEvent:
    """A verified Wildix delivery: the envelope and, for modelled types, its body."""

    id: str
    type: str
    time: int | None  # None only for types this integration does not model
    pbx: str | None
    company: str | None
    integration_id: str | None
    data: Mapping[str, Any]
    body: EventBody | None
    problem: str | None = None


# HMAC's key, padded to SHA-256's block and XORed in and out (RFC 2104).
_BLOCK = hashlib.sha256().block_size
_INNER = bytes(byte ^ 0x36 for byte in range(256))
_OUTER = bytes(byte ^ 0x5C for byte in range(256))


def compute_signature(secret: str, body: bytes) -> str:
    """Return the lowercase hex HMAC-SHA256 Wildix sends for a body."""
    inner_pad, outer_pad = _keyed(secret)
    inner = inner_pad.copy()
    inner.update(body)
    outer = outer_pad.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


@lru_cache(maxsize=4)
def _keyed(secret: str) -> tuple["HASH", "HASH"]:
    """Return SHA-256 already fed with a secret's inner and outer padded key.

    HMAC hashes the same two padded keys for every message: an entry signs every
    delivery with one secret, so they are hashed once per secret, not per delivery.
    """
    key = secret.encode()
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(key.translate(_INNER)), hashlib.sha256(key.translate(_OUTER))


def verify_signature(secret: str, body: bytes, signature: str | None) -> bool:
    """Tell whether a signature was made for exactly these bytes with this secret."""
    if not signature:
        return False
    given = signature.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(compute_signature(secret, body).encode(), given)


def decode_event(body: bytes) -> WildixEvent:
    """Decode the exact bytes of a delivery; raise ProtocolError if they are no event."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise ProtocolError("the body is not valid JSON") from err
    # Counting brackets is cheap and bounds the depth from above.
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and _deeper_than(
        payload, MAX_DEPTH
    ):
        raise ProtocolError(f"the body is nested deeper than {MAX_DEPTH} levels")
    return parse_event(payload)


def parse_event(payload: object) -> WildixEvent:
    """Turn a decoded JSON delivery into an event; raise ProtocolError if it is none."""
    if not isinstance(payload, dict):
        raise ProtocolError("the body is not a JSON object")
    get = payload.get
    event_type = get("type")
    if not isinstance(event_type, str) or not event_type:
        raise ProtocolError("the event has no type")
    event_id = get("id")
    if not isinstance(event_id, str) or not event_id:
        raise ProtocolError("the event has no id")
    time = _epoch_ms(get("time"))
    parse = _BODY_PARSERS.get(event_type)
    if time is None and parse is not None:
        # Other types are only passed through: refusing them would make Wildix
        # retry, forever, something this integration never uses.
        raise ProtocolError("the event has no valid time")
    data = get("data", {})
    if not isinstance(data, dict):
        raise ProtocolError("the event data is not an object")
    body: EventBody | None = None
    problem: str | None = None
    if parse is not None:
        try:
            body = parse(event_type, event_id, data)
        except ProtocolError as err:
            problem = str(err)
    pbx = _text(get("pbx"))
    company = _text(get("company"))
    integration_id = _text(get("integrationId"))
    return WildixEvent(
        event_id, event_type, time, pbx, company, integration_id, data, body, problem
    )


def without_file_urls(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return event data without the PBX's links to call files, the rest as it came.

    The links lead to the PBX (some serve files without a token), and browsers never
    get them (issue 21): `url` leaves every element of `attachments[]` (flat or with a
    nested `voicemail`/`recording`/`fax`) and `recordingsData[]`, and the deprecated
    `attachment` (a bare URL) leaves its flow; `attachmentType`, file names, owners and
    times stay. The inbox plays the files by their media content id instead.
    Data without such keys is returned as it is, not copied: most deliveries carry
    no file, and nothing changes the data once it is decoded.
    """
    if isinstance(data, dict) and not _holds_files(data):
        return data

    def strip(node: Mapping[str, Any]) -> dict[str, Any]:
        result = {key: value for key, value in node.items() if key != "attachment"}
        for key in ("attachments", "recordingsData"):
            if isinstance(items := result.get(key), list):
                result[key] = [_without_url(item) for item in items]
        return result

    result = strip(data)
    if isinstance(flows := result.get("flows"), list):
        result["flows"] = [
            strip(flow) if isinstance(flow, Mapping) else flow for flow in flows
        ]
    return result


def _holds_files(data: dict[str, Any]) -> bool:
    """Tell whether event data or one of its flows has a key that may link a file."""
    if "attachment" in data or "attachments" in data or "recordingsData" in data:
        return True
    flows = data.get("flows")
    if isinstance(flows, list):
        for flow in flows:
            if isinstance(flow, Mapping) and (
                "attachment" in flow
                or "attachments" in flow
                or "recordingsData" in flow
            ):
                return True
    return False


def _without_url(item: Any) -> Any:
    """Return an attachment element without `url`, also inside its nested kind."""
    if not isinstance(item, Mapping):
        return item
    return {
        key: _without_url(value) if key in _ATTACHMENT_KINDS else value
        for key, value in item.items()
        if key != "url"
    }


def redact_outside_parties(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return event data without the numbers and names of parties outside the PBX.

    A party is outside unless Wildix marks it LOCAL or its number is an extension.
    Every string that is or contains an outside number, or is an outside name,
    becomes None: recording URLs and transcription speakers name the caller too.
    """
    numbers: set[str] = set()
    names: set[str] = set()
    for node in _nodes(data):
        if isinstance(number := node.get("remotePhone"), str) and number.strip():
            numbers.add(number.strip())
        if not isinstance(node.get("phone", node.get("number")), str):
            continue
        number = str(node.get("phone", node.get("number"))).strip()
        if node.get("type") == "LOCAL" or (
            "type" not in node and is_internal_number(number)
        ):
            continue
        if number:
            numbers.add(number)
        if isinstance(name := node.get("name"), str) and name.strip():
            names.add(name.strip().casefold())
    digits = {only for number in numbers if len(only := re.sub(r"\D", "", number)) >= 5}
    numbers = {number for number in numbers if not is_internal_number(number)}

    def outside(text: str) -> bool:
        stripped = text.strip()
        return (
            stripped in numbers
            or stripped.casefold() in names
            or any(number in text for number in digits)
        )

    def redact(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: redact(item) for key, item in value.items()}
        if isinstance(value, list):
            return [redact(item) for item in value]
        if isinstance(value, str) and outside(value):
            return None
        return value

    redacted: dict[str, Any] = redact(dict(data))
    return redacted


def _nodes(value: object) -> Iterator[dict[str, Any]]:
    """Yield every JSON object inside decoded JSON data, the outermost first."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _deeper_than(value: object, limit: int) -> bool:
    """Tell whether JSON data nests objects and arrays deeper than a limit."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = []
    if isinstance(value, dict | list):
        stack.append((value, 1))
    while stack:
        node, level = stack.pop()
        if level > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend(
            (child, level + 1) for child in children if isinstance(child, dict | list)
        )
    return False


def _live_call(event_type: str, event_id: str, data: dict[str, Any]) -> CallEvent:
    phase = (
        CallPhase.PROGRESS
        if event_type == EventType.CALL_LIVE_PROGRESS
        else CallPhase.END
    )
    return _flows_call(CallFamily.LIVE, phase, event_id, data)


def _stored_call(_event_type: str, event_id: str, data: dict[str, Any]) -> CallEvent:
    return _flows_call(CallFamily.ANALYTICS, CallPhase.HISTORY, event_id, data)


def _telephony(_event_type: str, _event_id: str, data: dict[str, Any]) -> UserTelephony:
    extension = _required_extension(data.get("extension"))
    email = _text(data.get("email"))
    return UserTelephony(extension, email, _text(data.get("status")) or "")


def _legacy_call(event_type: str, event_id: str, data: dict[str, Any]) -> CallEvent:
    get = data.get
    caller = _party(get("caller"))
    callee = _party(get("callee"))
    destination = _text(get("destination"))
    status = _leg_status(get("status"))
    direction = _legacy_direction(caller, callee, destination, data)
    remote_phone = _remote_phone(caller, callee)
    # Positional, in the order of the fields (see CallFlow).
    flow = CallFlow(
        0,  # index
        caller,
        callee,
        status,
        direction,
        status in _ANSWERED,  # answered
        remote_phone,
        destination,
        None,  # talk_time_ms
        None,  # duration_ms
        None,  # start_ms
        None,  # end_ms
        None,  # missed
        (),  # recordings
        _attachments(data),
        _voicemail_flag(data),
    )
    call_id = _text(get("id")) or event_id
    phase = CallPhase.END if event_type == EventType.CALL_END else CallPhase.PROGRESS
    return CallEvent(call_id, CallFamily.LEGACY, phase, (flow,), None, _end_cause(data))


def _flows_call(
    family: CallFamily, phase: CallPhase, event_id: str, data: dict[str, Any]
) -> CallEvent:
    raw_flows = data.get("flows")
    flows: list[CallFlow] = []
    if isinstance(raw_flows, list):
        for position, raw in enumerate(raw_flows[:MAX_FLOWS]):
            if isinstance(raw, dict):
                flows.append(
                    _flow(position, raw, stored=family is CallFamily.ANALYTICS)
                )
    flows.sort(key=_FLOW_INDEX)
    call_id = _text(data.get("id")) or event_id
    start_ms = _iso_ms(data.get("start"))
    end_cause = _end_cause(data)
    return CallEvent(call_id, family, phase, tuple(flows), start_ms, end_cause)


def _flow(position: int, raw: dict[str, Any], *, stored: bool = False) -> CallFlow:
    get = raw.get
    caller = _party(get("caller"))
    callee = _party(get("callee"))
    call_status = _text(get("callStatus"))
    index = _integer(get("flowIndex"), MAX_FLOW_INDEX)
    status = (
        LegStatus.ENDED
        if stored and get("status") is None
        else _leg_status(get("status"))
    )
    talk_time_ms = _integer(get("talkTime"), MAX_DURATION_MS)
    # Positional, in the order of the fields (see CallFlow).
    return CallFlow(
        position if index is None else index,  # index
        caller,
        callee,
        status,
        _direction(get("direction")),
        status in _ANSWERED or bool(talk_time_ms),  # answered
        _text(get("remotePhone")) or _remote_phone(caller, callee),
        _text(get("destination")),
        talk_time_ms,
        _integer(get("duration"), MAX_DURATION_MS),
        _epoch_ms(get("startTime")),  # start_ms
        _epoch_ms(get("endTime")),  # end_ms
        None if call_status is None else call_status.upper() == "MISSED",  # missed
        _recordings(raw),
        _attachments(raw),
        _voicemail_flag(raw),
    )


def _presence(_event_type: str, _event_id: str, data: dict[str, Any]) -> UserPresence:
    get = data.get
    extension = _required_extension(get("extension"))
    email = _text(get("email"))
    status = (_text(get("status")) or "").lower()
    message = _text(get("message"))
    until = _iso_datetime(get("until"))
    location = _location(get("location"))
    return UserPresence(extension, email, status, message, until, location)


def _end_cause(data: dict[str, Any]) -> str | None:
    words = data.get("endCauseStr")
    code = data.get("endCause")
    if words is None and code is None:  # a call that goes on
        return None
    return _text(words) or _text(code)


def _party(raw: object) -> Party | None:
    if not isinstance(raw, dict):
        return None
    get = raw.get
    phone = _text(get("phone"))
    name = _text(get("name"))
    extension = None
    if isinstance(kind := get("type"), str) and kind.strip() == "LOCAL":
        extension = _extension(get("userExtension")) or _extension(phone)
    if extension is None:
        # Only the PBX's users are learnt about: an outside party is a number and a name.
        return Party(False, phone, name)
    email = _text(get("email"))
    user_id = _text(get("userId"))
    department = _text(get("userDepartment"))
    group = _text(get("groupName"))
    return Party(True, phone, name, extension, email, user_id, department, group)


def _legacy_direction(
    caller: Party | None,
    callee: Party | None,
    destination: str | None,
    data: dict[str, Any],
) -> Direction | None:
    """Derive the direction the legacy family does not state."""
    if caller is None:
        return None
    if callee is not None:
        if caller.local and callee.local:
            return Direction.INTERNAL
        return Direction.OUTBOUND if caller.local else Direction.INBOUND
    if not caller.local:
        return Direction.INBOUND
    # The callee of a new outgoing call is not known yet: a short dialled
    # number without a trunk is another extension.
    if (
        data.get("trunkName") is None
        and destination is not None
        and is_internal_number(destination)
    ):
        return Direction.INTERNAL
    return Direction.OUTBOUND


def _remote_phone(caller: Party | None, callee: Party | None) -> str | None:
    for party in (caller, callee):
        if party is not None and not party.local:
            return party.phone
    return None


def _location(raw: object) -> Location | None:
    if not isinstance(raw, dict):
        return None
    address = _text(raw.get("address"))
    latitude = _coordinate(raw.get("lat"), 90)
    longitude = _coordinate(raw.get("lng"), 180)
    if address is None and latitude is None and longitude is None:
        return None
    return Location(address, latitude, longitude)


def _recordings(raw: dict[str, Any]) -> tuple[str, ...]:
    data = raw.get("recordingsData")
    plain = raw.get("recordings")
    if not isinstance(data, list) and not isinstance(plain, list):
        return ()  # most flows have no recording
    names: list[str] = []
    if isinstance(data, list):
        names.extend(
            name
            for item in data
            if isinstance(item, dict) and (name := _text(item.get("fileName")))
        )
    if not names and isinstance(plain, list):
        names.extend(name for item in plain if (name := _text(item)))
    return tuple(names)


def _attachments(raw: dict[str, Any]) -> tuple[Attachment, ...]:
    """Return the files of a flow, in every shape the sources show.

    `attachments[]` elements hold one key each (`{"voicemail": {...}}`,
    `{"recording": {...}}`, `{"fax": {...}}`) or, in older readings, are flat with a
    `type`; `recordingsData[]` lists recordings; the deprecated `attachment` is one
    URL whose kind `attachmentType` names (PBX-API-HISTORY.md §5).
    """
    get = raw.get
    if (
        not isinstance(get("attachments"), list)
        and not isinstance(get("recordingsData"), list)
        and not isinstance(get("attachment"), str)
    ):
        return ()  # most flows have no file
    found: list[Attachment] = []

    def add(item: dict[str, Any], kind: str) -> None:
        url = _url(item.get("url"))
        name = _text(item.get("fileName")) or _text(item.get("name"))
        if url is None and name is None:
            return
        owner = (_text(item.get("owner")) or "").lower() or None
        start_ms = _epoch_ms(item.get("start"))
        end_ms = _epoch_ms(item.get("end"))
        attachment = Attachment(kind.lower(), url, name, owner, start_ms, end_ms)
        if all(url != other.url or name != other.name for other in found):
            found.append(attachment)

    for key, default_type in (
        ("attachments", "attachment"),
        ("recordingsData", "recording"),
    ):
        items = raw.get(key)
        if not isinstance(items, list):
            continue
        for item in items[:MAX_ATTACHMENTS]:
            if not isinstance(item, dict):
                continue
            nested = [
                (kind, value)
                for kind in _ATTACHMENT_KINDS
                if isinstance(value := item.get(kind), dict)
            ]
            for kind, value in nested:
                add(value, kind)
            if not nested:
                add(item, _text(item.get("type")) or default_type)
    if (url := _url(raw.get("attachment"))) is not None:
        add({"url": url}, _text(raw.get("attachmentType")) or "attachment")
    return tuple(found)


def _voicemail_flag(raw: dict[str, Any]) -> bool:
    """Tell whether a flow says it ended in voicemail (`flags`, `attachmentType`)."""
    flags = raw.get("flags")
    if (
        isinstance(flags, list)
        and flags
        and any(
            isinstance(flag, str) and flag.strip().lower() == "voicemail"
            for flag in flags[:MAX_ATTACHMENTS]
        )
    ):
        return True
    kind = raw.get("attachmentType")
    return kind is not None and (_text(kind) or "").lower() == "voicemail"


def _leg_status(raw: object) -> LegStatus:
    if isinstance(raw, str) and (status := _LEG_STATUSES.get(raw)) is not None:
        return status
    text = _text(raw)
    if text is None:
        return LegStatus.UNKNOWN
    return _LEG_STATUSES.get(text.upper(), LegStatus.UNKNOWN)


def _direction(raw: object) -> Direction | None:
    if isinstance(raw, str) and (direction := _DIRECTION_WORDS.get(raw)) is not None:
        return direction
    text = _text(raw)
    if text is None:
        return None
    return _DIRECTIONS.get(text.lower())


def is_extension(text: str) -> bool:
    """Tell whether a string can be a Wildix extension."""
    # Nearly every extension is ASCII letters and digits: no regular expression.
    if len(text) <= 32 and text.isascii() and text.isalnum():
        return True
    return _EXTENSION.fullmatch(text) is not None


def is_internal_number(text: str) -> bool:
    """Tell whether a dialled number is another extension rather than an outside number."""
    return is_extension(text) and len(text) <= 6


def _required_extension(raw: object) -> str:
    extension = _extension(raw)
    if extension is None:
        raise ProtocolError("the event names no valid extension")
    return extension


def _extension(raw: object) -> str | None:
    if (
        isinstance(raw, str)
        and len(raw) <= 32
        and raw.isascii()
        and raw.isalnum()  # nothing to strip, and an extension
    ):
        return raw
    text = _text(raw)
    if text is None or not is_extension(text):
        return None
    return text


def _text(raw: object) -> str | None:
    """Return a text (or a number as text), stripped and cut to MAX_TEXT characters."""
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT].rstrip()
        return text or None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)[:MAX_TEXT]
    return None


def _url(raw: object) -> str | None:
    """Return a URL as sent, or None when it is no text or too long to be whole."""
    if not isinstance(raw, str) or len(raw) > MAX_URL:
        return None
    return raw.strip() or None


def _integer(raw: object, maximum: int) -> int | None:
    """Return a whole number from 0 to maximum; None for anything else."""
    if type(raw) is int:  # what JSON holds nearly always
        return raw if 0 <= raw <= maximum else None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    if not 0 <= raw <= maximum:  # also refuses NaN
        return None
    return int(raw)


def _epoch_ms(raw: object) -> int | None:
    if type(raw) is int and 0 <= raw <= MAX_EPOCH_MS:
        return raw
    return _integer(raw, MAX_EPOCH_MS)


def _coordinate(raw: object, limit: float) -> float | None:
    if raw is None or raw == "":  # how Wildix sends no location
        return None
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not -limit <= value <= limit:
        return None
    return value


def _iso_datetime(raw: object) -> datetime | None:
    text = _text(raw)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _iso_ms(raw: object) -> int | None:
    value = _iso_datetime(raw)
    if value is None:
        return None
    return _epoch_ms(round(value.timestamp() * 1000))


# One look-up instead of a match over every type; a modelled type is one listed here.
_BODY_PARSERS: dict[str, Callable[[str, str, dict[str, Any]], EventBody]] = {
    EventType.CALL_START: _legacy_call,
    EventType.CALL_UPDATE: _legacy_call,
    EventType.CALL_END: _legacy_call,
    EventType.CALL_LIVE_PROGRESS: _live_call,
    EventType.CALL_LIVE_COMPLETED: _live_call,
    EventType.CALL_LIVE_INTERRUPTED: _live_call,
    EventType.CALL_COMPLETED: _stored_call,
    EventType.PRESENCE_USER: _presence,
    EventType.PRESENCE_TELEPHONY: _telephony,
}
