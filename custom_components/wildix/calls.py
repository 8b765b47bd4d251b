"""Call tracking: calls, each user's leg of them, and the record they leave.

No Home Assistant imports. One method per phase a call event reports (progress,
end, history); events may come in any order, repeated, from up to three families
that report the same facts with different authority.
"""

from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from .changes import Aspect, CallMoment, Changes, MomentType, PbxAspect
from .protocol import (
    Attachment,
    CallEvent,
    CallFamily,
    CallFlow,
    CallPhase,
    Direction,
    LegStatus,
    Party,
    is_internal_number,
)

MAX_ACTIVE_CALLS = 1000
MAX_ENDED_CALLS = 2048
# Ended calls are remembered this long, so that a retried event of a call that
# has ended (also after a restart) does not make it ring again.
ENDED_CALL_MEMORY = 24 * 3600.0
# Local parties one call can have: a ring group, not a whole PBX per event.
MAX_CALL_PARTIES = 32

# How much each family is trusted on the facts they all report.
_SOURCE_RANK = {CallFamily.LEGACY: 1, CallFamily.LIVE: 2, CallFamily.ANALYTICS: 3}


class PhoneState(StrEnum):
    """What a user's phone is doing."""

    IDLE = "idle"
    RINGING = "ringing"
    DIALING = "dialing"
    TALKING = "talking"
    ON_HOLD = "on_hold"


@dataclass(slots=True)
class Ranked[T]:
    """A fact several sources report: the most trusted source wins."""

    value: T | None = None
    rank: int = 0

    def offer(self, value: T, rank: int) -> bool:
        """Take a value from a more trusted source; return whether the value changed."""
        if rank <= self.rank:
            return False
        return self._take(value, rank)

    def offer_latest(self, value: T, rank: int) -> bool:
        """Take a value from a source at least as trusted; return whether it changed."""
        if rank < self.rank:
            return False
        return self._take(value, rank)

    def assume(self, value: T) -> bool:
        """Take a value no source reported, unless one is known; return whether taken."""
        if self.value is not None:
            return False
        self.value = value
        return True

    def _take(self, value: T, rank: int) -> bool:
        self.rank = rank
        if value == self.value:
            return False
        self.value = value
        return True


def offer_duration(duration: Ranked[int], value: int, rank: int) -> bool:
    """Take a reported duration; of equally trusted reports, the longest wins."""
    if rank == duration.rank:
        return duration.offer_latest(max(duration.value or 0, value), rank)
    return duration.offer(value, rank)


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
    reported_duration_ms: Ranked[int] = field(default_factory=Ranked)
    reported_missed: Ranked[bool] = field(default_factory=Ranked)
    reported_end_cause: Ranked[str] = field(default_factory=Ranked)
    recordings: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    @property
    def duration_ms(self) -> int | None:
        """Return the duration the PBX reported, in milliseconds."""
        return self.reported_duration_ms.value

    @property
    def missed(self) -> bool | None:
        """Return whether the call was missed, None while not known."""
        return self.reported_missed.value

    @property
    def end_cause(self) -> str | None:
        """Return why the call ended."""
        return self.reported_end_cause.value

    @property
    def duration(self) -> float | None:
        """Return the call's length in seconds, once it has ended."""
        if (duration_ms := self.reported_duration_ms.value) is not None:
            return duration_ms / 1000
        if self.ended_ms is None:
            return None
        return max(0, self.ended_ms - self.started_ms) / 1000

    def start_by(self, time_ms: int | None) -> bool:
        """Move the start back to a time if it is earlier; return whether it moved."""
        if time_ms is None or time_ms >= self.started_ms:
            return False
        self.started_ms = time_ms
        return True

    def end_by(self, time_ms: int) -> bool:
        """Move the end back to a time if it is earlier; return whether it moved."""
        if self.ended_ms is not None and time_ms >= self.ended_ms:
            return False
        self.ended_ms = time_ms
        return True

    def keep_attachments(self, attachments: tuple[Attachment, ...]) -> bool:
        """Keep the latest files reported; return whether they changed."""
        if attachments == self.attachments:
            return False
        self.attachments = attachments
        return True

    def mark_answered(self) -> bool:
        """Note that the call was answered; return whether that is news."""
        if self.answered:
            return False
        self.answered = True
        return True


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

    def claim_moment(self, kind: MomentType, time_ms: int) -> CallMoment | None:
        """Mark a moment of a live leg as happened; return it unless it already had."""
        if kind in self.fired:
            return None
        self.fired.add(kind)
        return self._moment(kind, time_ms, None, None, ())

    def claim_final_moment(self, kind: MomentType, time_ms: int) -> CallMoment | None:
        """Like claim_moment, for an ended leg: the moment carries the outcome."""
        if kind in self.fired:
            return None
        self.fired.add(kind)
        record = self.record
        return self._moment(
            kind, time_ms, record.duration, bool(record.missed), record.attachments
        )

    def _moment(
        self,
        kind: MomentType,
        time_ms: int,
        duration: float | None,
        missed: bool | None,
        attachments: tuple[Attachment, ...],
    ) -> CallMoment:
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
            duration=duration,
            missed=missed,
            attachments=attachments,
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


class Participant(Protocol):
    """What the tracker keeps of a user's calls (the model's user)."""

    extension: str
    legs: dict[str, Leg]
    calls_ms: int
    telephony_ms: int
    last_call: CallRecord | None
    missed_calls: int
    counted: deque[str]


class Directory(Protocol):
    """The users calls are tracked for (the model)."""

    @property
    def users(self) -> Mapping[str, Participant]:
        """Return the known users by extension."""

    def tracks(self, extension: str) -> bool:
        """Tell whether a user is wanted."""

    def learn(self, party: Party, changes: Changes) -> None:
        """Learn about (and maybe add) the user a local party of a call is."""


@dataclass(frozen=True, slots=True)
class _Seen:
    """How one event shows a local party of a call."""

    party: Party
    caller: bool
    flow: CallFlow
    other: Party | None


class CallTracker:
    """The active and recently ended calls of one PBX."""

    def __init__(
        self,
        directory: Directory,
        stale_call_timeout: float,
        *,
        missed_internal: bool = False,
    ) -> None:
        """Initialise a tracker; `missed_internal`: unanswered internal calls are missed too."""
        self.directory = directory
        self.stale_call_timeout = stale_call_timeout
        self.missed_internal = missed_internal
        self.calls: dict[str, Call] = {}
        self.ended_calls: OrderedDict[str, Call] = OrderedDict()

    def progress(
        self, event: CallEvent, time_ms: int, received: float, changes: Changes
    ) -> None:
        """Follow a call that starts, rings, is answered, held or transferred."""
        seen = self._parties(event, changes)
        call = self._find(event) or self._admit(event, time_ms, received, changes)
        self._refine(call, time_ms, event, seen, changes)
        if call.ended:
            return
        self._hear(call, time_ms, received)
        if time_ms < call.last_ms:
            return
        call.last_ms = time_ms
        self._depart(call, time_ms, event, seen, changes)
        for leg, new in self._join(call, time_ms, seen, changes):
            if new:
                kind = (
                    MomentType.OUTGOING_CALL if leg.caller else MomentType.INCOMING_CALL
                )
                changes.add_moment(leg.claim_moment(kind, time_ms))
            if leg.record.answered:
                changes.add_moment(leg.claim_moment(MomentType.CALL_ANSWERED, time_ms))
        if call.last_news < received - self.stale_call_timeout:
            self._abandon(call, time_ms, "expired", changes)

    def end(
        self, event: CallEvent, time_ms: int, received: float, changes: Changes
    ) -> None:
        """End a call the PBX reports ended."""
        seen = self._parties(event, changes)
        call = self._find(event) or self._admit(event, time_ms, received, changes)
        self._refine(call, time_ms, event, seen, changes)
        if not call.ended:
            self._hear(call, time_ms, received)
            self._end_reported(call, time_ms, event, seen, changes)

    def history(
        self, event: CallEvent, time_ms: int, received: float, changes: Changes
    ) -> None:
        """Take a call from the call history: end it if live, else record it."""
        seen = self._parties(event, changes)
        call = self._find(event)
        if call is None:
            call = self._new_call(event, time_ms, received)
            call.ended = True
            self._remember_ended(call)
        self._refine(call, time_ms, event, seen, changes)
        if call.ended:
            self._record_history(call, time_ms, event, seen, changes)
        else:
            self._hear(call, time_ms, received)
            self._end_reported(call, time_ms, event, seen, changes)

    def expire(self, now: float, changes: Changes) -> None:
        """End calls without news for the stale-call timeout; forget old ended ones."""
        deadline = now - self.stale_call_timeout
        for call in [c for c in self.calls.values() if c.last_news < deadline]:
            self._abandon(call, int(now * 1000), "expired", changes)
        forgotten = now - ENDED_CALL_MEMORY
        while self.ended_calls:
            oldest = next(iter(self.ended_calls.values()))
            if oldest.last_news >= forgotten:
                break
            self.ended_calls.popitem(last=False)

    def forget(self, user: Participant) -> None:
        """Drop a user's legs from the calls they are in."""
        for call_id in user.legs:
            if (call := self.calls.get(call_id)) is not None:
                call.legs.pop(user.extension, None)

    def _parties(self, event: CallEvent, changes: Changes) -> dict[str, _Seen]:
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
        for party_seen in seen.values():
            self.directory.learn(party_seen.party, changes)
        return seen

    def _find(self, event: CallEvent) -> Call | None:
        return self.calls.get(event.call_id) or self.ended_calls.get(event.call_id)

    def _new_call(self, event: CallEvent, time_ms: int, received: float) -> Call:
        return Call(
            call_id=event.call_id,
            started_ms=_earliest(time_ms, event.start_ms),
            last_ms=-1,
            last_news=min(received, time_ms / 1000),
        )

    def _admit(
        self, event: CallEvent, time_ms: int, received: float, changes: Changes
    ) -> Call:
        """Start tracking a call, making room by ending the quietest one."""
        call = self._new_call(event, time_ms, received)
        if len(self.calls) >= MAX_ACTIVE_CALLS:
            oldest = min(self.calls.values(), key=lambda c: c.last_news)
            self._abandon(oldest, int(oldest.last_news * 1000), "evicted", changes)
        self.calls[call.call_id] = call
        changes.pbx.add(PbxAspect.ACTIVE_CALLS)
        return call

    def _hear(self, call: Call, time_ms: int, received: float) -> None:
        # The news is as old as the event: a call reported long after the fact
        # must not ring for another stale-call timeout.
        call.last_news = max(call.last_news, min(received, time_ms / 1000))

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
        ends_every_leg = event.phase is CallPhase.END
        cause = event.end_cause
        users = self.directory.users
        for extension, leg in call.legs.items():
            record = leg.record
            changed = record.start_by(call.started_ms)
            party_seen = seen.get(extension)
            flow = None if party_seen is None else party_seen.flow
            if flow is not None:
                changed |= record.start_by(flow.start_ms)
                if flow.answered:
                    changed |= record.mark_answered()
                if flow.recordings:
                    record.recordings = flow.recordings  # kept, not shown
                if flow.attachments:
                    changed |= record.keep_attachments(flow.attachments)
            if final:
                if flow is not None and flow.duration_ms is not None:
                    changed |= offer_duration(
                        record.reported_duration_ms, flow.duration_ms, rank
                    )
                if leg.ended or ends_every_leg:
                    end_ms = (
                        time_ms if flow is None or flow.end_ms is None else flow.end_ms
                    )
                    # The end shows only as the length, when none was reported.
                    changed |= record.end_by(end_ms) and record.duration_ms is None
                if cause:
                    changed |= record.reported_end_cause.offer(cause, rank)
                if flow is not None and flow.missed is not None:
                    # Analytics marks an unanswered internal call MISSED:
                    # whether that is a miss for its callee is an option.
                    missed = flow.missed and (
                        record.direction is not Direction.INTERNAL
                        or self._can_miss(leg)
                    )
                    changed |= record.reported_missed.offer_latest(missed, rank)
            if not changed or (user := users.get(extension)) is None:
                continue
            if not leg.ended:
                changes.touch(extension, Aspect.PHONE)
                continue
            self._count_missed(user, record, changes)
            if user.last_call is record:
                changes.touch(extension, Aspect.LAST_CALL)

    def _record_history(
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
            if extension in call.legs or not self.directory.tracks(extension):
                continue
            leg = self._new_leg(call, party_seen, time_ms)
            leg.ended = True
            call.legs[extension] = leg
            fresh = True
        if fresh:
            self._refine(call, time_ms, event, seen, changes)
            for leg in call.legs.values():
                self._file(leg, changes)

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
    ) -> list[tuple[Leg, bool]]:
        """Bring the legs of the parties this event shows up to date.

        Return the legs brought up to date, each with whether it is new.
        """
        joined: list[tuple[Leg, bool]] = []
        users = self.directory.users
        for extension, party_seen in seen.items():
            user = users.get(extension)
            if user is None:
                continue
            leg = call.legs.get(extension)
            flow = party_seen.flow
            new = leg is None
            if leg is None:
                if len(call.legs) >= MAX_CALL_PARTIES:
                    continue
                leg = self._new_leg(call, party_seen, time_ms)
                call.legs[extension] = leg
                user.legs[call.call_id] = leg
                shown = True
            elif leg.ended:
                continue
            else:
                shown = _learn_remote(leg.record, party_seen.other)
            if flow.index >= leg.flow_index:
                shown |= self._update_leg(user, leg, party_seen, time_ms)
                joined.append((leg, new))
            if shown:
                changes.touch(extension, Aspect.PHONE)
        return joined

    def _update_leg(
        self, user: Participant, leg: Leg, party_seen: _Seen, time_ms: int
    ) -> bool:
        """Follow a leg to the flow an event shows; return whether the phone changed."""
        flow = party_seen.flow
        leg.flow_index = flow.index
        state = _leg_state(flow, party_seen.caller, leg)
        shown = flow.answered and leg.record.mark_answered()
        if state is not leg.state:
            leg.state = state
            shown = True
        if leg.updated_ms != time_ms:
            leg.updated_ms = time_ms
            # Which of several calls is shown depends on when each changed.
            shown |= len(user.legs) > 1
        return _advance_calls(user, time_ms) or shown

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
                    flow.answered and flow.index > latest for flow in event.flows
                )
            if gone:
                # Moved on: whoever took the call over answers for it.
                leg.record.reported_missed.assume(False)
                self._close_leg(call, leg, time_ms, changes)

    def _end_reported(
        self,
        call: Call,
        time_ms: int,
        event: CallEvent,
        seen: dict[str, _Seen],
        changes: Changes,
    ) -> None:
        """End a call as an event reports it ended."""
        self._join(call, time_ms, seen, changes)
        for extension, leg in list(call.legs.items()):
            if leg.ended:
                continue
            party_seen = seen.get(extension)
            if party_seen is not None and party_seen.flow.answered:
                leg.record.answered = True
            self._hang_up(call, leg, time_ms, changes)
        self._refine(call, time_ms, event, seen, changes)
        self._retire(call, changes)

    def _abandon(self, call: Call, time_ms: int, cause: str, changes: Changes) -> None:
        """End a call whose end never came (expired) or that had to make room."""
        for leg in list(call.legs.values()):
            if leg.ended:
                continue
            leg.record.reported_end_cause.assume(cause)
            leg.record.reported_missed.assume(False)
            self._hang_up(call, leg, time_ms, changes)
        self._retire(call, changes)

    def _hang_up(self, call: Call, leg: Leg, time_ms: int, changes: Changes) -> None:
        """End a leg with its call: unanswered, it may have been missed."""
        record = leg.record
        record.reported_missed.assume(self._can_miss(leg) and not record.answered)
        self._close_leg(call, leg, time_ms, changes)

    def _can_miss(self, leg: Leg) -> bool:
        """Tell whether a call ending unanswered is a missed call for this leg."""
        match leg.record.direction:
            case Direction.INBOUND:
                return True
            case Direction.INTERNAL:
                return self.missed_internal and not leg.caller
        return False

    def _close_leg(self, call: Call, leg: Leg, time_ms: int, changes: Changes) -> None:
        """End a leg whose outcome is known: tell the user and file the record."""
        record = leg.record
        leg.ended = True
        record.end_by(time_ms)
        user = self.directory.users.get(leg.extension)
        if user is not None:
            if user.legs.pop(call.call_id, None) is not None:
                changes.touch(leg.extension, Aspect.PHONE)
            if _advance_calls(user, time_ms):
                changes.touch(leg.extension, Aspect.PHONE)
        if record.missed:
            changes.add_moment(leg.claim_final_moment(MomentType.MISSED_CALL, time_ms))
        changes.add_moment(leg.claim_final_moment(MomentType.CALL_ENDED, time_ms))
        self._file(leg, changes)
        if user is not None and user.last_call is record:
            # The record has just ended: what the last call shows changed.
            changes.touch(leg.extension, Aspect.LAST_CALL)

    def _file(self, leg: Leg, changes: Changes) -> None:
        """Make an ended leg the user's last call if it is the most recent one."""
        user = self.directory.users.get(leg.extension)
        if user is None:
            return
        record = leg.record
        record.reported_missed.assume(False)
        last = user.last_call
        if last is not record and (
            last is None or record.started_ms >= last.started_ms
        ):
            user.last_call = record
            changes.touch(leg.extension, Aspect.LAST_CALL)
        self._count_missed(user, record, changes)

    def _count_missed(
        self, user: Participant, record: CallRecord, changes: Changes
    ) -> None:
        if not record.missed or record.call_id in user.counted:
            return
        user.counted.append(record.call_id)
        user.missed_calls += 1
        changes.touch(user.extension, Aspect.MISSED_CALLS)

    def _retire(self, call: Call, changes: Changes) -> None:
        call.ended = True
        if self.calls.pop(call.call_id, None) is not None:
            changes.pbx.add(PbxAspect.ACTIVE_CALLS)
        self._remember_ended(call)

    def _remember_ended(self, call: Call) -> None:
        self.ended_calls[call.call_id] = call
        self.ended_calls.move_to_end(call.call_id)
        while len(self.ended_calls) > MAX_ENDED_CALLS:
            self.ended_calls.popitem(last=False)


def _learn_remote(record: CallRecord, other: Party | None) -> bool:
    """Learn the other party of a leg; return whether anything changed."""
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


def _advance_calls(user: Participant, time_ms: int) -> bool:
    """Note news of a user's calls; return whether it now hides the line's status."""
    if time_ms <= user.calls_ms:
        return False
    hides_line = user.calls_ms < user.telephony_ms <= time_ms
    user.calls_ms = time_ms
    return hides_line


def _leg_state(flow: CallFlow, caller: bool, leg: Leg) -> PhoneState:
    if flow.status is LegStatus.TALKING:
        return PhoneState.TALKING
    if flow.status is LegStatus.HOLD:
        return PhoneState.ON_HOLD
    if leg.record.answered or flow.answered:
        return (
            leg.state
            if leg.state in (PhoneState.TALKING, PhoneState.ON_HOLD)
            else PhoneState.TALKING
        )
    return PhoneState.DIALING if caller else PhoneState.RINGING


def _earliest(first: int, *others: int | None) -> int:
    for value in others:
        if value is not None and value < first:
            first = value
    return first
