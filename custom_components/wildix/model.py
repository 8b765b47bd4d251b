"""The PBX as state: its users, their presence and their calls.

Built from parsed Wildix events; no Home Assistant imports. Ordering, duplicate
tolerance and the expiry of calls whose end was lost live here.
"""

from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .protocol import (
    Attachment,
    CallEvent,
    CallFamily,
    CallFlow,
    CallPhase,
    Direction,
    LegStatus,
    Location,
    Party,
    PresenceStatus,
    TelephonyStatus,
    UserPresence,
    UserTelephony,
    WildixEvent,
    is_internal_number,
)

DEFAULT_STALE_CALL_TIMEOUT = 4 * 3600.0
# Home Assistant refuses more than 10,000 enabled entities per config entry; a
# user has seven and the PBX two, so at most 1,428 users fit. Stay well below.
DEFAULT_MAX_USERS = 1000
MAX_USERS = 1400
MAX_ACTIVE_CALLS = 1000
MAX_ENDED_CALLS = 2048
# Ended calls are remembered this long, so that a retried event of a call that
# has ended (also after a restart) does not make it ring again.
ENDED_CALL_MEMORY = 24 * 3600.0
MAX_COUNTED_CALLS_PER_USER = 32
# Local parties one call can have: a ring group, not a whole PBX per event.
MAX_CALL_PARTIES = 32
# Users one event may add: each costs a device and seven entities, and one
# delivery must stay well under a second. Others are added by later events.
MAX_NEW_USERS_PER_EVENT = 8
# Extensions refused beyond the user limit that are remembered, to count them.
MAX_IGNORED_USERS = 10_000
# An event time this far beyond its receipt is a wrong clock, not the future.
MAX_CLOCK_AHEAD_MS = 3600 * 1000


class PhoneState(StrEnum):
    """What a user's phone is doing."""

    IDLE = "idle"
    RINGING = "ringing"
    DIALING = "dialing"
    TALKING = "talking"
    ON_HOLD = "on_hold"


class MomentType(StrEnum):
    """Moments of a call that automations react to."""

    INCOMING_CALL = "incoming_call"
    OUTGOING_CALL = "outgoing_call"
    CALL_ANSWERED = "call_answered"
    MISSED_CALL = "missed_call"
    CALL_ENDED = "call_ended"


_PRIORITY = {
    PhoneState.TALKING: 4,
    PhoneState.ON_HOLD: 3,
    PhoneState.DIALING: 2,
    PhoneState.RINGING: 1,
}
_TELEPHONY = {
    TelephonyStatus.REGISTERED: (PhoneState.IDLE, False),
    TelephonyStatus.RINGING: (PhoneState.RINGING, True),
    TelephonyStatus.TALKING: (PhoneState.TALKING, False),
    TelephonyStatus.RINGING_WHILE_TALKING: (PhoneState.TALKING, True),
}
_IN_CALL = (PhoneState.DIALING, PhoneState.TALKING, PhoneState.ON_HOLD)
_SOURCE_RANK = {CallFamily.LEGACY: 1, CallFamily.LIVE: 2, CallFamily.ANALYTICS: 3}


@dataclass(frozen=True, slots=True)
class CallMoment:
    """Something that happened to one user's side of a call."""

    type: MomentType
    extension: str
    call_id: str
    direction: Direction
    remote_number: str | None
    remote_name: str | None
    remote_local: bool
    time_ms: int
    duration: float | None = None
    missed: bool | None = None
    attachments: tuple[Attachment, ...] = ()


class Aspect(StrEnum):
    """What part of a user an event changed, so only entities showing it update."""

    IDENTITY = "identity"  # name, email, department, group, user_id (device data)
    PRESENCE = "presence"  # presence status, message, until, location
    PHONE = "phone"  # phone state, ringing, the call shown, telephony status
    CALLS = "calls"  # last call record, missed-call count


@dataclass(slots=True)
class Changes:
    """What one event or expiry changed; nothing a user shows is reported unchanged."""

    users: dict[str, set[Aspect]] = field(default_factory=dict)
    new_users: list[str] = field(default_factory=list)
    pbx: bool = False
    moments: list[CallMoment] = field(default_factory=list)
    users_refused: bool = False
    clock_ahead: bool = False

    def __bool__(self) -> bool:
        """Tell whether anything that is shown or saved changed."""
        return bool(self.users or self.new_users or self.pbx or self.moments)

    def touch(self, extension: str, aspect: Aspect) -> None:
        """Record that one aspect of a user changed."""
        if (aspects := self.users.get(extension)) is None:
            self.users[extension] = {aspect}
        else:
            aspects.add(aspect)


@dataclass(slots=True)
class Presence:
    """A user's presence as last reported."""

    status: str
    message: str | None = None
    until: datetime | None = None
    location: Location | None = None

    @property
    def state(self) -> PresenceStatus | None:
        """Return the known presence state, None for an unrecognised status."""
        if not self.status:
            return PresenceStatus.AVAILABLE
        try:
            return PresenceStatus(self.status)
        except ValueError:
            return None


@dataclass(slots=True)
class CallRecord:
    """One user's side of a call, kept as history once it ends."""

    call_id: str
    direction: Direction
    remote_number: str | None
    remote_name: str | None
    remote_local: bool
    started_ms: int
    ended_ms: int | None = None
    answered: bool = False
    duration_ms: int | None = None
    duration_rank: int = 0
    missed: bool | None = None
    missed_rank: int = 0
    end_cause: str | None = None
    end_cause_rank: int = 0
    recordings: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @property
    def duration(self) -> float | None:
        """Return the call's length in seconds, once it has ended."""
        if self.duration_ms is not None:
            return self.duration_ms / 1000
        if self.ended_ms is None:
            return None
        return max(0, self.ended_ms - self.started_ms) / 1000


@dataclass(slots=True)
class Leg:
    """A user's participation in a call."""

    extension: str
    caller: bool
    record: CallRecord
    state: PhoneState
    updated_ms: int
    flow_index: int = -1
    ended: bool = False
    fired: set[MomentType] = field(default_factory=set)

    def moment(
        self, kind: MomentType, time_ms: int, *, final: bool = False
    ) -> CallMoment | None:
        """Return a moment unless it already happened for this leg."""
        if kind in self.fired:
            return None
        self.fired.add(kind)
        record = self.record
        return CallMoment(
            type=kind,
            extension=self.extension,
            call_id=record.call_id,
            direction=record.direction,
            remote_number=record.remote_number,
            remote_name=record.remote_name,
            remote_local=record.remote_local,
            time_ms=time_ms,
            duration=record.duration if final else None,
            missed=bool(record.missed) if final else None,
            attachments=record.attachments if final else (),
        )


@dataclass(slots=True)
class Call:
    """A call as far as the PBX told us about it."""

    call_id: str
    started_ms: int
    last_ms: int
    last_news: float
    legs: dict[str, Leg] = field(default_factory=dict)
    ended: bool = False


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
    telephony: str | None = None
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

    def phone(self) -> tuple[PhoneState, bool, Leg | None]:
        """Return the phone state, whether a call rings, and the call shown."""
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
        if self.telephony_ms > self.calls_ms and self.telephony in _TELEPHONY:
            line, ringing = _TELEPHONY[TelephonyStatus(self.telephony)]
            # The line only says "in a call": a dialing or held call it agrees
            # with keeps its more precise state.
            if line is not PhoneState.TALKING or state not in _IN_CALL:
                state = line
        if state is PhoneState.IDLE:
            primary = None
        return state, ringing, primary


@dataclass(frozen=True, slots=True)
class _Seen:
    """How one event shows a local party of a call."""

    party: Party
    caller: bool
    flow: CallFlow
    other: Party | None


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
        self.stale_call_timeout = stale_call_timeout
        self.missed_internal = missed_internal
        self.extensions: frozenset[str] | None = (
            None if extensions is None else frozenset(extensions)
        )
        self.max_users = max_users
        self.ignored_users: set[str] = set()
        self.users: dict[str, User] = {}
        self.calls: dict[str, Call] = {}
        self.ended_calls: OrderedDict[str, Call] = OrderedDict()
        self.pbx_serial: str | None = None
        self.last_event: float | None = None

    def tracks(self, extension: str) -> bool:
        """Tell whether a user is wanted by the configured filter."""
        return self.extensions is None or extension in self.extensions

    def apply(self, event: WildixEvent, received: float) -> Changes:
        """Apply one verified event received at an epoch time in seconds."""
        changes = Changes(pbx=True)
        self.last_event = received
        if event.pbx is not None and event.pbx != self.pbx_serial:
            self.pbx_serial = event.pbx
        if event.time is None:  # an event type that is not modelled
            return changes
        time_ms = event.time
        received_ms = int(received * 1000)
        if time_ms > received_ms + MAX_CLOCK_AHEAD_MS:
            # A time far ahead would make every later event look older.
            time_ms = received_ms
            changes.clock_ahead = True
        match event.body:
            case CallEvent() as call_event:
                self._apply_call(time_ms, call_event, received, changes)
            case UserPresence() as presence:
                self._apply_presence(time_ms, presence, changes)
            case UserTelephony() as telephony:
                self._apply_telephony(time_ms, telephony, changes)
        return changes

    def expire(self, now: float) -> Changes:
        """End calls that have had no news for longer than the stale-call timeout."""
        changes = Changes()
        deadline = now - self.stale_call_timeout
        for call in [c for c in self.calls.values() if c.last_news < deadline]:
            self._end_call(call, int(now * 1000), changes, cause="expired")
        forgotten = now - ENDED_CALL_MEMORY
        while self.ended_calls:
            oldest = next(iter(self.ended_calls.values()))
            if oldest.last_news >= forgotten:
                break
            self.ended_calls.popitem(last=False)
        return changes

    def limit_users(self, max_users: int) -> list[str]:
        """Change the user limit; return the newest users beyond it."""
        self.max_users = max_users
        self.ignored_users.clear()
        return list(self.users)[max_users:]

    def forget_user(self, extension: str) -> Changes:
        """Drop a user and everything known about them."""
        changes = Changes()
        user = self.users.pop(extension, None)
        if user is None:
            return changes
        for call_id in user.legs:
            if (call := self.calls.get(call_id)) is not None:
                call.legs.pop(extension, None)
        return changes

    def set_extensions(self, extensions: Iterable[str] | None) -> list[str]:
        """Change the user filter; return the users it now excludes."""
        self.extensions = None if extensions is None else frozenset(extensions)
        return [ext for ext in self.users if not self.tracks(ext)]

    # Presence

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
        user.telephony = telephony.status
        self._learn_email(user, telephony.email, changes)

    def _learn_email(self, user: User, email: str | None, changes: Changes) -> None:
        if email and email != user.email:
            user.email = email
            changes.touch(user.extension, Aspect.IDENTITY)

    # Calls

    def _apply_call(
        self, time_ms: int, event: CallEvent, received: float, changes: Changes
    ) -> None:
        seen = self._local_parties(event)
        for party_seen in seen.values():
            self._learn(party_seen.party, changes)
        call = self.calls.get(event.call_id) or self.ended_calls.get(event.call_id)
        if call is None:
            call = Call(
                call_id=event.call_id,
                started_ms=_earliest(time_ms, event.start_ms),
                last_ms=-1,
                last_news=min(received, time_ms / 1000),
            )
            if event.phase is CallPhase.HISTORY:
                call.ended = True
                self._remember_ended(call)
            else:
                self._admit(call, changes)
        self._refine(call, time_ms, event, seen, changes)
        if call.ended:
            if event.phase is CallPhase.HISTORY:
                self._history_only(call, time_ms, event, seen, changes)
            return
        # The news is as old as the event: a call reported long after the fact
        # must not ring for another stale-call timeout.
        call.last_news = max(call.last_news, min(received, time_ms / 1000))
        if event.phase is not CallPhase.PROGRESS:
            self._join(call, time_ms, seen, changes, fire=False)
            self._end_call(call, time_ms, changes, event=event, seen=seen)
            return
        if time_ms < call.last_ms:
            return
        call.last_ms = time_ms
        self._depart(call, time_ms, event, seen, changes)
        self._join(call, time_ms, seen, changes, fire=True)
        if call.last_news < received - self.stale_call_timeout:
            self._end_call(call, time_ms, changes, cause="expired")

    def _local_parties(self, event: CallEvent) -> dict[str, _Seen]:
        """Return each local party of the event in the latest flow showing it."""
        seen: dict[str, _Seen] = {}
        for flow in event.flows:
            for caller, party, other in (
                (False, flow.callee, flow.caller),
                (True, flow.caller, flow.callee),
            ):
                if party is None or not party.local or party.extension is None:
                    continue
                if party.extension in seen or len(seen) < MAX_CALL_PARTIES:
                    seen[party.extension] = _Seen(party, caller, flow, other)
        return seen

    def _learn(self, party: Party, changes: Changes) -> None:
        """Fill in what a call tells about a user."""
        assert party.extension is not None
        user = self._user(party.extension, changes)
        if user is None:
            return
        for attribute, value in (
            ("name", party.name),
            ("email", party.email),
            ("user_id", party.user_id),
            ("group", party.group),
            ("department", party.department),
        ):
            if value and getattr(user, attribute) != value:
                if attribute == "name" and value == party.extension:
                    continue
                setattr(user, attribute, value)
                changes.touch(user.extension, Aspect.IDENTITY)

    def _refine(
        self,
        call: Call,
        time_ms: int,
        event: CallEvent,
        seen: dict[str, _Seen],
        changes: Changes,
    ) -> None:
        """Complete what is known of a call from any event, in any order."""
        call.started_ms = _earliest(call.started_ms, time_ms, event.start_ms)
        rank = _SOURCE_RANK[event.family]
        final = event.phase is not CallPhase.PROGRESS
        for extension, leg in call.legs.items():
            record = leg.record
            before = (
                record.started_ms,
                record.ended_ms,
                record.duration_ms,
                record.missed,
                record.end_cause,
                record.recordings,
                record.attachments,
                record.answered,
            )
            record.started_ms = min(record.started_ms, call.started_ms)
            party_seen = seen.get(extension)
            flow = None if party_seen is None else party_seen.flow
            if flow is not None:
                record.started_ms = _earliest(record.started_ms, flow.start_ms)
                if _answered(flow):
                    record.answered = True
                if flow.recordings:
                    record.recordings = flow.recordings
                if flow.attachments:
                    record.attachments = flow.attachments
            if final:
                if flow is not None and flow.duration_ms is not None:
                    if rank > record.duration_rank:
                        record.duration_ms = flow.duration_ms
                        record.duration_rank = rank
                    elif rank == record.duration_rank:
                        record.duration_ms = max(
                            record.duration_ms or 0, flow.duration_ms
                        )
                end_ms = time_ms if flow is None or flow.end_ms is None else flow.end_ms
                if leg.ended or event.phase is CallPhase.END:
                    record.ended_ms = _earliest(record.ended_ms, end_ms)
                cause = event.end_cause_text or event.end_cause
                if cause and rank > record.end_cause_rank:
                    record.end_cause = cause
                    record.end_cause_rank = rank
                if flow is not None and flow.missed is not None:
                    if rank >= record.missed_rank:
                        # Analytics marks an unanswered internal call MISSED:
                        # whether that is a miss for its callee is an option.
                        record.missed = flow.missed and (
                            record.direction is not Direction.INTERNAL
                            or self._can_miss(leg)
                        )
                        record.missed_rank = rank
            after = (
                record.started_ms,
                record.ended_ms,
                record.duration_ms,
                record.missed,
                record.end_cause,
                record.recordings,
                record.attachments,
                record.answered,
            )
            if before == after:
                continue
            if not leg.ended:
                if extension in self.users:
                    changes.touch(extension, Aspect.PHONE)
                continue
            self._count_missed(leg, changes)
            user = self.users.get(extension)
            if user is not None and user.last_call is record:
                changes.touch(extension, Aspect.CALLS)

    def _history_only(
        self,
        call: Call,
        time_ms: int,
        event: CallEvent,
        seen: dict[str, _Seen],
        changes: Changes,
    ) -> None:
        """Record a call known only from the call history (no live events)."""
        fresh = False
        for extension, party_seen in seen.items():
            if extension in call.legs or not self.tracks(extension):
                continue
            leg = self._new_leg(call, party_seen, time_ms)
            leg.ended = True
            call.legs[extension] = leg
            fresh = True
        if fresh:
            self._refine(call, time_ms, event, seen, changes)
            for leg in call.legs.values():
                self._finish(leg, changes)

    def _admit(self, call: Call, changes: Changes) -> None:
        if len(self.calls) >= MAX_ACTIVE_CALLS:
            oldest = min(self.calls.values(), key=lambda c: c.last_news)
            evicted_ms = int(oldest.last_news * 1000)
            self._end_call(oldest, evicted_ms, changes, cause="evicted")
        self.calls[call.call_id] = call
        changes.pbx = True

    def _new_leg(self, call: Call, party_seen: _Seen, time_ms: int) -> Leg:
        party, flow, other = party_seen.party, party_seen.flow, party_seen.other
        assert party.extension is not None
        remote_local = other is not None and other.local
        if remote_local:
            direction = Direction.INTERNAL
        elif other is not None:
            direction = Direction.OUTBOUND if party_seen.caller else Direction.INBOUND
        elif flow.direction is not None:
            direction = flow.direction
        else:
            direction = Direction.OUTBOUND if party_seen.caller else Direction.INBOUND
        if other is not None:
            remote_number = other.extension if remote_local else other.phone
            remote_name = other.name
        else:
            remote_number = flow.remote_phone if not party_seen.caller else None
            if remote_number is None and direction is not Direction.INBOUND:
                remote_number = flow.destination
            remote_name = None
        record = CallRecord(
            call_id=call.call_id,
            direction=direction,
            remote_number=remote_number,
            remote_name=remote_name if remote_name != remote_number else None,
            # An internal call may still dial an outside number (a forward, a quirk
            # of the PBX): only a colleague's extension counts as a local party.
            remote_local=remote_local
            or (
                other is None
                and direction is Direction.INTERNAL
                and (remote_number is None or is_internal_number(remote_number))
            ),
            started_ms=_earliest(call.started_ms, flow.start_ms),
            recordings=flow.recordings,
            attachments=flow.attachments,
        )
        return Leg(
            extension=party.extension,
            caller=party_seen.caller,
            record=record,
            state=PhoneState.DIALING if party_seen.caller else PhoneState.RINGING,
            updated_ms=time_ms,
        )

    def _join(
        self,
        call: Call,
        time_ms: int,
        seen: dict[str, _Seen],
        changes: Changes,
        *,
        fire: bool,
    ) -> None:
        """Bring the legs of the parties this event shows up to date."""
        for extension, party_seen in seen.items():
            user = self.users.get(extension)
            if user is None:
                continue
            leg = call.legs.get(extension)
            flow = party_seen.flow
            shown = False
            if leg is None:
                if len(call.legs) >= MAX_CALL_PARTIES:
                    continue
                leg = self._new_leg(call, party_seen, time_ms)
                call.legs[extension] = leg
                user.legs[call.call_id] = leg
                if fire:
                    kind = (
                        MomentType.OUTGOING_CALL
                        if party_seen.caller
                        else MomentType.INCOMING_CALL
                    )
                    _add(changes, leg.moment(kind, time_ms))
                shown = True
            elif leg.ended:
                continue
            else:
                shown = self._update_remote(leg, party_seen)
            if flow.index < leg.flow_index:
                if shown:
                    changes.touch(extension, Aspect.PHONE)
                continue
            leg.flow_index = flow.index
            state = _leg_state(flow, party_seen.caller, leg)
            if _answered(flow) and not leg.record.answered:
                leg.record.answered = True
                shown = True
            if state is not leg.state:
                leg.state = state
                shown = True
            if leg.updated_ms != time_ms:
                leg.updated_ms = time_ms
                # Which of several calls is shown depends on when each changed.
                shown |= len(user.legs) > 1
            if time_ms > user.calls_ms:
                # Newer calls hide the line's status.
                shown |= user.calls_ms < user.telephony_ms <= time_ms
                user.calls_ms = time_ms
            if shown:
                changes.touch(extension, Aspect.PHONE)
            if fire and leg.record.answered:
                _add(changes, leg.moment(MomentType.CALL_ANSWERED, time_ms))

    def _update_remote(self, leg: Leg, party_seen: _Seen) -> bool:
        """Learn the other party of a leg; return whether anything changed."""
        other = party_seen.other
        record = leg.record
        if other is None:
            return False
        before = (
            record.direction,
            record.remote_local,
            record.remote_number,
            record.remote_name,
        )
        if other.local and other.extension is not None:
            record.direction = Direction.INTERNAL
            record.remote_local = True
            record.remote_number = other.extension
        elif record.remote_local:
            # The call has left the PBX (a colleague forwarded it outside): the
            # other party is now an outside one, hidden as such.
            record.remote_local = False
            record.remote_number = other.phone
            record.remote_name = None
        elif record.remote_number is None:
            record.remote_number = other.phone
        if other.name and other.name != record.remote_number:
            record.remote_name = other.name
        return before != (
            record.direction,
            record.remote_local,
            record.remote_number,
            record.remote_name,
        )

    def _depart(
        self,
        call: Call,
        time_ms: int,
        event: CallEvent,
        seen: dict[str, _Seen],
        changes: Changes,
    ) -> None:
        """End the legs of users the call has moved away from (transfers)."""
        for extension, leg in list(call.legs.items()):
            if leg.ended:
                continue
            party_seen = seen.get(extension)
            if event.family is CallFamily.LEGACY:
                flow = event.flows[0]
                replaced_by = flow.caller if leg.caller else flow.callee
                gone = (
                    party_seen is None and replaced_by is not None and replaced_by.local
                )
            else:
                latest = max(
                    leg.flow_index, -1 if party_seen is None else party_seen.flow.index
                )
                gone = any(
                    _answered(flow) and flow.index > latest for flow in event.flows
                )
            if gone:
                self._end_leg(call, leg, time_ms, changes)

    def _end_call(
        self,
        call: Call,
        time_ms: int,
        changes: Changes,
        *,
        event: CallEvent | None = None,
        seen: dict[str, _Seen] | None = None,
        cause: str | None = None,
    ) -> None:
        for extension, leg in list(call.legs.items()):
            if leg.ended:
                continue
            party_seen = None if seen is None else seen.get(extension)
            if party_seen is not None and _answered(party_seen.flow):
                leg.record.answered = True
            if cause is not None:
                leg.record.end_cause = leg.record.end_cause or cause
                if leg.record.missed is None:
                    leg.record.missed = False
            self._end_leg(call, leg, time_ms, changes, final=True)
        if event is not None and seen is not None:
            self._refine(call, time_ms, event, seen, changes)
        self._retire(call, changes)

    def _end_leg(
        self,
        call: Call,
        leg: Leg,
        time_ms: int,
        changes: Changes,
        *,
        final: bool = False,
    ) -> None:
        record = leg.record
        leg.ended = True
        record.ended_ms = _earliest(record.ended_ms, time_ms)
        if record.missed is None and final:
            record.missed = self._can_miss(leg) and not record.answered
        elif record.missed is None:
            record.missed = False
        user = self.users.get(leg.extension)
        if user is not None:
            if user.legs.pop(call.call_id, None) is not None:
                changes.touch(leg.extension, Aspect.PHONE)
            if time_ms > user.calls_ms:
                if user.calls_ms < user.telephony_ms <= time_ms:
                    changes.touch(leg.extension, Aspect.PHONE)
                user.calls_ms = time_ms
        if record.missed:
            _add(changes, leg.moment(MomentType.MISSED_CALL, time_ms, final=True))
        _add(changes, leg.moment(MomentType.CALL_ENDED, time_ms, final=True))
        self._finish(leg, changes)
        if user is not None and user.last_call is record:
            # The record has just ended: what the last call shows changed.
            changes.touch(leg.extension, Aspect.CALLS)

    def _can_miss(self, leg: Leg) -> bool:
        """Tell whether a call ending unanswered is a missed call for this leg."""
        match leg.record.direction:
            case Direction.INBOUND:
                return True
            case Direction.INTERNAL:
                return self.missed_internal and not leg.caller
        return False

    def _finish(self, leg: Leg, changes: Changes) -> None:
        """Make an ended leg the user's last call if it is the most recent one."""
        user = self.users.get(leg.extension)
        if user is None:
            return
        record = leg.record
        if record.missed is None:
            record.missed = False
        last = user.last_call
        if last is not record and (
            last is None or record.started_ms >= last.started_ms
        ):
            user.last_call = record
            changes.touch(leg.extension, Aspect.CALLS)
        self._count_missed(leg, changes)

    def _count_missed(self, leg: Leg, changes: Changes) -> None:
        user = self.users.get(leg.extension)
        if user is None or not leg.record.missed:
            return
        if leg.record.call_id in user.counted:
            return
        user.counted.append(leg.record.call_id)
        user.missed_calls += 1
        changes.touch(leg.extension, Aspect.CALLS)

    def _retire(self, call: Call, changes: Changes) -> None:
        call.ended = True
        if self.calls.pop(call.call_id, None) is not None:
            changes.pbx = True
        self._remember_ended(call)

    def _remember_ended(self, call: Call) -> None:
        self.ended_calls[call.call_id] = call
        self.ended_calls.move_to_end(call.call_id)
        while len(self.ended_calls) > MAX_ENDED_CALLS:
            self.ended_calls.popitem(last=False)

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


def _add(changes: Changes, moment: CallMoment | None) -> None:
    if moment is not None:
        changes.moments.append(moment)


def _answered(flow: CallFlow) -> bool:
    return flow.status in (LegStatus.TALKING, LegStatus.HOLD) or bool(flow.talk_time_ms)


def _leg_state(flow: CallFlow, caller: bool, leg: Leg) -> PhoneState:
    if flow.status is LegStatus.TALKING:
        return PhoneState.TALKING
    if flow.status is LegStatus.HOLD:
        return PhoneState.ON_HOLD
    if leg.record.answered or _answered(flow):
        return (
            leg.state
            if leg.state in (PhoneState.TALKING, PhoneState.ON_HOLD)
            else PhoneState.TALKING
        )
    return PhoneState.DIALING if caller else PhoneState.RINGING


def _earliest(*values: int | None) -> int:
    return min(value for value in values if value is not None)
