"""Time for the simulator: timed steps run in order on a real or a virtual clock."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
import hashlib
import heapq
import hmac
import json
import time
from typing import Protocol

from .office import NORMAL_CLEARING, Office, Payload

Action = Callable[[int], None]


def encode(payload: Payload) -> bytes:
    """Encode an event as Wildix sends it: compact JSON, non-ASCII left as UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def sign(secret: str, body: bytes) -> str:
    """Return the `x-signature` Wildix sends: lowercase hex HMAC-SHA256 of the body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Delivery:
    """One POST of an event: its exact bytes and their signature."""

    payload: Payload
    body: bytes
    signature: str
    duplicate: bool = False


class Clock(Protocol):
    """Where the simulation's time comes from."""

    def wait_until(self, offset_s: float) -> None:
        """Return once `offset_s` seconds have passed since the start."""

    def now_ms(self) -> int:
        """Return the current epoch time in milliseconds."""


class RealClock:
    """Wall-clock time: steps wait for their moment."""

    def __init__(self) -> None:
        """Start the clock now."""
        self._start = time.monotonic()

    def wait_until(self, offset_s: float) -> None:
        """Sleep until the offset is reached."""
        delay = self._start + offset_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def now_ms(self) -> int:
        """Return the wall-clock epoch time in milliseconds."""
        return int(time.time() * 1000)


class VirtualClock:
    """Simulated time: every step runs at once, stamped as if at its moment."""

    def __init__(self, start_ms: int) -> None:
        """Start the clock at an epoch time in milliseconds."""
        self.start_ms = start_ms
        self.offset_s = 0.0

    def wait_until(self, offset_s: float) -> None:
        """Jump to the offset."""
        self.offset_s = max(self.offset_s, offset_s)

    def now_ms(self) -> int:
        """Return the simulated epoch time in milliseconds."""
        return self.start_ms + round(self.offset_s * 1000)


class Stop(Exception):
    """Raised by a delivery callback to end the simulation early."""


class Simulation:
    """Runs timed steps against a simulated PBX and delivers the events they produce."""

    def __init__(
        self,
        office: Office,
        clock: Clock,
        secret: str,
        deliver: Callable[[Delivery], None],
        *,
        speed: float = 1.0,
        duplicates: float = 0.0,
    ) -> None:
        """Initialise a simulation; `speed` > 1 shortens every wait in the scenarios."""
        self.office = office
        self.clock = clock
        self.secret = secret
        self.speed = speed
        self.duplicates = duplicates
        self.now_s = 0.0
        self.sent = 0
        self._deliver = deliver
        self._queue: list[tuple[float, int, Action]] = []
        self._sequence = 0

    def at(self, offset_s: float, action: Action) -> None:
        """Run an action `offset_s` seconds after the start of the simulation."""
        self._sequence += 1
        heapq.heappush(self._queue, (max(offset_s, self.now_s), self._sequence, action))

    def scaled(self, seconds: float) -> float:
        """Return a scenario's wait, shortened by the speed factor."""
        return seconds / self.speed

    def send(self, payloads: Iterable[Payload]) -> None:
        """Sign and deliver events; some are sent again later, as Wildix retries do."""
        for payload in payloads:
            body = encode(payload)
            delivery = Delivery(payload, body, sign(self.secret, body))
            self.sent += 1
            self._deliver(delivery)
            if self.duplicates and self.office.rng.random() < self.duplicates:
                again = Delivery(payload, body, delivery.signature, duplicate=True)
                delay = self.scaled(self.office.rng.uniform(0.2, 2.0))
                self.at(self.now_s + delay, partial(self._resend, again))

    def _resend(self, delivery: Delivery, _now_ms: int) -> None:
        self._deliver(delivery)

    def run(self, until_s: float | None = None) -> None:
        """Run every step in time order; at `until_s`, hang up the calls still going."""
        try:
            while self._queue:
                offset_s, _, action = self._queue[0]
                if until_s is not None and offset_s > until_s:
                    break
                heapq.heappop(self._queue)
                self.clock.wait_until(offset_s)
                self.now_s = offset_s
                action(self.clock.now_ms())
            if until_s is not None and self._queue:
                self._queue.clear()
                self.clock.wait_until(until_s)
                self.now_s = until_s
                now_ms = self.clock.now_ms()
                for call in list(self.office.calls.values()):
                    self.send(self.office.hang_up(call, now_ms, NORMAL_CLEARING))
        except Stop:
            self._queue.clear()
