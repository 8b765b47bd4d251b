"""Scenarios: what happens in the office, as timed steps of a simulation.

Each scenario schedules its steps from a start offset and returns the offset at which
its last event is sent, so that scenarios can run one after another.
"""

from collections.abc import Callable
from dataclasses import dataclass
import random
from typing import Self

from .office import (
    COMPANY_NUMBER,
    HUNG_UP_BY_CALLEE,
    INTERRUPTED,
    NO_ANSWER,
    NORMAL_CLEARING,
    REJECTED,
    Call,
    EndCause,
    Family,
    Office,
    Party,
    Payload,
    User,
)
from .simulation import Delivery, Simulation, VirtualClock

ANALYTICS_DELAY = 3.0


class CallScript:
    """The steps of one call, each a while after the one before."""

    def __init__(self, sim: Simulation, start: float) -> None:
        """Start writing a call's steps at an offset of the simulation."""
        self.sim = sim
        self.office = sim.office
        self.time = start
        self.call: Call | None = None

    def begin(
        self, caller: Party, destination: str, direction: str, remote: str
    ) -> Self:
        """Place the call."""

        def act(now_ms: int) -> None:
            self.call = self.office.new_call(
                now_ms, caller, destination, direction, remote
            )
            self.sim.send(self.office.start(self.call, now_ms))

        self.sim.at(self.time, act)
        return self

    def then(
        self,
        wait: float,
        change: Callable[[Call, int], list[Payload]],
        *,
        after_end: bool = False,
    ) -> Self:
        """After `wait` seconds (before the speed factor), change the call."""
        self.time += self.sim.scaled(wait)

        def act(now_ms: int) -> None:
            call = self.call
            if call is not None and (after_end or not call.ended):
                self.sim.send(change(call, now_ms))

        self.sim.at(self.time, act)
        return self

    def end(self, wait: float, cause: EndCause, *, interrupted: bool = False) -> float:
        """Hang up after `wait` seconds, then send the stored call record."""
        office = self.office
        self.then(
            wait,
            lambda call, now: office.hang_up(call, now, cause, interrupted=interrupted),
        )
        if Family.LIVE in office.families:
            self.then(
                ANALYTICS_DELAY,
                lambda call, now: office.completed(call, now, cause),
                after_end=True,
            )
        return self.time


def _pick(office: Office, count: int) -> list[User]:
    users = office.users
    if len(users) < count:
        raise ValueError(
            f"this scenario needs {count} users, --users gives {len(users)}"
        )
    return users[:count]


def _nth(office: Office, position: int) -> User:
    """Return a user by position, wrapping around short user lists."""
    return office.users[position % len(office.users)]


def inbound_answered(
    sim: Simulation, start: float, callee: User | None = None, *, hold: bool = False
) -> float:
    """Call a user from outside; they answer, talk (maybe hold) and hang up."""
    office = sim.office
    rng = office.rng
    callee = callee or _pick(office, 1)[0]
    caller = office.remote()
    script = CallScript(sim, start).begin(
        caller, COMPANY_NUMBER, "INBOUND", caller.phone
    )
    script.then(0.6, lambda call, now: office.ring(call, now, callee))
    script.then(rng.uniform(3, 7), office.answer)
    if hold:
        script.then(
            rng.uniform(5, 12), lambda call, now: office.hold(call, now, held=True)
        )
        script.then(
            rng.uniform(4, 8), lambda call, now: office.hold(call, now, held=False)
        )
    cause = NORMAL_CLEARING if rng.random() < 0.6 else HUNG_UP_BY_CALLEE
    return script.end(rng.uniform(8, 30), cause)


def missed(sim: Simulation, start: float, callee: User | None = None) -> float:
    """Call a user from outside and give up while it rings."""
    office = sim.office
    callee = callee or _nth(office, 1)
    caller = office.remote()
    script = CallScript(sim, start).begin(
        caller, COMPANY_NUMBER, "INBOUND", caller.phone
    )
    script.then(0.6, lambda call, now: office.ring(call, now, callee))
    return script.end(office.rng.uniform(12, 20), NO_ANSWER)


def voicemail(sim: Simulation, start: float, callee: User | None = None) -> float:
    """Call a user from outside; nobody answers and the caller leaves a voicemail."""
    office = sim.office
    callee = callee or _nth(office, 0)
    caller = office.remote()
    script = CallScript(sim, start).begin(
        caller, COMPANY_NUMBER, "INBOUND", caller.phone
    )
    script.then(0.6, lambda call, now: office.ring(call, now, callee))
    # The voicemail answers after the ringing: the call ends when the message does.
    script.then(
        office.rng.uniform(20, 40),
        lambda call, now: office.hang_up(call, now, NORMAL_CLEARING),
    )
    script.then(
        ANALYTICS_DELAY,
        lambda call, now: office.completed(call, now, NORMAL_CLEARING, voicemail=True),
        after_end=True,
    )
    return script.time


def outbound(sim: Simulation, start: float, caller: User | None = None) -> float:
    """Call an outside number from a user; they talk and the other side hangs up."""
    office = sim.office
    rng = office.rng
    caller = caller or _nth(office, 2)
    callee = office.remote()
    script = CallScript(sim, start).begin(
        caller, callee.phone, "OUTBOUND", callee.phone
    )
    script.then(1.5, lambda call, now: office.ring(call, now, callee))
    script.then(rng.uniform(3, 8), office.answer)
    interrupted = rng.random() < 0.05
    cause = INTERRUPTED if interrupted else HUNG_UP_BY_CALLEE
    return script.end(rng.uniform(10, 35), cause, interrupted=interrupted)


def internal(
    sim: Simulation,
    start: float,
    caller: User | None = None,
    callee: User | None = None,
    *,
    rejected: bool = False,
) -> float:
    """Call one user from another, who answers (or rejects the call)."""
    office = sim.office
    rng = office.rng
    if caller is None or callee is None:
        callee = _pick(office, 2)[0]
        caller = _nth(office, 3) if len(office.users) > 3 else _nth(office, 1)
    script = CallScript(sim, start).begin(
        caller, callee.extension, "INTERNAL", callee.extension
    )
    script.then(0.5, lambda call, now: office.ring(call, now, callee))
    if rejected:
        return script.end(rng.uniform(2, 5), REJECTED)
    script.then(rng.uniform(2, 5), office.answer)
    return script.end(rng.uniform(6, 20), NORMAL_CLEARING)


def transfer(
    sim: Simulation, start: float, first: User | None = None, second: User | None = None
) -> float:
    """Call a user from outside, who hands the caller to another user (two flows)."""
    office = sim.office
    rng = office.rng
    if first is None or second is None:
        first, second = _pick(office, 2)
    caller = office.remote()
    script = CallScript(sim, start).begin(
        caller, COMPANY_NUMBER, "INBOUND", caller.phone
    )
    script.then(0.6, lambda call, now: office.ring(call, now, first))
    script.then(rng.uniform(3, 6), office.answer)
    script.then(
        rng.uniform(6, 12), lambda call, now: office.transfer(call, now, second)
    )
    script.then(rng.uniform(3, 6), office.answer)
    return script.end(rng.uniform(8, 25), NORMAL_CLEARING)


_CHANGES: tuple[tuple[str, str, int | None, tuple[str, str, str] | None], ...] = (
    ("away", "Lunch break", 45, None),
    ("dnd", "Customer workshop", 90, None),
    (
        "available",
        "Working from the Berlin office",
        None,
        ("Example Strasse 1, 10115 Berlin", "52.5321", "13.3849"),
    ),
    ("away", "", None, None),
    ("dnd", "Focus time", 30, None),
    ("available", "", None, None),
)


def presence_change(sim: Simulation, start: float, user: User, step: int) -> float:
    """Change a user's presence (the `step`th change of a realistic cycle)."""
    office = sim.office
    status, message, until, location = _CHANGES[step % len(_CHANGES)]

    def act(now_ms: int) -> None:
        sim.send(
            office.presence(
                user,
                now_ms,
                status,
                message=message,
                until_minutes=until,
                location=location,
            )
        )

    sim.at(start, act)
    return start


def presence(sim: Simulation, start: float) -> float:
    """Take every user through away, do not disturb and available, with messages."""
    time = start
    for step in range(len(_CHANGES)):
        for position, user in enumerate(sim.office.users):
            presence_change(sim, time, user, step + position)
            time += sim.scaled(1.0)
    return time


SCENARIOS: dict[str, Callable[[Simulation, float], float]] = {
    "inbound-answered": inbound_answered,
    "missed": missed,
    "voicemail": voicemail,
    "outbound": outbound,
    "internal": internal,
    "transfer": transfer,
    "presence": presence,
}


def everything(sim: Simulation, start: float) -> float:
    """Run every scenario once, one after the other."""
    time = start
    for scenario in SCENARIOS.values():
        time = scenario(sim, time) + sim.scaled(1.0)
    return time


@dataclass(frozen=True, slots=True)
class _Kind:
    weight: float
    start: Callable[[Simulation, float], float | None]


def _busy_inbound(sim: Simulation, start: float) -> float | None:
    office = sim.office
    callee = office.rng.choice(office.users)
    if office.busy(callee):
        # Rings while they talk (telephony "rt"), and nobody picks it up.
        return missed(sim, start, callee)
    return inbound_answered(sim, start, callee, hold=office.rng.random() < 0.2)


def _busy_missed(sim: Simulation, start: float) -> float | None:
    return missed(sim, start, sim.office.rng.choice(sim.office.users))


def _busy_outbound(sim: Simulation, start: float) -> float | None:
    idle = sim.office.idle_users()
    return outbound(sim, start, sim.office.rng.choice(idle)) if idle else None


def _busy_internal(sim: Simulation, start: float) -> float | None:
    office = sim.office
    idle = office.idle_users()
    if len(idle) < 2:
        return None
    caller, callee = office.rng.sample(idle, 2)
    return internal(sim, start, caller, callee, rejected=office.rng.random() < 0.25)


def _busy_transfer(sim: Simulation, start: float) -> float | None:
    idle = sim.office.idle_users()
    if len(idle) < 2:
        return None
    first, second = sim.office.rng.sample(idle, 2)
    return transfer(sim, start, first, second)


def _busy_presence(sim: Simulation, start: float) -> float | None:
    office = sim.office
    return presence_change(
        sim, start, office.rng.choice(office.users), office.rng.randrange(6)
    )


_MIX = (
    _Kind(0.32, _busy_inbound),
    _Kind(0.12, _busy_missed),
    _Kind(0.22, _busy_outbound),
    _Kind(0.10, _busy_internal),
    _Kind(0.06, _busy_transfer),
    _Kind(0.18, _busy_presence),
)


def events_per_start(
    families: frozenset[Family], telephony: bool, users: list[User]
) -> float:
    """Return how many events one start of the busy-office mix sends on average."""
    rng = random.Random(0)
    office = Office(users, rng, families=families, telephony=telephony)
    count = 0

    def deliver(_delivery: Delivery) -> None:
        nonlocal count
        count += 1

    sim = Simulation(office, VirtualClock(0), "x", deliver)
    starts = 200
    time = 0.0
    for _ in range(starts):
        kind = rng.choices(_MIX, weights=[k.weight for k in _MIX])[0]
        time = max(time, kind.start(sim, time) or time) + 1
        sim.run()
    return count / starts


def busy_office(sim: Simulation, start: float, rate: float) -> None:
    """Keep the office busy at about `rate` events per second, until the simulation stops."""
    office = sim.office
    per_start = events_per_start(office.families, office.telephony, office.users)
    weights = [kind.weight for kind in _MIX]
    sent_before = sim.sent

    def spawn(_now_ms: int) -> None:
        kind = office.rng.choices(_MIX, weights=weights)[0]
        if kind.start(sim, sim.now_s) is None:
            # Everyone is on the phone: another outside call rings a busy user.
            _busy_inbound(sim, sim.now_s)
        gap = office.rng.expovariate(rate / per_start)
        behind = rate * (sim.now_s - start) - (sim.sent - sent_before)
        if behind > per_start:
            gap /= 4
        sim.at(sim.now_s + gap, spawn)

    sim.at(start, spawn)
