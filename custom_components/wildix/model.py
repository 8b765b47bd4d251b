"""The PBX as state: its users, their presence and their phone line; calls are tracked by calls.py.

Built from parsed Wildix events; no Home Assistant imports. Ordering, duplicate
tolerance and the expiry of calls whose end was lost live here and in calls.py.
"""

from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from .calls import (
    ENDED_CALL_MEMORY,
    MAX_ACTIVE_CALLS,
    MAX_CALL_PARTIES,
    MAX_ENDED_CALLS,
    Call,
    CallRecord,
    CallTracker,
    Leg,
    PhoneState,
    Ranked,
)
from .changes import Aspect, CallMoment, Changes, MomentType, PbxAspect
from .protocol import (
    CallEvent,
    CallPhase,
    Location,
    Party,
    PresenceStatus,
    TelephonyStatus,
    UserPresence,
    UserTelephony,
    WildixEvent,
)

__all__ = [
    "ENDED_CALL_MEMORY",
    "MAX_ACTIVE_CALLS",
    "MAX_CALL_PARTIES",
    "MAX_ENDED_CALLS",
    "Aspect",
    "Call",
    "CallMoment",
    "CallRecord",
    "Changes",
    "Leg",
    "MomentType",
    "PbxAspect",
    "PbxModel",
    "Phone",
    "PhoneState",
    "Presence",
    "Ranked",
    "User",
]

DEFAULT_STALE_CALL_TIMEOUT = 4 * 3600.0
# Home Assistant refuses more than 10,000 enabled entities per config entry; a
# user has thirteen (seven, voicemail, a call log, callbacks and three daily statistics)
# and the PBX two. Stay well below.
DEFAULT_MAX_USERS = 600
# Fifteen entities a user with the PBX API connection, three for the PBX and at most
# 64 dialplan switches: 650 users stay below Home Assistant's 10,000 entities per entry.
MAX_USERS = 650
MAX_COUNTED_CALLS_PER_USER = 32
# Users one event may add: each costs a device and seven entities, and one
# delivery must stay well under a second. Others are added by later events.
MAX_NEW_USERS_PER_EVENT = 8
# Extensions refused beyond the user limit that are remembered, to count them.
MAX_IGNORED_USERS = 10_000
# An event time this far beyond its receipt is a wrong clock, not the future.
MAX_CLOCK_AHEAD_MS = 3600 * 1000

_PRIORITY = {
    PhoneState.TALKING: 4,
    PhoneState.ON_HOLD: 3,
    PhoneState.DIALING: 2,
    PhoneState.RINGING: 1,
}
# What the line alone says: the phone state and whether a call rings.
_LINE = {
    TelephonyStatus.REGISTERED: (PhoneState.IDLE, False),
    TelephonyStatus.RINGING: (PhoneState.RINGING, True),
    TelephonyStatus.TALKING: (PhoneState.TALKING, False),
    TelephonyStatus.RINGING_WHILE_TALKING: (PhoneState.TALKING, True),
}
_IN_CALL = (PhoneState.DIALING, PhoneState.TALKING, PhoneState.ON_HOLD)


# Reported statuses by their text: a look-up, not an enum's call (a lookup by
# value that costs more than all else a line status event does to the model).
_PRESENCE_STATES = {state.value: state for state in PresenceStatus}
_LINE_STATES = {status.value: status for status in TelephonyStatus}


def presence_state(status: str) -> PresenceStatus | None:
    """Return the presence a reported status means, None for an unrecognised one."""
    if not status:
        return PresenceStatus.AVAILABLE
    return _PRESENCE_STATES.get(status)


def line_state(status: str | None) -> TelephonyStatus | None:
    """Return the documented line status a reported one is, None for others."""
    return None if status is None else _LINE_STATES.get(status)


@dataclass(slots=True)
class Presence:
    """A user's presence as last reported; `status` is the raw text reported."""

    status: str
    message: str | None = None
    until: datetime | None = None
    location: Location | None = None
    state: PresenceStatus | None = field(init=False, compare=False)

    def __post_init__(self) -> None:
        """Read the reported status; an unrecognised one has no state."""
        self.state = presence_state(self.status)


@dataclass(frozen=True, slots=True)
class Phone:
    """What a user's phone shows: its state, whether a call rings, the call shown."""

    state: PhoneState
    ringing: bool
    leg: Leg | None

    @property
    def on_call(self) -> bool:
        """Return whether the user is on a call: dialing, talking or holding one."""
        return self.state in _IN_CALL


@dataclass(slots=True)
class User:
    """A PBX user, keyed by extension."""

    extension: str
    name: str | None = None
    email: str | None = None
    user_id: str | None = None
    group: str | None = None
    department: str | None = None
    presence: Presence | None = None
    presence_ms: int = -1
    # The line status as reported (shown raw) and as understood.
    telephony: str | None = None
    line: TelephonyStatus | None = None
    telephony_ms: int = -1
    calls_ms: int = -1
    legs: dict[str, Leg] = field(default_factory=dict)
    last_call: CallRecord | None = None
    missed_calls: int = 0
    counted: deque[str] = field(
        default_factory=lambda: deque(maxlen=MAX_COUNTED_CALLS_PER_USER)
    )

    @property
    def display_name(self) -> str:
        """Return the user's name, or their extension when no name is known."""
        return self.name or f"Extension {self.extension}"

    def report_line(self, status: str | None) -> None:
        """Take the line status the PBX reported."""
        self.telephony = status
        self.line = line_state(status)

    def phone(self) -> Phone:
        """Return what the user's phone shows, from their calls and their line."""
        primary: Leg | None = None
        ringing = False
        for leg in self.legs.values():
            ringing |= leg.state is PhoneState.RINGING
            if primary is None or (_PRIORITY[leg.state], leg.updated_ms) > (
                _PRIORITY[primary.state],
                primary.updated_ms,
            ):
                primary = leg
        state = PhoneState.IDLE if primary is None else primary.state
        if self.telephony_ms > self.calls_ms and self.line is not None:
            line, ringing = _LINE[self.line]
            # The line only says "in a call": a dialing or held call it agrees
            # with keeps its more precise state.
            if line is not PhoneState.TALKING or state not in _IN_CALL:
                state = line
        if state is PhoneState.IDLE:
            primary = None
        return Phone(state, ringing, primary)


class PbxModel:
    """Users and calls of one PBX (one config entry)."""

    def __init__(
        self,
        *,
        stale_call_timeout: float = DEFAULT_STALE_CALL_TIMEOUT,
        extensions: Iterable[str] | None = None,
        max_users: int = DEFAULT_MAX_USERS,
        missed_internal: bool = False,
    ) -> None:
        """Initialise an empty model; `missed_internal`: unanswered internal calls are missed too."""
        self.extensions: frozenset[str] | None = (
            None if extensions is None else frozenset(extensions)
        )
        self.max_users = max_users
        self.ignored_users: set[str] = set()
        self.users: dict[str, User] = {}
        self.tracker = CallTracker(
            self, stale_call_timeout, missed_internal=missed_internal
        )
        self.pbx_serial: str | None = None
        self.last_event: float | None = None

    @property
    def calls(self) -> dict[str, Call]:
        """Return the active calls by id."""
        return self.tracker.calls

    @property
    def ended_calls(self) -> OrderedDict[str, Call]:
        """Return the recently ended calls by id, oldest first."""
        return self.tracker.ended_calls

    @property
    def stale_call_timeout(self) -> float:
        """Return after how many seconds without news a call is taken as ended."""
        return self.tracker.stale_call_timeout

    @stale_call_timeout.setter
    def stale_call_timeout(self, timeout: float) -> None:
        self.tracker.stale_call_timeout = timeout

    @property
    def missed_internal(self) -> bool:
        """Return whether an unanswered internal call is a missed call for its callee."""
        return self.tracker.missed_internal

    @missed_internal.setter
    def missed_internal(self, missed_internal: bool) -> None:
        self.tracker.missed_internal = missed_internal

    def tracks(self, extension: str) -> bool:
        """Tell whether a user is wanted by the configured filter."""
        return self.extensions is None or extension in self.extensions

    def apply(self, event: WildixEvent, received: float) -> Changes:
        """Apply one verified event received at an epoch time in seconds."""
        changes = Changes()
        # The time of the last event is shown to the second, as Home Assistant
        # shows timestamps: within a second, nothing shown changes.
        if self.last_event is None or int(received) != int(self.last_event):
            changes.pbx.add(PbxAspect.LAST_EVENT)
        self.last_event = received
        if event.pbx is not None and event.pbx != self.pbx_serial:
            self.pbx_serial = event.pbx
            changes.pbx.add(PbxAspect.DEVICE)
        if event.time is None:  # an event type that is not modelled
            return changes
        time_ms = event.time
        received_ms = int(received * 1000)
        if time_ms > received_ms + MAX_CLOCK_AHEAD_MS:
            # A time far ahead would make every later event look older.
            time_ms = received_ms
            changes.clock_ahead = True
        match event.body:
            case CallEvent(phase=CallPhase.PROGRESS) as call:
                self.tracker.progress(call, time_ms, received, changes)
            case CallEvent(phase=CallPhase.END) as call:
                self.tracker.end(call, time_ms, received, changes)
            case CallEvent(phase=CallPhase.HISTORY) as call:
                self.tracker.history(call, time_ms, received, changes)
            case UserPresence() as presence:
                self._apply_presence(time_ms, presence, changes)
            case UserTelephony() as telephony:
                self._apply_telephony(time_ms, telephony, changes)
        return changes

    def expire(self, now: float) -> Changes:
        """End calls that have had no news for longer than the stale-call timeout."""
        changes = Changes()
        self.tracker.expire(now, changes)
        return changes

    def limit_users(self, max_users: int) -> list[str]:
        """Change the user limit; return the newest users beyond it."""
        self.max_users = max_users
        self.ignored_users.clear()
        return list(self.users)[max_users:]

    def forget_user(self, extension: str) -> Changes:
        """Drop a user and everything known about them."""
        if (user := self.users.pop(extension, None)) is not None:
            self.tracker.forget(user)
        return Changes()

    def set_extensions(self, extensions: Iterable[str] | None) -> list[str]:
        """Change the user filter; return the users it now excludes."""
        self.extensions = None if extensions is None else frozenset(extensions)
        return [ext for ext in self.users if not self.tracks(ext)]

    def learn(self, party: Party, changes: Changes) -> None:
        """Fill in what a call tells about a user, adding the user if new."""
        assert party.extension is not None
        user = self._user(party.extension, changes)
        if user is None:
            return
        # Spelled out: this runs for every party of every call event.
        known = (user.name, user.email, user.user_id, user.group, user.department)
        if party.name and party.name != party.extension:
            user.name = party.name
        user.email = party.email or user.email
        user.user_id = party.user_id or user.user_id
        user.group = party.group or user.group
        user.department = party.department or user.department
        if known != (user.name, user.email, user.user_id, user.group, user.department):
            changes.touch(user.extension, Aspect.IDENTITY)

    def _apply_presence(
        self, time_ms: int, presence: UserPresence, changes: Changes
    ) -> None:
        user = self._user(presence.extension, changes)
        if user is None or time_ms < user.presence_ms:
            return
        user.presence_ms = time_ms
        shown = Presence(
            status=presence.status,
            message=presence.message,
            until=presence.until,
            location=presence.location,
        )
        if shown != user.presence:
            user.presence = shown
            changes.touch(user.extension, Aspect.PRESENCE)
        self._learn_email(user, presence.email, changes)

    def _apply_telephony(
        self, time_ms: int, telephony: UserTelephony, changes: Changes
    ) -> None:
        user = self._user(telephony.extension, changes)
        if user is None or time_ms < user.telephony_ms:
            return
        # The line is shown while it is newer than the calls; the phone changes
        # unless the same status was already shown.
        if telephony.status != user.telephony or user.telephony_ms <= user.calls_ms:
            changes.touch(user.extension, Aspect.PHONE)
        user.telephony_ms = time_ms
        user.report_line(telephony.status)
        self._learn_email(user, telephony.email, changes)

    def _learn_email(self, user: User, email: str | None, changes: Changes) -> None:
        if email and email != user.email:
            user.email = email
            changes.touch(user.extension, Aspect.IDENTITY)

    def _user(self, extension: str, changes: Changes) -> User | None:
        user = self.users.get(extension)
        if user is not None:
            return user
        if not self.tracks(extension):
            return None
        if len(changes.new_users) >= MAX_NEW_USERS_PER_EVENT:
            return None
        if len(self.users) >= self.max_users:
            if len(self.ignored_users) < MAX_IGNORED_USERS:
                self.ignored_users.add(extension)
            changes.users_refused = True
            return None
        user = self.users[extension] = User(extension)
        changes.new_users.append(extension)
        changes.touch(extension, Aspect.IDENTITY)
        return user
