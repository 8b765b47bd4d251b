"""Decoding a delivery costs the hub little: its work counted in calls, never timed.

Issue 25 cut the hub's own work per delivery: decoding a delivery took 36 Python
function calls on the bench's mix of traffic (helpers for every field, a regular
expression for every extension, frozen dataclasses setting each field through
`object.__setattr__`, objects built with keywords) and the pass-through event copied
every delivery's data. Each bound below sits a little above what decoding does now and
below what it did before (in the comments), so work that comes back fails here.

Calls are counted with `sys.monitoring`: Python functions started, and calls made from
Python code (of Python functions, classes or C functions) with and without keywords.
"""

from collections.abc import Callable
from dataclasses import dataclass
import dis
import sys
from types import CodeType
from typing import Any

import pytest

from custom_components.wildix.protocol import (
    decode_event,
    parse_event,
    verify_signature,
    without_file_urls,
)

from .common import FIXTURES, load_event
from .workload import Workload

_CALL_KW = dis.opmap["CALL_KW"]
_EVENTS = sys.monitoring.events


@dataclass(slots=True)
class Work:
    """What a piece of code did, in calls."""

    # Python functions started (generators resumed are not counted again).
    python_calls: int = 0
    # Calls made from Python code: of Python functions, classes and C functions.
    calls: int = 0
    # Of which classes called with keyword arguments (a dict built per call).
    objects_built_with_keywords: int = 0


def count_work(action: Callable[[], object]) -> Work:
    """Run an action and count the calls it makes."""
    monitoring = sys.monitoring
    tool = next(
        tool
        for tool in (3, 4, monitoring.OPTIMIZER_ID)
        if monitoring.get_tool(tool) is None
    )
    work = Work()

    def started(_code: CodeType, _offset: int) -> None:
        work.python_calls += 1

    def called(code: CodeType, offset: int, function: object, _arg0: object) -> None:
        work.calls += 1
        if isinstance(function, type) and code.co_code[offset] == _CALL_KW:
            work.objects_built_with_keywords += 1

    monitoring.use_tool_id(tool, "wildix protocol work")
    try:
        monitoring.register_callback(tool, _EVENTS.PY_START, started)
        monitoring.register_callback(tool, _EVENTS.CALL, called)
        monitoring.set_events(tool, _EVENTS.PY_START | _EVENTS.CALL)
        action()
    finally:
        monitoring.set_events(tool, _EVENTS.NO_EVENTS)
        monitoring.register_callback(tool, _EVENTS.PY_START, None)
        monitoring.register_callback(tool, _EVENTS.CALL, None)
        monitoring.free_tool_id(tool)
    return work


# The counting's own share: the action, and the call of it.
_BASELINE = count_work(lambda: None)


def work_of(action: Callable[[], object]) -> Work:
    """Return the calls an action makes, without the counting's own."""
    work = count_work(action)
    return Work(
        work.python_calls - _BASELINE.python_calls,
        work.calls - _BASELINE.calls,
        work.objects_built_with_keywords,
    )


# Per fixture: the Python functions and all calls parsing it may take (before: what it took).
PARSE_BOUNDS: dict[str, tuple[int, int]] = {
    "call_completed_inbound_answered_recorded": (57, 238),  # before: 66, 304
    "call_completed_inbound_missed": (44, 178),  # before: 53, 248
    "call_completed_outbound": (44, 178),  # before: 53, 248
    "call_end_inbound_answered": (33, 129),  # before: 41, 190
    "call_end_inbound_missed": (33, 129),  # before: 41, 190
    "call_end_internal_rejected": (38, 156),  # before: 48, 218
    "call_end_outbound": (33, 129),  # before: 41, 190
    "call_live_completed_inbound": (48, 192),  # before: 57, 259
    "call_live_completed_missed": (48, 193),  # before: 57, 260
    "call_live_interrupted": (47, 188),  # before: 58, 262
    "call_live_progress_hold": (47, 188),  # before: 58, 262
    "call_live_progress_internal": (52, 216),  # before: 65, 291
    "call_live_progress_ringing_inbound": (47, 189),  # before: 58, 263
    "call_live_progress_start_inbound": (39, 148),  # before: 47, 211
    "call_live_progress_start_outbound": (44, 175),  # before: 54, 239
    "call_live_progress_talking": (47, 188),  # before: 58, 262
    "call_live_progress_talking_outbound": (47, 188),  # before: 58, 262
    "call_live_transcription": (7, 31),  # before: 8, 40
    "call_start_inbound": (23, 83),  # before: 31, 141
    "call_start_inbound_missed": (23, 83),  # before: 31, 141
    "call_start_internal": (30, 118),  # before: 40, 174
    "call_start_outbound": (30, 118),  # before: 40, 173
    "call_transcription_completed": (7, 31),  # before: 8, 40
    "call_update_inbound_hold": (32, 125),  # before: 42, 193
    "call_update_inbound_missed_ringing": (32, 125),  # before: 42, 193
    "call_update_inbound_ringing": (32, 125),  # before: 42, 193
    "call_update_inbound_talking": (32, 125),  # before: 42, 193
    "call_update_internal_ringing": (37, 152),  # before: 49, 221
    "call_update_outbound_talking": (32, 125),  # before: 42, 193
    "chat_channel_created": (7, 30),  # before: 8, 39
    "conference_live_join": (7, 30),  # before: 8, 39
    "conference_live_progress": (7, 30),  # before: 8, 39
    "presence_conference_joined": (7, 31),  # before: 8, 40
    "presence_conference_left": (7, 31),  # before: 8, 40
    "presence_telephony_registered": (13, 50),  # before: 15, 63
    "presence_telephony_ringing": (13, 50),  # before: 15, 63
    "presence_telephony_rt": (13, 50),  # before: 15, 63
    "presence_telephony_talking": (13, 50),  # before: 15, 63
    "presence_user_available": (20, 74),  # before: 26, 99
    "presence_user_available_with_location": (21, 80),  # before: 26, 101
    "presence_user_away": (20, 74),  # before: 26, 99
    "presence_user_dnd": (20, 75),  # before: 26, 100
}
EVENT_FIXTURES = sorted(
    path.stem
    for path in FIXTURES.glob("*.json")
    if path.stem not in ("signature_vectors", "sqs_message_presence_telephony_ringing")
)
WITH_FILES = {"call_completed_inbound_answered_recorded"}


def test_every_fixture_has_a_bound() -> None:
    """A new fixture gets a bound too."""
    assert sorted(PARSE_BOUNDS) == EVENT_FIXTURES


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_parsing_a_fixture_takes_few_calls(name: str) -> None:
    """Parsing a fixture takes a bounded number of calls.

    The common shapes skip the helpers, a party is read in one pass, an extension of
    letters and digits needs no regular expression, and no field is set through
    `object.__setattr__` (frozen dataclasses).
    """
    payload = load_event(name)
    python_calls, calls = PARSE_BOUNDS[name]

    work = work_of(lambda: parse_event(payload))

    assert work.python_calls <= python_calls
    assert work.calls <= calls


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_parsing_builds_no_object_with_keywords(name: str) -> None:
    """A class called with keywords packs them into a dict for its `__init__`.

    CPython specialises only positional calls of a class; decoding builds every
    event, call, flow and party positionally (three times cheaper).
    """
    payload = load_event(name)

    work = work_of(lambda: parse_event(payload))

    assert work.objects_built_with_keywords == 0


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_pass_through_copies_only_data_with_files(name: str) -> None:
    """The pass-through event strips file links; data without them is not copied."""
    event = parse_event(load_event(name))
    before = load_event(name)["data"]

    passed = without_file_urls(event.data)

    assert (passed is event.data) is (name not in WITH_FILES)
    assert event.data == before  # stripping never changes the decoded data


def test_the_bench_mix_takes_few_calls_per_delivery() -> None:
    """The hub's work per delivery of the bench's traffic, before the model, is bounded.

    It checks the signature, decodes, and passes the data through without file links.
    """
    secret = "Bench0Secret1For2Wildix3Events"
    users = [str(1000 + number) for number in range(100)]
    deliveries = Workload(secret, users, seed=1, start_ms=1_760_000_000_000).mix(600)
    decoded: list[Any] = []

    def take_all() -> None:
        for delivery in deliveries:
            assert verify_signature(secret, delivery.body, delivery.signature)
            event = decode_event(delivery.body)
            decoded.append(without_file_urls(event.data))

    work = work_of(take_all)

    count = len(deliveries)
    assert len(decoded) == count
    # Before: 41 Python functions and 182 calls per delivery (now 33 and 128).
    assert work.python_calls <= 35 * count
    assert work.calls <= 135 * count
    assert work.objects_built_with_keywords == 0
