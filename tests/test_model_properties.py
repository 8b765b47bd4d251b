"""Property tests of the PBX model: a call's events in any order, any number of times."""

from collections import Counter
import json
from typing import Any

from hypothesis import given, strategies as st

from custom_components.wildix.model import Aspect, PbxModel
from custom_components.wildix.protocol import parse_event
from custom_components.wildix.views import (
    FileLookup,
    call_attributes,
    last_call_attributes,
    presence_attributes,
)

from .workload import CallKind, Family, Workload

RECEIVED = 1741079700.0
# The model alone has no inbox: no call file has a media id.
NO_FILES: FileLookup = lambda *_: None  # noqa: E731
PARTIES = {
    CallKind.INBOUND_ANSWERED: ("201",),
    CallKind.INBOUND_MISSED: ("201",),
    CallKind.OUTBOUND: ("202",),
    CallKind.INTERNAL: ("202", "203"),
}


def call_events(
    kind: CallKind, family: Family, analytics: bool
) -> list[dict[str, Any]]:
    """Return the call events (no presence) of one generated call."""
    workload = Workload("secret", ["201", "202", "203"], start_ms=1741079700000)
    events = workload.call(kind, family, PARTIES[kind], analytics=analytics)
    return [event for event in events if event["type"].startswith("call:")]


def final_state(model: PbxModel) -> dict[str, Any]:
    """Return what each user shows once the events are in."""
    shown: dict[str, Any] = {}
    for extension, user in model.users.items():
        phone = user.phone()
        last = user.last_call
        shown[extension] = {
            "phone": phone.state.value,
            "ringing": phone.ringing,
            "call": None if phone.leg is None else phone.leg.record.call_id,
            "missed_calls": user.missed_calls,
            "last_call": None if last is None else last.started_ms,
            "attributes": last_call_attributes(user, show_remote=True, find=NO_FILES),
            "name": user.name,
        }
    return shown


def apply_all(
    events: list[dict[str, Any]],
) -> tuple[PbxModel, Counter[tuple[str, str]]]:
    """Apply events to a new model; count the moments per user and type."""
    model = PbxModel()
    moments: Counter[tuple[str, str]] = Counter()
    for payload in events:
        changes = model.apply(parse_event(json.loads(json.dumps(payload))), RECEIVED)
        moments.update(
            (moment.extension, moment.type.value) for moment in changes.moments
        )
    return model, moments


@st.composite
def shuffled_call(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Draw a call, and its events permuted with some of them repeated."""
    kind = draw(st.sampled_from(CallKind))
    family = draw(st.sampled_from(Family))
    analytics = draw(st.booleans())
    events = call_events(kind, family, analytics)
    order = draw(st.permutations(events))
    repeats = draw(
        st.lists(
            st.tuples(st.integers(0, len(events) - 1), st.integers(0, len(events))),
            max_size=4,
        )
    )
    delivered = list(order)
    for source, position in repeats:
        delivered.insert(min(position, len(delivered)), events[source])
    return events, delivered


@given(shuffled_call())
def test_any_order_and_repetition_ends_in_the_same_state(
    call: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    """However Wildix orders or repeats a call's events, users end up the same."""
    in_order, delivered = call
    expected, _ = apply_all(in_order)
    model, moments = apply_all(delivered)
    assert final_state(model) == final_state(expected)
    assert all(state["phone"] == "idle" for state in final_state(model).values())
    assert max(moments.values(), default=0) <= 1, moments


def shown_aspects(model: PbxModel) -> dict[tuple[str, Aspect], Any]:
    """Return what each user shows, by the aspect of the user it belongs to."""
    shown: dict[tuple[str, Aspect], Any] = {}
    for extension, user in model.users.items():
        phone = user.phone()
        shown[extension, Aspect.IDENTITY] = (
            user.name,
            user.email,
            user.user_id,
            user.group,
            user.department,
        )
        shown[extension, Aspect.PRESENCE] = presence_attributes(user)
        shown[extension, Aspect.PHONE] = (
            phone.state,
            phone.ringing,
            call_attributes(user, show_remote=True, phone=phone),
        )
        shown[extension, Aspect.MISSED_CALLS] = user.missed_calls
        shown[extension, Aspect.LAST_CALL] = (
            None if user.last_call is None else user.last_call.started_ms,
            last_call_attributes(user, show_remote=True, find=NO_FILES),
        )
    return shown


@given(shuffled_call())
def test_changes_name_every_aspect_users_show_differently(
    call: tuple[list[dict[str, Any]], list[dict[str, Any]]],
) -> None:
    """Every event reports each aspect of a user whose rendering changed."""
    _, delivered = call
    model = PbxModel()
    before = shown_aspects(model)
    for payload in delivered:
        changes = model.apply(parse_event(json.loads(json.dumps(payload))), RECEIVED)
        after = shown_aspects(model)
        changed = {key for key in after if before.get(key) != after[key]}
        reported = {
            (extension, aspect)
            for extension, aspects in changes.users.items()
            for aspect in aspects
        }
        # A new user's entities are created from the model as it is.
        new = set(changes.new_users)
        assert {key for key in changed if key[0] not in new} <= reported, payload
        assert reported - changed <= {(ext, Aspect.IDENTITY) for ext in new}, payload
        before = after
