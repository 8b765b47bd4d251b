"""Realistic signed Wildix traffic for the tests, the soak test and the benchmark (standard library only).

Calls are the protocol fixtures re-addressed to other users, call ids, numbers and
times; each call also brings the telephony presence its users would report. The
generator knows what every user must end with (missed calls, last call, presence),
so a run can be checked without asking the integration what it thinks.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
import hashlib
import hmac
import json
from pathlib import Path
import random
from typing import Any

from . import calls

FIXTURES = Path(__file__).parent / "fixtures"
COMPANY = "de_w204518"
PBX = "2211000a7c3e"
INTEGRATION = "k3v9tq"
CALL_SPACING_MS = 1000

_FIXTURE_CALLS = ("3101", "3188", "3107", "3240")
_FIXTURE_REMOTES = ("+4930555010203", "+4940555777888", "+4989555123456")
_FIXTURE_USERS = {
    "201": ("Alice Example", "alice@example.com", "4401201"),
    "202": ("Bob Example", "bob@example.com", "4401202"),
    "203": ("Carol Example", "carol@example.com", "4401203"),
}
_TIME_KEYS = frozenset({"time", "startTime", "endTime"})


class CallKind(StrEnum):
    """What happens in a generated call."""

    INBOUND_ANSWERED = "inbound_answered"
    INBOUND_MISSED = "inbound_missed"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class Family(StrEnum):
    """Which Wildix call events report a generated call."""

    LEGACY = "legacy"
    LIVE = "live"
    BOTH = "both"


_LIVE_END_INTERNAL = "call_live_progress_internal+completed"

# Fixture names per kind and family; the fixture users 201/202/203 stand for the
# callee of inbound calls, the caller of outbound calls, and the internal callee/caller.
_CALLS: dict[CallKind, dict[str, tuple[str, ...]]] = {
    CallKind.INBOUND_ANSWERED: {
        "legacy": calls.INBOUND_ANSWERED,
        "live": calls.INBOUND_ANSWERED_LIVE,
        "analytics": (calls.INBOUND_ANSWERED_RECORDED,),
    },
    CallKind.INBOUND_MISSED: {
        "legacy": calls.INBOUND_MISSED,
        "live": calls.INBOUND_MISSED_LIVE,
        "analytics": (calls.INBOUND_MISSED_RECORDED,),
    },
    CallKind.OUTBOUND: {
        "legacy": calls.OUTBOUND,
        "live": calls.OUTBOUND_LIVE,
        "analytics": (calls.OUTBOUND_RECORDED,),
    },
    CallKind.INTERNAL: {
        "legacy": calls.INTERNAL,
        "live": (*calls.INTERNAL_LIVE, _LIVE_END_INTERNAL),
        "analytics": (),
    },
}

# Telephony presence per role: (status, milliseconds after the call starts); None = at the end.
_TELEPHONY: dict[CallKind, dict[str, tuple[tuple[str, int | None], ...]]] = {
    CallKind.INBOUND_ANSWERED: {
        "201": (("ringing", 1140), ("talking", 6420), ("registered", None))
    },
    CallKind.INBOUND_MISSED: {"201": (("ringing", 900), ("registered", None))},
    CallKind.OUTBOUND: {"202": (("talking", 9600), ("registered", None))},
    CallKind.INTERNAL: {
        "203": (("talking", 300), ("registered", None)),
        "202": (("ringing", 700), ("registered", None)),
    },
}


def sign(body: bytes, secret: str) -> str:
    """Return the x-signature Wildix sends for a body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def compact(payload: Any) -> bytes:
    """Encode an event the way Wildix sends it: compact JSON, raw UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST: exact bytes, their signature, and the event type for statistics."""

    body: bytes
    signature: str
    type: str


@dataclass(slots=True)
class UserOutcome:
    """What one user must show once every generated event has arrived."""

    missed_calls: int = 0
    last_call: str | None = None
    last_call_started: int = -1
    presence: str | None = None
    presence_ms: int = -1
    calls: int = 0


@dataclass(slots=True)
class Expected:
    """What the generated traffic must leave behind."""

    users: dict[str, UserOutcome] = field(default_factory=dict)
    calls: int = 0


def _load(name: str) -> dict[str, Any]:
    if name == _LIVE_END_INTERNAL:
        payload = _load("call_live_progress_internal")
        payload["type"] = "call:live:completed"
        payload["time"] += 4900
        payload["data"]["time"] += 4900
        payload["data"]["eventTrigger"] = "call.end"
        return payload
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def _call_second(call_id: str) -> int:
    return int(call_id.rsplit("_", 1)[1].split(".", maxsplit=1)[0])


class Workload:
    """Generates calls and presence for a set of users, and what they must end in."""

    def __init__(
        self,
        secret: str,
        extensions: Sequence[str],
        *,
        seed: int = 0,
        start_ms: int | None = None,
        call_spacing_ms: int = CALL_SPACING_MS,
    ) -> None:
        """Prepare traffic for these users; `start_ms` is the first call's start.

        Calls start `call_spacing_ms` apart: with many users, a user's next call
        comes as long after their last one with a shorter spacing.
        """
        self.secret = secret
        self.call_spacing_ms = call_spacing_ms
        self.extensions = list(extensions)
        self.random = random.Random(seed)
        self.next_ms = (
            int(datetime.now(UTC).timestamp() * 1000) if start_ms is None else start_ms
        )
        self.sequence = 0
        self.expected = Expected()
        self._templates = {
            name: _load(name)
            for kinds in _CALLS.values()
            for names in kinds.values()
            for name in names
        }

    def name(self, extension: str) -> str:
        """Return the display name the generator gives a user."""
        return f"User {extension}"

    def delivery(self, payload: dict[str, Any]) -> Delivery:
        """Encode and sign one event."""
        body = compact(payload)
        return Delivery(body, sign(body, self.secret), payload["type"])

    def presence(self, extension: str, status: str, time_ms: int) -> dict[str, Any]:
        """Return a presence:user event."""
        outcome = self.expected.users.setdefault(extension, UserOutcome())
        if time_ms >= outcome.presence_ms:
            outcome.presence, outcome.presence_ms = status, time_ms
        return {
            "id": f"{COMPANY}_{extension}",
            "pbx": PBX,
            "company": COMPANY,
            "time": time_ms,
            "type": "presence:user",
            "integrationId": INTEGRATION,
            "data": {
                "extension": extension,
                "email": f"u{extension}@example.com",
                "sourceId": "",
                "status": status,
                "until": "",
                "message": "",
                "location": {"address": "", "lat": "", "lng": ""},
            },
        }

    def telephony(self, extension: str, status: str, time_ms: int) -> dict[str, Any]:
        """Return a presence:telephony event."""
        self.expected.users.setdefault(extension, UserOutcome())
        return {
            "id": f"{COMPANY}_{time_ms - 388}_{extension}",
            "pbx": PBX,
            "company": COMPANY,
            "time": time_ms,
            "type": "presence:telephony",
            "integrationId": INTEGRATION,
            "data": {
                "extension": extension,
                "email": f"u{extension}@example.com",
                "sourceId": "",
                "status": status,
            },
        }

    def call(
        self,
        kind: CallKind,
        family: Family,
        parties: Sequence[str],
        *,
        analytics: bool = True,
    ) -> list[dict[str, Any]]:
        """Return the events of one call in the order Wildix sends them.

        `parties` are the local users: the callee (inbound), the caller
        (outbound), or the callee then the caller (internal).
        """
        self.sequence += 1
        start_ms = self.next_ms
        self.next_ms += self.call_spacing_ms
        call_id = f"{COMPANY}_{start_ms // 1000}.{self.sequence}"
        remote = f"+49{self.random.randrange(10**9, 10**10)}"
        roles = {
            CallKind.INBOUND_ANSWERED: ("201",),
            CallKind.INBOUND_MISSED: ("201",),
            CallKind.OUTBOUND: ("202",),
            CallKind.INTERNAL: ("202", "203"),
        }[kind]
        role_of = dict(zip(roles, parties, strict=True))
        strings: dict[str, str] = dict.fromkeys(_FIXTURE_REMOTES, remote)
        for role, extension in role_of.items():
            name, email, user_id = _FIXTURE_USERS[role]
            strings |= {
                role: extension,
                name: self.name(extension),
                email: f"u{extension}@example.com",
                user_id: f"44{extension}",
            }
        names: list[str] = []
        if family in (Family.LEGACY, Family.BOTH):
            names.extend(_CALLS[kind]["legacy"])
        if family in (Family.LIVE, Family.BOTH):
            names.extend(_CALLS[kind]["live"])
        if analytics:
            names.extend(_CALLS[kind]["analytics"])
        events = [
            self._readdress(self._templates[name], call_id, start_ms, strings)
            for name in names
        ]
        end_ms = max(
            event["time"]
            for event in events
            if event["type"]
            in ("call:end", "call:live:completed", "call:live:interrupted")
        )
        for role, steps in _TELEPHONY[kind].items():
            for status, offset in steps:
                at = end_ms + 480 if offset is None else start_ms + offset
                events.append(self.telephony(role_of[role], status, at))
        events.sort(key=lambda event: event["time"])
        self._expect_call(kind, call_id, start_ms, parties)
        return events

    def _expect_call(
        self, kind: CallKind, call_id: str, start_ms: int, parties: Sequence[str]
    ) -> None:
        self.expected.calls += 1
        for extension in parties:
            outcome = self.expected.users.setdefault(extension, UserOutcome())
            outcome.calls += 1
            if start_ms > outcome.last_call_started:
                outcome.last_call, outcome.last_call_started = call_id, start_ms
        if kind is CallKind.INBOUND_MISSED:
            self.expected.users[parties[0]].missed_calls += 1

    def _readdress(
        self,
        template: dict[str, Any],
        call_id: str,
        start_ms: int,
        strings: dict[str, str],
    ) -> dict[str, Any]:
        shift = start_ms - _call_second(template["id"]) * 1000

        def walk(value: Any, key: str | None) -> Any:
            if isinstance(value, dict):
                return {k: walk(v, k) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v, None) for v in value]
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and key in _TIME_KEYS
            ):
                return value + shift
            if isinstance(value, str):
                if key == "start":
                    moved = datetime.fromisoformat(value) + timedelta(
                        milliseconds=shift
                    )
                    return moved.isoformat(timespec="milliseconds").replace(
                        "+00:00", "Z"
                    )
                if key == "id" and value.endswith(_FIXTURE_CALLS):
                    return call_id
                return strings.get(value, value)
            return value

        readdressed: dict[str, Any] = walk(template, None)
        return readdressed

    def mix(
        self, count: int, *, presence_share: float = 0.1, analytics_share: float = 0.5
    ) -> list[Delivery]:
        """Return about `count` deliveries: calls of every kind and family, and presence.

        A few calls overlap at any time, as on a busy PBX.
        """
        active: list[Iterator[dict[str, Any]]] = []
        out: list[Delivery] = []
        while len(out) < count:
            while len(active) < 8:
                active.append(iter(self._random_call(analytics_share)))
            if self.random.random() < presence_share:
                extension = self.random.choice(self.extensions)
                status = self.random.choice(("available", "away", "dnd", "busy"))
                self.next_ms += 1
                out.append(
                    self.delivery(self.presence(extension, status, self.next_ms))
                )
                continue
            stream = self.random.choice(active)
            event = next(stream, None)
            if event is None:
                active.remove(stream)
                continue
            out.append(self.delivery(event))
        for stream in active:
            out.extend(self.delivery(event) for event in stream)
        return out

    def _random_call(self, analytics_share: float) -> list[dict[str, Any]]:
        kind = self.random.choice(list(CallKind))
        family = self.random.choice(list(Family))
        count = 2 if kind is CallKind.INTERNAL else 1
        parties = self.random.sample(self.extensions, count)
        return self.call(
            kind, family, parties, analytics=self.random.random() < analytics_share
        )
