"""Benchmark-only integration: baseline and calibration webhooks, and what the harness measures.

Never shipped: `scripts/bench` links it into a throw-away configuration next to wildix.
"""

import asyncio
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
import contextlib
import cProfile
import ctypes
import functools
import gc
import hashlib
import hmac
from http import HTTPStatus
import importlib
import os
from pathlib import Path
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
import types
from typing import TYPE_CHECKING, Any

from aiohttp.web import Request, Response
from homeassistant.components import webhook
from homeassistant.components.calendar import CalendarEvent
from homeassistant.components.http.config import async_get_and_load_store
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    EVENT_HOMEASSISTANT_STARTED,
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    MATCH_ALL,
    Platform,
)
from homeassistant.core import (
    Event,
    EventBus,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.helpers import (
    device_registry as dr,
    discovery,
    entity_registry as er,
)
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import DATA_ENTITY_PLATFORM
from homeassistant.helpers.http import HomeAssistantView
from homeassistant.helpers.typing import ConfigType
from homeassistant.setup import async_get_setup_timings
from homeassistant.util.json import json_loads
import orjson
import voluptuous as vol

if TYPE_CHECKING:
    from .sensor import ReceiverSensor

DOMAIN = "wildix_bench"
WILDIX = "wildix"
NOOP_WEBHOOK = "bench_noop"
MINIMAL_WEBHOOK = "bench_minimal"
WRITES3_WEBHOOK = "bench_writes3"
EVENT_WEBHOOK = "bench_event"
ENTITY_WEBHOOK = "bench_entity"
DATA_ENTITY_RECEIVER = f"{DOMAIN}_entity_receiver"
CALIBRATION_EVENT = "bench_calibration"
# The harness sends events stamped up to 150 minutes in the past (see run.py).
MAX_EVENT_AGE_MINUTES = 180

# Attribute names are StrEnums in newer Home Assistant: not plain str keys to orjson.
_SORTED = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS

type Handler = Callable[[HomeAssistant, str, Request], Awaitable[Response]]

CONFIG_SCHEMA = vol.Schema(
    {DOMAIN: vol.Schema({vol.Required("secret"): str})}, extra=vol.ALLOW_EXTRA
)


async def _noop(hass: HomeAssistant, webhook_id: str, request: Request) -> Response:
    """Answer without looking at the delivery: the cost of Home Assistant's HTTP path."""
    return Response(status=HTTPStatus.OK)


async def _verified_payload(secret: bytes, request: Request) -> dict[str, Any] | None:
    """Read, verify and parse a delivery: the least any receiver does before its writes."""
    body = await request.read()
    return _verified(secret, body, request.headers.get("x-signature", "").encode())


def _verified(secret: bytes, body: bytes, given: bytes) -> dict[str, Any] | None:
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(expected, given):
        return None
    payload = json_loads(body)
    return payload if isinstance(payload, dict) else None


# What a receiver does with a delivery's body and signature; whether it took it.
type Work = Callable[[HomeAssistant, bytes, bytes], bool]


class WorkClock:
    """The CPU time of a receiver's work once it has read the body, per delivery.

    Read for the minimal receiver while it serves HTTP, and for the same work
    handed the same bodies back to back (`replay`): the control of the hub's
    replay (HubClock.replay), for a receiver that is not wildix. Both time each
    delivery alike (two reads of the thread's CPU clock), so the two compare as read.
    """

    def __init__(self) -> None:
        """Initialise at zero, with no work to time yet."""
        self.seconds = 0.0
        self.calls = 0
        self.work: Work | None = None

    def timed(self, hass: HomeAssistant, body: bytes, given: bytes) -> bool:
        """Do the work on one delivery, timed."""
        assert self.work is not None
        began = time.thread_time()
        try:
            return self.work(hass, body, given)
        finally:
            self.seconds += time.thread_time() - began
            self.calls += 1

    def replay(self, hass: HomeAssistant, deliveries: list[list[str]]) -> float:
        """Do the work on deliveries back to back; return its CPU time a delivery."""
        seconds, calls = self.seconds, self.calls
        for body, signature in deliveries:
            self.timed(hass, body.encode(), signature.encode())
        return (self.seconds - seconds) / (self.calls - calls)


def _receiver(
    secret: bytes,
    entities: tuple[str, ...],
    *,
    fire: bool,
    clock: WorkClock | None = None,
) -> Handler:
    """Return a receiver that verifies, parses, writes `entities` and maybe fires an event.

    Every write is a real change: the state carries the delivery's id. The minimal
    receiver writes one state; the calibration receivers, which price a state write
    and a bus event, write three states, or one state and one event. With a
    `clock`, what it does after reading the body is timed.
    """

    def work(hass: HomeAssistant, body: bytes, given: bytes) -> bool:
        if (payload := _verified(secret, body, given)) is None:
            return False
        for entity_id in entities:
            hass.states.async_set(
                entity_id, str(payload.get("type")), {"id": payload.get("id")}
            )
        if fire:
            hass.bus.async_fire(
                CALIBRATION_EVENT,
                {
                    "type": payload.get("type"),
                    "id": payload.get("id"),
                    "data": payload.get("data"),
                },
            )
        return True

    take = work
    if clock is not None:
        clock.work = work
        take = clock.timed

    async def handle(
        hass: HomeAssistant, webhook_id: str, request: Request
    ) -> Response:
        body = await request.read()
        given = request.headers.get("x-signature", "").encode()
        if not take(hass, body, given):
            return Response(status=HTTPStatus.BAD_REQUEST)
        return Response(status=HTTPStatus.OK)

    return handle


def _entity_receiver(secret: bytes) -> Handler:
    """Return the minimal receiver writing its one state through an entity (sensor.py).

    What it costs above the minimal receiver is what `Entity` adds to a state write.
    """

    async def handle(
        hass: HomeAssistant, webhook_id: str, request: Request
    ) -> Response:
        if (payload := await _verified_payload(secret, request)) is None:
            return Response(status=HTTPStatus.BAD_REQUEST)
        sensor: ReceiverSensor | None = hass.data.get(DATA_ENTITY_RECEIVER)
        if sensor is None or sensor.hass is None:
            return Response(status=HTTPStatus.SERVICE_UNAVAILABLE)
        sensor.async_show(str(payload.get("type")), payload.get("id"))
        return Response(status=HTTPStatus.OK)

    return handle


class Accounting:
    """Counts state writes of wildix entities per Wildix event type, when asked to."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialise, switched off."""
        self.hass = hass
        self.current = "startup"
        self.events: Counter[str] = Counter()
        self.changed: Counter[str] = Counter()
        self.reported: Counter[str] = Counter()
        self.bus_events: Counter[str] = Counter()
        # The rows Home Assistant's recorder would write for these (see recorder_rows).
        self.rows: Counter[str] = Counter()
        self._attributes: dict[str, set[bytes]] = {"recorded": set(), "all": set()}
        self._event_data: set[bytes] = set()
        self._keys: dict[str, str | None] = {}
        self._unsubscribe: list[Any] = []

    def start(self) -> None:
        """Start counting from zero."""
        self.stop()
        self.events.clear()
        self.changed.clear()
        self.reported.clear()
        self.bus_events.clear()
        self.rows.clear()
        for seen in self._attributes.values():
            seen.clear()
        self._event_data.clear()
        bus = self.hass.bus
        self._unsubscribe = [
            bus.async_listen("wildix_webhook", self._webhook),
            bus.async_listen(MATCH_ALL, self._bus_event),
            bus.async_listen(EVENT_STATE_CHANGED, self._changed),
            bus.async_listen(
                EVENT_STATE_REPORTED, self._reported, event_filter=self._ours
            ),
        ]
        if entries := self.hass.config_entries.async_entries(WILDIX):
            hub = entries[0].runtime_data
            # What the PBX's Last event sensor writes when it is enabled (it is
            # disabled by default): the hub signals it when the second changed.
            self._unsubscribe.append(
                hub.signals.connect(hub.signal_pbx("last_event"), self._last_event)
            )

    def stop(self) -> None:
        """Stop counting."""
        while self._unsubscribe:
            self._unsubscribe.pop()()

    def _key(self, entity_id: str) -> str | None:
        if entity_id not in self._keys:
            entry = er.async_get(self.hass).async_get(entity_id)
            self._keys[entity_id] = (
                entry.translation_key if entry and entry.platform == WILDIX else None
            )
        return self._keys[entity_id]

    @callback
    def _ours(self, data: Mapping[str, Any]) -> bool:
        return self._key(data["entity_id"]) is not None

    @callback
    def _bus_event(self, event: Event) -> None:
        if (event_type := str(event.event_type)).startswith(f"{WILDIX}_"):
            self.bus_events[event_type] += 1
            self.rows["events"] += 1
            data = orjson.dumps(event.data, default=str, option=_SORTED)
            if data not in self._event_data:
                self._event_data.add(data)
                self.rows["event_data"] += 1

    @callback
    def _last_event(self) -> None:
        self.rows["last_event_sensor"] += 1

    @callback
    def _webhook(self, event: Event) -> None:
        self.current = event.data["type"]
        self.events[self.current] += 1

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        if (key := self._key(event.data["entity_id"])) is not None:
            self.changed[f"{self.current} {key}"] += 1
            if (state := event.data["new_state"]) is not None:
                self._count_rows(state)

    def _count_rows(self, state: State) -> None:
        """Count the rows the recorder writes for a state: one, and its attributes if new.

        The recorder keeps each distinct set of attributes once (without those the
        entity leaves unrecorded) and refers to it from every state that has it.
        """
        self.rows["states"] += 1
        info = state.state_info
        unrecorded = info["unrecorded_attributes"] if info else frozenset()
        for kind, attributes in (
            (
                "recorded",
                {k: v for k, v in state.attributes.items() if k not in unrecorded},
            ),
            ("all", state.attributes),
        ):
            data = orjson.dumps(attributes, default=str, option=_SORTED)
            if data not in self._attributes[kind]:
                self._attributes[kind].add(data)
                self.rows[f"state_attributes_{kind}"] += 1

    @callback
    def _reported(self, event: Event[EventStateReportedData]) -> None:
        if (key := self._key(event.data["entity_id"])) is not None:
            self.reported[f"{self.current} {key}"] += 1

    def as_dict(self) -> dict[str, Any]:
        """Return the counts."""
        return {
            "events": dict(self.events),
            "changed": dict(self.changed),
            "reported": dict(self.reported),
            "bus_events": dict(self.bus_events),
            "rows": dict(self.rows),
        }


class GcClock:
    """The CPU time the garbage collector took, from its callbacks.

    The thread's CPU clock: a collection holds the interpreter, and the process's
    clock would add what other threads did outside it meanwhile (file writes).
    """

    def __init__(self) -> None:
        """Initialise at zero."""
        self.seconds = 0.0
        self.collections = 0
        # The longest single collection and its generation, since the loop probe's reset.
        self.longest = 0.0
        self.longest_generation = -1
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        """Time one collection."""
        if phase == "start":
            self._began = time.thread_time()
        else:
            took = time.thread_time() - self._began
            self.seconds += took
            self.collections += 1
            if took > self.longest:
                self.longest = took
                self.longest_generation = info["generation"]


# What `--hub-detail` times within the hub besides the parts always timed: the
# receivers of its signals and its bookkeeping (module, class, methods).
DETAIL_PARTS = (
    (
        "hub",
        "WildixHub",
        ("_async_fire_webhook_event", "_async_phone_parts", "_async_fire_moments"),
    ),
    ("deliveries", "DeliveryLog", ("async_verified",)),
    ("storage", "SeenDeliveries", ("add",)),
    ("inbox_hub", "WildixInbox", ("async_take",)),
    ("entity", "WildixModelEntity", ("_async_model_changed",)),
    ("calendar", "WildixCallLogCalendar", ("_async_changed",)),
    ("daily_stats", "WildixDailySensor", ("_async_totals",)),
    ("event", "WildixCallsEvent", ("_async_moment",)),
    ("todo", "WildixCallbacksTodo", ("_async_changed",)),
    (
        "call_history",
        "CallHistory",
        ("_async_last_call", "_async_moment", "_async_tell_today"),
    ),
    ("callbacks", "CallbackList", ("take",)),
    ("call_log", "UserCallLog", ("add",)),
)


# The parts timed even when the parts inside the hub are not: the hub itself, and
# the entity writes that are not its own work.
ALWAYS_TIMED = frozenset({"hub", "writes"})


class HubClock:
    """The event loop's CPU time in wildix's hub, and in parts of it, while it serves HTTP.

    `hub` is all of `WildixHub.async_deliver` (verify, decode, apply and publish,
    state writes included): wildix's own work without Home Assistant's HTTP path and
    the body's reading. The parts: verifying the signature, decoding the event,
    applying it to the model, publishing what changed (signals, entities' renders
    and writes, call moments), and within that the state writes of entities
    (`Entity.async_write_ha_state`). Timing costs two reads of the thread's CPU
    clock per part called (a system call: about 1 µs each on the bench's machine).
    """

    def __init__(self, gc_clock: GcClock) -> None:
        """Initialise at zero, not yet timing."""
        self._gc_clock = gc_clock
        self.seconds: defaultdict[str, float] = defaultdict(float)
        # How often each part was timed, and what timing one costs (_calibrate).
        self.calls: defaultdict[str, int] = defaultdict(int)
        self.probe_outer = self.probe_inner = 0.0
        self.writes = 0
        self.saves = 0
        self.save_times: deque[float] = deque(maxlen=100)
        self.save_gc_times: deque[float] = deque(maxlen=100)
        self.save_total_times: deque[float] = deque(maxlen=100)
        self.save_slices: list[float] = []
        # The longest a delivery, or a save's slice, held the event loop (thread
        # CPU, since the loop probe's last reset).
        self.longest_delivery = 0.0
        self.longest_slice = 0.0
        # The same without the garbage collector's collections within them.
        self.longest_delivery_besides_gc = 0.0
        self.longest_slice_besides_gc = 0.0
        # Saves under way (a save lets the event loop run between its slices).
        self.saving = 0
        self._inside = False
        # Each part's own time, without the timed parts inside it; and the time of
        # the timed parts inside the one running now (a stack).
        self.exclusive: defaultdict[str, float] = defaultdict(float)
        self._inner: list[float] = []
        # Whether the parts inside the hub are timed; off, only the hub and the
        # entity writes are. The harness reads the hub's parts with them on, and
        # everything else with them off, so that the timing stays out of it.
        self.parts = True

    def install(self) -> None:
        """Time every delivery from now on."""
        hub_module = importlib.import_module(f"custom_components.{WILDIX}.hub")
        self._wrap(hub_module.WildixHub, "async_deliver", "hub", outermost=True)
        self._wrap(hub_module, "verify_signature", "verify")
        self._wrap(hub_module, "decode_event", "decode")
        self._wrap(hub_module.PbxModel, "apply", "apply")
        self._wrap(hub_module.WildixHub, "_async_publish", "publish")
        self._wrap(Entity, "async_write_ha_state", "writes")
        # Home Assistant's own work inside the hub besides the entity writes: bus
        # events (wildix_webhook, wildix_event) and the calendar's validated events.
        self._wrap(EventBus, "async_fire", "bus")
        self._wrap(CalendarEvent, "__post_init__", "calendar_event")
        if os.environ.get("WILDIX_BENCH_DETAIL"):
            self._install_detail()
        self._calibrate()
        storage_module = importlib.import_module(f"custom_components.{WILDIX}.storage")
        self._time_saves(storage_module.ModelStorage)

    def _time_saves(self, storage_class: Any) -> None:
        """Time the model's saves: the event loop's CPU in each slice, and in all.

        A save encodes its users a slice at a time between turns of the event loop
        (sliced_store.py); `save_times` keeps each save's longest slice, `save_total_times`
        its slices' sum, `save_gc_times` the garbage collector's share of that sum.
        """
        original_save = storage_class._async_save_in_slices
        clock = self

        async def save(storage: Any) -> None:
            clock.saving += 1
            clock.save_slices = []
            gc_began = clock._gc_clock.seconds
            try:
                await original_save(storage)
            finally:
                clock.saving -= 1
                clock.saves += 1
                took = sum(clock.save_slices)
                clock.seconds["save"] += took
                clock.save_times.append(
                    round(max(clock.save_slices, default=0) * 1000, 2)
                )
                clock.save_total_times.append(round(took * 1000, 2))
                clock.save_gc_times.append(
                    round((clock._gc_clock.seconds - gc_began) * 1000, 2)
                )

        storage_class._async_save_in_slices = save
        for name in ("_encode_slice", "_data"):
            self._time_slice(storage_class, name)

    def _install_detail(self) -> None:
        """Time the receivers and bookkeeping within the hub too (`--hub-detail`)."""
        for module_name, owner_name, names in DETAIL_PARTS:
            module = importlib.import_module(
                f"custom_components.{WILDIX}.{module_name}"
            )
            owner = getattr(module, owner_name)
            for name in names:
                self._wrap(owner, name, f"{module_name}.{owner_name}.{name}")

    def _time_slice(self, storage_class: Any, name: str) -> None:
        original = getattr(storage_class, name)

        def timed(*args: Any) -> Any:
            began = time.thread_time()
            gc_began = self._gc_clock.seconds
            try:
                return original(*args)
            finally:
                took = time.thread_time() - began
                self.save_slices.append(took)
                self.longest_slice = max(self.longest_slice, took)
                self.longest_slice_besides_gc = max(
                    self.longest_slice_besides_gc,
                    took - (self._gc_clock.seconds - gc_began),
                )

        setattr(storage_class, name, timed)

    def _wrap(
        self, owner: Any, name: str, part: str, *, outermost: bool = False
    ) -> None:
        setattr(owner, name, self._timed(getattr(owner, name), part, outermost))

    def _timed(
        self, original: Callable[..., Any], part: str, outermost: bool
    ) -> Callable[..., Any]:
        always = outermost or part in ALWAYS_TIMED

        # As the original: Home Assistant runs a function marked @callback in the
        # event loop, and any other in its executor.
        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not (outermost or self._inside) or not (always or self.parts):
                return original(*args, **kwargs)
            self._inside = True
            inner = self._inner
            inner.append(0.0)
            began = time.thread_time()
            gc_began = self._gc_clock.seconds
            try:
                return original(*args, **kwargs)
            finally:
                took = time.thread_time() - began
                self.seconds[part] += took
                self.calls[part] += 1
                self.exclusive[part] += took - inner.pop()
                if inner:
                    inner[-1] += took
                if outermost:
                    self._inside = False
                    self.longest_delivery = max(self.longest_delivery, took)
                    self.longest_delivery_besides_gc = max(
                        self.longest_delivery_besides_gc,
                        took - (self._gc_clock.seconds - gc_began),
                    )
                elif part == "writes":
                    self.writes += 1

        return timed

    def replay(self, hub: Any, deliveries: list[list[str]]) -> dict[str, float]:
        """Hand deliveries to the hub back to back, as no HTTP request comes between them.

        Between two requests, Home Assistant's HTTP path (the no-op webhook's CPU)
        runs through code and data of its own, which leaves the hub's colder. Here
        the same work runs with nothing between deliveries; the hub's own work is
        read as for the requests (only the hub and its entity writes timed, the
        timing's price taken off).
        """
        parts, self.parts = self.parts, False
        seconds, calls = dict(self.seconds), dict(self.calls)
        try:
            for body, signature in deliveries:
                hub.async_deliver(body.encode(), signature)
        finally:
            self.parts = parts

        def grown(
            table: Mapping[str, float], before: Mapping[str, float]
        ) -> dict[str, float]:
            return {key: table[key] - before.get(key, 0) for key in ("hub", "writes")}

        took, timed = grown(self.seconds, seconds), grown(self.calls, calls)
        own = (
            took["hub"]
            - timed["hub"] * self.probe_inner
            - timed["writes"] * self.probe_outer
            - (took["writes"] - timed["writes"] * self.probe_inner)
        )
        return {
            "own_us": own / len(deliveries) * 1e6,
            "writes": timed["writes"] / len(deliveries),
        }

    def _calibrate(self) -> None:
        """Price the timing itself: what one timed part adds to what encloses it, and to itself.

        Each part timed within a delivery adds its two clock reads and its wrapper to
        the hub's time; the report takes that off (`probe_outer`, `probe_inner`).
        """

        def nothing() -> None:
            return None

        timed = self._timed(nothing, "calibration", outermost=False)
        outer: list[float] = []
        self._inside = True
        try:
            for _ in range(7):
                began = time.thread_time()
                for _ in range(2000):
                    timed()
                wrapped = time.thread_time() - began
                began = time.thread_time()
                for _ in range(2000):
                    nothing()
                outer.append((wrapped - (time.thread_time() - began)) / 2000)
        finally:
            self._inside = False
        self.probe_outer = statistics.median(outer)
        self.probe_inner = self.seconds.pop("calibration") / self.calls.pop(
            "calibration"
        )


class LoopProbe:
    """How late the event loop wakes a 5 ms sleep, and how much CPU it spent meanwhile.

    The lateness is what any delivery or timer waiting at that moment waits; on a
    shared machine it includes the time the process waited for a processor. The
    event loop thread's CPU time over the same window says how much of it was the
    loop's own work (the sleep itself costs none), but when deliveries queue up
    (a busy machine, open-loop traffic) one turn of the loop serves many of them.
    What wildix itself holds the loop for is the longest delivery and the longest
    slice of a save (HubClock). Windows during which a save was under way are
    counted apart.
    """

    SLEEP = 0.005

    def __init__(self, hub_clock: HubClock, gc_clock: GcClock) -> None:
        """Initialise, not yet running."""
        self._hub_clock = hub_clock
        self._gc_clock = gc_clock
        self.reset()

    def reset(self) -> dict[str, Any]:
        """Start counting anew; return what was counted so far."""
        counted = self.as_dict() if hasattr(self, "windows") else {}
        clock = self._hub_clock
        clock.longest_delivery = clock.longest_slice = 0.0
        clock.longest_delivery_besides_gc = clock.longest_slice_besides_gc = 0.0
        self._gc_clock.longest = 0.0
        self._gc_clock.longest_generation = -1
        self.windows = 0
        self.late_max = 0.0
        self.cpu_max = 0.0
        self.save_windows = 0
        self.save_late_max = 0.0
        self.save_cpu_max = 0.0
        self.over_20ms = 0
        self.cpu_over_20ms = 0
        self.late: list[float] = []
        return counted

    async def run(self) -> None:
        """Sleep 5 ms again and again, measuring each wake-up."""
        loop = asyncio.get_running_loop()
        clock = self._hub_clock
        while True:
            saves = clock.saves
            saving = clock.saving
            began = loop.time()
            cpu_began = time.thread_time()
            await asyncio.sleep(self.SLEEP)
            late = loop.time() - began - self.SLEEP
            cpu = time.thread_time() - cpu_began
            self.windows += 1
            self.late.append(late)
            self.late_max = max(self.late_max, late)
            self.cpu_max = max(self.cpu_max, cpu)
            self.over_20ms += late > 0.020
            self.cpu_over_20ms += cpu > 0.020
            if saving or clock.saving or clock.saves != saves:
                self.save_windows += 1
                self.save_late_max = max(self.save_late_max, late)
                self.save_cpu_max = max(self.save_cpu_max, cpu)

    def as_dict(self) -> dict[str, Any]:
        """Return the figures, in milliseconds."""
        late = sorted(self.late)
        return {
            "windows": self.windows,
            "late_max_ms": round(self.late_max * 1000, 2),
            "late_p999_ms": round(late[int(0.999 * (len(late) - 1))] * 1000, 2)
            if late
            else 0.0,
            "cpu_max_ms": round(self.cpu_max * 1000, 2),
            "over_20ms": self.over_20ms,
            "cpu_over_20ms": self.cpu_over_20ms,
            "save_windows": self.save_windows,
            "save_late_max_ms": round(self.save_late_max * 1000, 2),
            "save_cpu_max_ms": round(self.save_cpu_max * 1000, 2),
            "longest_delivery_ms": round(self._hub_clock.longest_delivery * 1000, 2),
            "longest_save_slice_ms": round(self._hub_clock.longest_slice * 1000, 2),
            "longest_delivery_besides_gc_ms": round(
                self._hub_clock.longest_delivery_besides_gc * 1000, 2
            ),
            "longest_save_slice_besides_gc_ms": round(
                self._hub_clock.longest_slice_besides_gc * 1000, 2
            ),
            "longest_collection_ms": round(self._gc_clock.longest * 1000, 2),
            "longest_collection_generation": self._gc_clock.longest_generation,
        }


def _entity_dicts(hass: HomeAssistant) -> dict[str, Any]:
    """Return the sizes of wildix's entity objects' instance dicts.

    Home Assistant caches an entity's properties in its instance dict and drops them
    when an `_attr_` changes; the dict is rebuilt larger (1.6 to 3.3 KiB) once those
    drops and refills have used up its slots, then stays that size.
    """
    sizes = Counter(
        sys.getsizeof(entity.__dict__)
        for platform in hass.data.get(DATA_ENTITY_PLATFORM, {}).get(WILDIX, [])
        for entity in platform.entities.values()
    )
    return {
        "bytes": sum(size * count for size, count in sizes.items()),
        "by_size": {str(size): count for size, count in sorted(sizes.items())},
    }


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _heap() -> dict[str, int]:
    """Return where the process's memory is: Python's small-object arenas and glibc's heap.

    pymalloc serves objects up to 512 bytes from 1 MiB arenas it maps itself and
    unmaps only when empty; larger objects (and C libraries) use glibc's malloc.
    """
    heap: dict[str, int] = {}
    with tempfile.TemporaryFile() as out:
        # sys._debugmallocstats writes to the C stderr: catch it for a moment.
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if found := re.search(r"(\d+) arenas \* (\d+) bytes/arena", text):
        heap["pymalloc_arenas"] = int(found.group(1)) * int(found.group(2))
    for key, label in (
        ("pymalloc_in_blocks", "bytes in allocated blocks"),
        ("pymalloc_free_in_arenas", "bytes in available blocks"),
    ):
        if found := re.search(rf"# {label}\s*=\s*([\d,]+)", text):
            heap[key] = int(found.group(1).replace(",", ""))
    with contextlib.suppress(OSError, AttributeError):
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
        mallinfo2.restype = _MallInfo2
        info = mallinfo2()
        heap |= {
            "malloc_in_use": info.uordblks + info.hblkhd,
            "malloc_free": info.fordblks,
        }
    return heap


def _trimmed_rss() -> int | None:
    """Return the RSS after glibc's malloc has given its free memory back (None elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        return _rss()
    return None


def _rss() -> int:
    pages = Path("/proc/self/statm").read_text().split()[1]
    return int(pages) * os.sysconf("SC_PAGE_SIZE")


class StatsView(HomeAssistantView):
    """GET: what the harness measures; POST: switch accounting or profiling."""

    url = "/api/wildix_bench"
    name = "api:wildix_bench"
    requires_auth = False

    def __init__(
        self,
        accounting: Accounting,
        gc_clock: GcClock,
        hub_clock: HubClock,
        probe: LoopProbe,
        minimal_clock: WorkClock,
    ) -> None:
        """Initialise."""
        self.accounting = accounting
        self.minimal_clock = minimal_clock
        self.probe = probe
        self.gc_clock = gc_clock
        self.hub_clock = hub_clock
        self.profile: cProfile.Profile | None = None

    async def get(self, request: Request) -> Response:
        """Return the measurements."""
        hass: HomeAssistant = request.app["hass"]
        entries = hass.config_entries.async_entries(WILDIX)
        data: dict[str, Any] = {
            "cpu": time.process_time(),
            # Views run in the event loop's thread.
            "loop_cpu": time.thread_time(),
            "gc_cpu": self.gc_clock.seconds,
            "minimal_work": [self.minimal_clock.seconds, self.minimal_clock.calls],
            "hub_cpu": dict(self.hub_clock.seconds),
            "hub_writes": self.hub_clock.writes,
            "hub_calls": dict(self.hub_clock.calls),
            "hub_exclusive": dict(self.hub_clock.exclusive),
            "probe": [self.hub_clock.probe_outer, self.hub_clock.probe_inner],
            "saves": self.hub_clock.saves,
            "save_ms": list(self.hub_clock.save_times),
            "save_gc_ms": list(self.hub_clock.save_gc_times),
            "save_total_ms": list(self.hub_clock.save_total_times),
            "gc_collections": self.gc_clock.collections,
            "rss": _rss(),
            "ready": False,
            "accounting": self.accounting.as_dict(),
        }
        if "memory" in request.query:
            data["entity_dicts"] = _entity_dicts(hass)
            # Python's own count of the memory blocks it has handed out and not freed.
            data["allocated_blocks"] = sys.getallocatedblocks()
            data["heap"] = _heap()
            data["rss_trimmed"] = _trimmed_rss() if "trim" in request.query else None
        # LOADED, not merely runtime_data set: the PBX's entities exist by then.
        if (
            entries
            and entries[0].state is ConfigEntryState.LOADED
            and (hub := getattr(entries[0], "runtime_data", None)) is not None
        ):
            entry = entries[0]
            registry = er.async_get(hass)
            model = hub.model
            data |= {
                "ready": True,
                "webhook_id": entry.data["webhook_id"],
                "counters": dict(hub.deliveries.counters),
                # Enabled ones, which have a state (the Last event sensor is not).
                "entities": sum(
                    1
                    for found in er.async_entries_for_config_entry(
                        registry, entry.entry_id
                    )
                    if found.disabled_by is None
                ),
                "states": sum(
                    1
                    for state in hass.states.async_all()
                    if (found := registry.async_get(state.entity_id)) is not None
                    and found.config_entry_id == entry.entry_id
                ),
                "devices": len(
                    dr.async_entries_for_config_entry(
                        dr.async_get(hass), entry.entry_id
                    )
                ),
                "model": {
                    "users": len(model.users),
                    "active_calls": len(model.calls),
                    "ended_calls": len(model.ended_calls),
                    "duplicate_cache": len(hub.seen),
                    "max_user_legs": max(
                        (len(user.legs) for user in model.users.values()), default=0
                    ),
                    "max_user_counted": max(
                        (len(user.counted) for user in model.users.values()), default=0
                    ),
                },
                "setup_seconds": async_get_setup_timings(hass).get(WILDIX),
            }
        return self.json(data)

    def _profile(self) -> cProfile.Profile | None:
        return self.profile or _start_profile()

    async def post(self, request: Request) -> Response:
        """Switch accounting or the profiler on or off."""
        command: dict[str, Any] = await request.json()
        match command.get("action"):
            case "account":
                self.accounting.start()
            case "unaccount":
                self.accounting.stop()
            case "profile":
                self.profile = cProfile.Profile()
                self.profile.enable()
            case "unprofile" if (profile := self._profile()) is not None:
                profile.disable()
                profile.dump_stats(command["path"])
                self.profile = None
                main = sys.modules.get("__main__")
                return self.json(
                    {"ok": True, "collections": getattr(main, "COLLECTIONS", None)}
                )
            case "trace":
                tracemalloc.start(command.get("frames", 1))
            case "snapshot" if tracemalloc.is_tracing():
                gc.collect()
                tracemalloc.take_snapshot().dump(command["path"])
                types = Counter(type(item).__qualname__ for item in gc.get_objects())
                return self.json({"ok": True, "types": dict(types)})
            case "untrace":
                tracemalloc.stop()
            case "lateness":
                return self.json({"ok": True, "lateness": self.probe.reset()})
            case "heap":
                return self.json({"ok": True, "heap": _collection(request.app["hass"])})
            case "parts":
                self.hub_clock.parts = bool(command["on"])
            case "replay_minimal":
                seconds = self.minimal_clock.replay(
                    request.app["hass"], command["deliveries"]
                )
                return self.json({"ok": True, "seconds": seconds})
            case "replay":
                hass: HomeAssistant = request.app["hass"]
                hub = hass.config_entries.async_entries(WILDIX)[0].runtime_data
                return self.json(
                    {"ok": True} | self.hub_clock.replay(hub, command["deliveries"])
                )
        return self.json({"ok": True})


# What the traversal of wildix's state does not follow: code, and what code holds.
_NOT_STATE = (
    type,
    types.FunctionType,
    types.MethodType,
    types.ModuleType,
    functools.partial,
)


def _start_profile() -> cProfile.Profile | None:
    """Return the profile the launcher started with Home Assistant (tests/bench/hass.py)."""
    main = sys.modules.get("__main__")
    profile: cProfile.Profile | None = getattr(main, "PROFILE", None)
    if profile is not None:
        setattr(main, "PROFILE", None)
    return profile


def _collection(hass: HomeAssistant) -> dict[str, Any]:
    """Time a full collection of the garbage collector, and say whose objects it went through.

    The collector goes through every object that can hold others (tracked); a full
    collection takes a time about proportional to their number. Wildix's share:
    the tracked objects reachable from its hub's state (the model, the call logs and
    callbacks, the inbox, the deliveries seen) without passing through Home
    Assistant's (the entry, `hass`); its entities and what Home Assistant keeps for
    them (registry entries, states) are counted as Home Assistant's entity work.
    """
    gc.collect()
    began = time.thread_time()
    gc.collect()
    took = time.thread_time() - began
    tracked = len(gc.get_objects())
    hub = hass.config_entries.async_entries(WILDIX)[0].runtime_data
    roots = [hub.model, hub.call_history.logs, hub.call_history.callbacks]
    roots += [hub.inbox.inbox, hub.seen]
    stop = {id(hass), id(hub), id(hub.entry), id(hass.loop)}
    seen: set[int] = set()
    stack: list[Any] = list(roots)
    while stack:
        item = stack.pop()
        if id(item) in seen or id(item) in stop or not gc.is_tracked(item):
            continue
        if isinstance(item, _NOT_STATE):
            continue
        seen.add(id(item))
        stack.extend(gc.get_referents(item))
    entities = sum(
        1
        for platform in hass.data[DATA_ENTITY_PLATFORM].get(WILDIX, [])
        for _ in platform.entities
    )
    return {
        "full_collection_ms": took * 1000,
        "tracked": tracked,
        "wildix_model": len(seen),
        "wildix_entities": entities,
    }


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the baselines, the calibration receivers and the statistics view; add a wildix entry."""
    secret: str = config[DOMAIN]["secret"]
    # Home Assistant takes HTTP settings from YAML as a trial and, unless a user
    # confirms them, restarts after five minutes to revert them: mid-run.
    http_store = await async_get_and_load_store(hass)
    if http_store.pending is not None:
        await http_store.async_promote_pending()
    minimal_clock = WorkClock()
    receivers: dict[str, tuple[str, Handler]] = {
        NOOP_WEBHOOK: ("No-op", _noop),
        MINIMAL_WEBHOOK: (
            "Minimal receiver",
            _receiver(
                secret.encode(),
                ("sensor.bench_minimal",),
                fire=False,
                clock=minimal_clock,
            ),
        ),
        WRITES3_WEBHOOK: (
            "Three state writes",
            _receiver(
                secret.encode(),
                tuple(f"sensor.bench_write_{number}" for number in (1, 2, 3)),
                fire=False,
            ),
        ),
        EVENT_WEBHOOK: (
            "One state write and one bus event",
            _receiver(secret.encode(), ("sensor.bench_event",), fire=True),
        ),
        ENTITY_WEBHOOK: (
            "One state written by an entity",
            _entity_receiver(secret.encode()),
        ),
    }
    hass.async_create_task(
        discovery.async_load_platform(hass, Platform.SENSOR, DOMAIN, {}, config)
    )
    for webhook_id, (name, handler) in receivers.items():
        webhook.async_register(
            hass,
            DOMAIN,
            name,
            webhook_id,
            handler,
            local_only=False,
            allowed_methods=("POST",),
        )
    gc_clock = GcClock()
    gc.callbacks.append(gc_clock)
    hub_clock = HubClock(gc_clock)
    hub_clock.install()
    probe = LoopProbe(hub_clock, gc_clock)
    hass.async_create_background_task(probe.run(), "wildix_bench loop probe")
    hass.http.register_view(
        StatsView(Accounting(hass), gc_clock, hub_clock, probe, minimal_clock)
    )

    async def add_entry(_event: Event) -> None:
        if hass.config_entries.async_entries(WILDIX):
            return
        flow = await hass.config_entries.flow.async_init(
            WILDIX, context={"source": "user"}
        )
        await hass.config_entries.flow.async_configure(
            flow["flow_id"], {"transport": "webhook", "secret": secret}
        )
        # The large scenario knows as many users as the entry may have
        # (`MAX_USERS`), more than the default limit.
        model = importlib.import_module(f"custom_components.{WILDIX}.model")
        entry = hass.config_entries.async_entries(WILDIX)[0]
        hass.config_entries.async_update_entry(
            entry,
            options={
                "max_users": model.MAX_USERS,
                "max_event_age": MAX_EVENT_AGE_MINUTES,
            },
        )

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STARTED, add_entry)
    return True
