"""The PBX model on its own: users, calls, ordering, both families, expiry."""

from copy import deepcopy
import itertools
from typing import Any

import pytest

from custom_components.wildix.model import (
    MAX_ACTIVE_CALLS,
    MAX_ENDED_CALLS,
    Aspect,
    Changes,
    MomentType,
    PbxAspect,
    PbxModel,
    PhoneState,
    Ranked,
)
from custom_components.wildix.persistence import model_as_dict, restore_model
from custom_components.wildix.protocol import Direction, PresenceStatus, parse_event

from .calls import (
    INBOUND_ANSWERED,
    INBOUND_ANSWERED_LIVE,
    INBOUND_MISSED,
    INTERNAL,
    OUTBOUND,
)
from .common import load_event


def apply(model: PbxModel, event: str | dict[str, Any], **changes: Any) -> Changes:
    """Apply a fixture event (or payload) as if received at its own time."""
    payload = load_event(event, **changes) if isinstance(event, str) else event
    return model.apply(parse_event(payload), payload["time"] / 1000)


def moments(changes: Changes) -> list[tuple[str, MomentType]]:
    """Return the moments of a change as (extension, type) pairs."""
    return [(moment.extension, moment.type) for moment in changes.moments]


def phone(model: PbxModel, extension: str) -> tuple[PhoneState, bool]:
    """Return a user's phone state and whether a call rings for them."""
    phone = model.users[extension].phone()
    return phone.state, phone.ringing


def final_view(model: PbxModel) -> dict[str, Any]:
    """Return everything a user sees of the model after calls."""
    view: dict[str, Any] = {"active_calls": len(model.calls)}
    for extension, user in sorted(model.users.items()):
        record = user.last_call
        view[extension] = (
            phone(model, extension),
            user.missed_calls,
            None
            if record is None
            else (
                record.call_id,
                record.direction,
                record.remote_number,
                record.started_ms,
                record.duration,
                record.missed,
                record.end_cause,
            ),
        )
    return view


def test_inbound_call_answered_step_by_step() -> None:
    """Ringing, talking, hold, hang up: each step shows, each moment fires once."""
    model = PbxModel()
    changes = apply(model, "call_start_inbound")
    assert model.users == {}
    assert len(model.calls) == 1
    assert moments(changes) == []

    changes = apply(model, "call_update_inbound_ringing")
    assert changes.new_users == ["201"]
    alice = model.users["201"]
    assert alice.display_name == "Alice Example"
    assert (alice.email, alice.user_id, alice.group, alice.department) == (
        "alice@example.com",
        "4401201",
        "Office",
        "Support",
    )
    assert phone(model, "201") == (PhoneState.RINGING, True)
    assert moments(changes) == [("201", MomentType.INCOMING_CALL)]
    incoming = changes.moments[0]
    assert incoming.direction is Direction.INBOUND
    assert incoming.remote_number == "+4930555010203"
    assert incoming.remote_name is None

    changes = apply(model, "call_update_inbound_talking")
    assert phone(model, "201") == (PhoneState.TALKING, False)
    assert moments(changes) == [("201", MomentType.CALL_ANSWERED)]

    changes = apply(model, "call_update_inbound_hold")
    assert phone(model, "201") == (PhoneState.ON_HOLD, False)
    assert moments(changes) == []

    changes = apply(model, "call_end_inbound_answered")
    assert phone(model, "201") == (PhoneState.IDLE, False)
    assert model.calls == {}
    assert moments(changes) == [("201", MomentType.CALL_ENDED)]
    ended = changes.moments[0]
    assert ended.missed is False
    assert ended.duration == pytest.approx((1741079762118 - 1741079700412) / 1000)
    record = alice.last_call
    assert record is not None
    assert record.started_ms == 1741079700412
    assert record.end_cause == "Normal Clearing"
    assert record.missed is False
    assert alice.missed_calls == 0


def test_missed_call_counts_once_even_if_the_end_arrives_three_times() -> None:
    """An unanswered inbound call is missed once, then ends once."""
    model = PbxModel()
    fired = []
    for name in (*INBOUND_MISSED, "call_end_inbound_missed", "call_end_inbound_missed"):
        fired += moments(apply(model, name))
    assert fired == [
        ("201", MomentType.INCOMING_CALL),
        ("201", MomentType.MISSED_CALL),
        ("201", MomentType.CALL_ENDED),
    ]
    assert model.users["201"].missed_calls == 1
    assert model.users["201"].last_call is not None
    assert model.users["201"].last_call.missed is True


def test_outbound_call() -> None:
    """The caller dials, talks once answered, and has an outbound last call."""
    model = PbxModel()
    changes = apply(model, "call_start_outbound")
    assert phone(model, "202") == (PhoneState.DIALING, False)
    assert moments(changes) == [("202", MomentType.OUTGOING_CALL)]
    assert changes.moments[0].remote_number == "+4989555123456"
    assert moments(apply(model, "call_update_outbound_talking")) == [
        ("202", MomentType.CALL_ANSWERED)
    ]
    assert phone(model, "202") == (PhoneState.TALKING, False)
    assert moments(apply(model, "call_end_outbound")) == [
        ("202", MomentType.CALL_ENDED)
    ]
    record = model.users["202"].last_call
    assert record is not None
    assert (record.direction, record.remote_number, record.missed) == (
        Direction.OUTBOUND,
        "+4989555123456",
        False,
    )


def test_internal_call_changes_both_users() -> None:
    """Both local parties follow an internal call; a rejected one is not 'missed'."""
    model = PbxModel()
    assert moments(apply(model, "call_start_internal")) == [
        ("203", MomentType.OUTGOING_CALL)
    ]
    changes = apply(model, "call_update_internal_ringing")
    assert moments(changes) == [("202", MomentType.INCOMING_CALL)]
    assert phone(model, "203") == (PhoneState.DIALING, False)
    assert phone(model, "202") == (PhoneState.RINGING, True)
    bob_leg = model.users["202"].phone().leg
    assert bob_leg is not None
    assert bob_leg.record.direction is Direction.INTERNAL
    assert bob_leg.record.remote_number == "203"
    assert bob_leg.record.remote_name == "Carol Example"
    changes = apply(model, "call_end_internal_rejected")
    assert sorted(moments(changes)) == [
        ("202", MomentType.CALL_ENDED),
        ("203", MomentType.CALL_ENDED),
    ]
    assert model.users["202"].missed_calls == 0
    assert model.users["203"].last_call is not None
    assert model.users["203"].last_call.direction is Direction.INTERNAL


def test_live_family_inbound_answered() -> None:
    """The live family drives the same states as the legacy one."""
    model = PbxModel()
    states = []
    for name in INBOUND_ANSWERED_LIVE:
        apply(model, name)
        states.append(phone(model, "201") if "201" in model.users else None)
    assert states == [
        None,
        (PhoneState.RINGING, True),
        (PhoneState.TALKING, False),
        (PhoneState.ON_HOLD, False),
        (PhoneState.IDLE, False),
    ]
    record = model.users["201"].last_call
    assert record is not None
    assert record.started_ms == 1741079700402
    assert record.duration == pytest.approx(61.738)


def test_both_families_for_one_call_fire_each_moment_once() -> None:
    """A call reported by the legacy and the live family is one call."""
    model = PbxModel()
    events = sorted(
        (load_event(name) for name in (*INBOUND_ANSWERED, *INBOUND_ANSWERED_LIVE)),
        key=lambda payload: payload["time"],
    )
    fired = [m for payload in events for m in moments(apply(model, payload))]
    assert fired == [
        ("201", MomentType.INCOMING_CALL),
        ("201", MomentType.CALL_ANSWERED),
        ("201", MomentType.CALL_ENDED),
    ]
    assert model.calls == {}
    assert model.users["201"].last_call is not None
    assert model.users["201"].last_call.duration == pytest.approx(61.738)


@pytest.mark.parametrize(
    "sequence",
    [INBOUND_ANSWERED, INBOUND_MISSED, OUTBOUND, INTERNAL, INBOUND_ANSWERED_LIVE],
    ids=["inbound", "missed", "outbound", "internal", "live"],
)
def test_any_order_ends_in_the_same_state(sequence: tuple[str, ...]) -> None:
    """Events of a call delivered in any order, some twice, give one final state."""
    expected = PbxModel()
    for name in sequence:
        apply(expected, name)
    for order in itertools.permutations(sequence):
        model = PbxModel()
        fired: list[tuple[str, MomentType]] = []
        for name in (*order, order[0]):
            fired += moments(apply(model, name))
        assert final_view(model) == final_view(expected), order
        assert len(fired) == len(set(fired)), order


def test_late_update_does_not_move_a_call_backwards() -> None:
    """A ringing update that arrives after the answer is ignored."""
    model = PbxModel()
    apply(model, "call_update_inbound_talking")
    changes = apply(model, "call_update_inbound_ringing")
    assert phone(model, "201") == (PhoneState.TALKING, False)
    assert moments(changes) == []


def test_end_first_still_ends_and_counts() -> None:
    """An end that overtakes the rest ends the call; late events change nothing."""
    model = PbxModel()
    assert moments(apply(model, "call_end_inbound_missed")) == [
        ("201", MomentType.MISSED_CALL),
        ("201", MomentType.CALL_ENDED),
    ]
    for name in INBOUND_MISSED[:2]:
        assert moments(apply(model, name)) == []
    assert phone(model, "201") == (PhoneState.IDLE, False)
    assert model.users["201"].missed_calls == 1
    assert model.users["201"].last_call is not None
    assert model.users["201"].last_call.started_ms == 1741082520220


def test_call_completed_completes_history_without_reopening() -> None:
    """The late analytics event fills in history and never reopens a call."""
    model = PbxModel()
    for name in INBOUND_ANSWERED:
        apply(model, name)
    changes = apply(model, "call_completed_inbound_answered_recorded")
    assert moments(changes) == []
    assert model.calls == {}
    record = model.users["201"].last_call
    assert record is not None
    assert record.started_ms == 1741079700402
    assert record.duration == pytest.approx(61.738)
    assert record.recordings == (
        "2025.03.04-09.15.06-201-4930555010203-1741079700.3101-0.wav",
    )


def test_call_completed_alone_records_a_missed_call() -> None:
    """With only analytics events, history and the missed counter still work."""
    model = PbxModel()
    changes = apply(model, "call_completed_inbound_missed")
    assert moments(changes) == []
    assert model.calls == {}
    alice = model.users["201"]
    assert alice.missed_calls == 1
    assert alice.last_call is not None
    assert alice.last_call.missed is True
    assert alice.last_call.duration == pytest.approx(25.445)
    apply(model, "call_completed_inbound_missed")
    apply(model, "call_live_completed_missed")
    assert alice.missed_calls == 1


def test_call_completed_closes_a_call_whose_end_was_lost() -> None:
    """Analytics saying a call is stored ends a call still shown as active."""
    model = PbxModel()
    apply(model, "call_start_inbound_missed")
    apply(model, "call_update_inbound_missed_ringing")
    changes = apply(model, "call_completed_inbound_missed")
    assert moments(changes) == [
        ("201", MomentType.MISSED_CALL),
        ("201", MomentType.CALL_ENDED),
    ]
    assert model.calls == {}
    assert model.users["201"].missed_calls == 1


def test_lost_end_expires_after_the_stale_call_timeout() -> None:
    """A call with no news for longer than the timeout is closed as ended."""
    model = PbxModel(stale_call_timeout=3600)
    apply(model, "call_update_inbound_talking")
    received = load_event("call_update_inbound_talking")["time"] / 1000
    assert moments(model.expire(received + 3599)) == []
    changes = model.expire(received + 3601)
    assert moments(changes) == [("201", MomentType.CALL_ENDED)]
    assert changes.moments[0].missed is False
    assert model.calls == {}
    assert phone(model, "201") == (PhoneState.IDLE, False)
    assert model.users["201"].last_call is not None
    assert model.users["201"].last_call.end_cause == "expired"


def test_transfer_with_two_flows() -> None:
    """When the transfer target answers, the transferring user leaves the call."""
    model = PbxModel()
    talking = load_event("call_live_progress_talking")
    apply(model, talking)
    transfer = deepcopy(talking)
    transfer["time"] += 10000
    first = transfer["data"]["flows"][0]
    second = deepcopy(first)
    second["flowIndex"] = 1
    second["callee"] |= {
        "phone": "202",
        "name": "Bob Example",
        "userExtension": "202",
        "email": "bob@example.com",
        "userId": "4401202",
    }
    second["status"] = "CONNECTING"
    second["talkTime"] = 0
    transfer["data"]["flows"].append(second)
    changes = apply(model, transfer)
    assert moments(changes) == [("202", MomentType.INCOMING_CALL)]
    assert phone(model, "201") == (PhoneState.TALKING, False)
    assert phone(model, "202") == (PhoneState.RINGING, True)

    answered = deepcopy(transfer)
    answered["time"] += 5000
    answered["data"]["flows"][1]["status"] = "TALKING"
    changes = apply(model, answered)
    assert sorted(moments(changes)) == [
        ("201", MomentType.CALL_ENDED),
        ("202", MomentType.CALL_ANSWERED),
    ]
    assert phone(model, "201") == (PhoneState.IDLE, False)
    assert phone(model, "202") == (PhoneState.TALKING, False)
    assert len(model.calls) == 1


def test_legacy_transfer_replaces_the_callee() -> None:
    """In the legacy family a new local callee means the old one left."""
    model = PbxModel()
    apply(model, "call_update_inbound_talking")
    transferred = load_event("call_update_inbound_ringing", time=1741079710000)
    transferred["data"]["callee"] |= {
        "phone": "202",
        "name": "Bob Example",
        "userExtension": "202",
    }
    changes = apply(model, transferred)
    assert sorted(moments(changes)) == [
        ("201", MomentType.CALL_ENDED),
        ("202", MomentType.INCOMING_CALL),
    ]
    assert model.users["201"].missed_calls == 0


def test_newer_information_wins_between_telephony_and_calls() -> None:
    """Phone state follows whichever source spoke last."""
    model = PbxModel()
    start = 1741079701000
    steps = [
        ("presence_telephony_ringing", (PhoneState.RINGING, True)),
        ("call_update_inbound_talking", (PhoneState.TALKING, False)),
        ("presence_telephony_rt", (PhoneState.TALKING, True)),
        ("call_update_inbound_hold", (PhoneState.ON_HOLD, False)),
        ("presence_telephony_registered", (PhoneState.IDLE, False)),
    ]
    for offset, (name, expected) in enumerate(steps):
        apply(model, name, time=start + offset * 1000)
        assert phone(model, "201") == expected, name
    assert model.users["201"].phone().leg is None
    apply(model, "presence_telephony_talking", time=start - 1)
    assert phone(model, "201") == (PhoneState.IDLE, False)


@pytest.mark.parametrize(
    ("call_event", "extension", "state"),
    [
        ("call_start_outbound", "202", PhoneState.DIALING),
        ("call_update_inbound_hold", "201", PhoneState.ON_HOLD),
        ("call_update_inbound_ringing", "201", PhoneState.TALKING),
    ],
)
def test_line_talking_keeps_the_detail_of_a_call_it_agrees_with(
    call_event: str, extension: str, state: PhoneState
) -> None:
    """A newer 'talking' line keeps dialing and on hold, and overrides ringing."""
    model = PbxModel()
    apply_time = load_event(call_event)["time"]
    apply(model, call_event)
    for offset, (status, ringing) in enumerate((("talking", False), ("rt", True)), 1):
        line = load_event("presence_telephony_talking", time=apply_time + offset * 1000)
        line["data"] |= {"extension": extension, "status": status}
        apply(model, line)
        assert phone(model, extension) == (state, ringing)


def test_unknown_telephony_status_leaves_the_phone_to_calls() -> None:
    """An undocumented line status is kept raw but decides nothing."""
    model = PbxModel()
    apply(model, "call_update_inbound_talking")
    apply(model, "presence_telephony_registered", time=1741079709999)
    assert phone(model, "201")[0] is PhoneState.IDLE
    payload = load_event("presence_telephony_registered", time=1741079800000)
    payload["data"]["status"] = "unregistered"
    apply(model, payload)
    assert model.users["201"].telephony == "unregistered"
    assert phone(model, "201")[0] is PhoneState.TALKING


def test_presence_changes_and_ordering() -> None:
    """The newest presence wins; an older one arriving late is ignored."""
    model = PbxModel()
    apply(model, "presence_user_dnd")
    alice = model.users["201"]
    assert alice.presence is not None
    assert alice.presence.state is PresenceStatus.DND
    assert alice.presence.message == "Customer workshop"
    assert alice.display_name == "Extension 201"
    apply(model, "presence_user_available")
    assert alice.presence.state is PresenceStatus.AVAILABLE
    apply(model, "presence_user_dnd")
    assert alice.presence.state is PresenceStatus.AVAILABLE


@pytest.mark.parametrize(
    ("status", "state"),
    [("", PresenceStatus.AVAILABLE), ("BUSY", PresenceStatus.BUSY), ("lunch", None)],
)
def test_presence_status_vocabulary(status: str, state: PresenceStatus | None) -> None:
    """Empty means available, case is ignored, unknown values stay raw."""
    model = PbxModel()
    payload = load_event("presence_user_away")
    payload["data"]["status"] = status
    apply(model, payload)
    presence = model.users["202"].presence
    assert presence is not None
    assert presence.state is state
    assert presence.status == status.lower()


def test_extensions_keep_leading_zeros_and_filter_users() -> None:
    """Extensions are strings; a filter ignores users outside it."""
    model = PbxModel(extensions=["0201"])
    payload = load_event("presence_user_dnd")
    payload["data"]["extension"] = "0201"
    apply(model, payload)
    apply(model, "presence_user_away")
    assert list(model.users) == ["0201"]
    assert model.set_extensions(None) == []
    assert model.set_extensions(["202"]) == ["0201"]


def test_saved_model_restores_users_calls_and_history() -> None:
    """What is saved comes back identical, including calls in progress."""
    model = PbxModel()
    names = (
        *INBOUND_MISSED,
        "presence_user_available_with_location",
        "presence_user_dnd",
        "call_start_outbound",
    )
    for name in names:
        apply(model, name)
    restored = PbxModel()
    now = max(load_event(name)["time"] for name in names) / 1000
    restore_model(restored, model_as_dict(model), now)
    assert model_as_dict(restored) == model_as_dict(model)
    assert final_view(restored) == final_view(model)
    assert moments(apply(restored, "call_start_outbound")) == []
    assert moments(apply(restored, "call_end_outbound")) == [
        ("202", MomentType.CALL_ENDED)
    ]


def test_active_calls_are_capped() -> None:
    """The call table never grows past its cap: the oldest call is ended."""
    model = PbxModel()
    template = load_event("call_update_inbound_talking")
    for index in range(MAX_ACTIVE_CALLS + 1):
        payload = deepcopy(template)
        payload["id"] = f"call-{index}"
        payload["time"] += index
        apply(model, payload)
    assert len(model.calls) == MAX_ACTIVE_CALLS
    assert "call-0" not in model.calls
    assert model.users["201"].last_call is not None
    assert model.users["201"].last_call.end_cause == "evicted"


def test_forgotten_user_returns_with_a_new_event() -> None:
    """A forgotten user is gone until they produce an event."""
    model = PbxModel()
    apply(model, "call_update_inbound_talking")
    model.forget_user("201")
    model.forget_user("201")
    assert "201" not in model.users
    changes = apply(model, "presence_user_dnd")
    assert changes.new_users == ["201"]


def test_filtered_users_get_no_legs_but_calls_still_count() -> None:
    """A call between a tracked and an ignored user only shows for the tracked one."""
    model = PbxModel(extensions=["202"])
    fired = []
    for name in INTERNAL:
        fired += moments(apply(model, name))
    assert list(model.users) == ["202"]
    assert fired == [("202", MomentType.INCOMING_CALL), ("202", MomentType.CALL_ENDED)]
    record = model.users["202"].last_call
    assert record is not None
    assert (record.remote_number, record.remote_name) == ("203", "Carol Example")


def test_ended_calls_are_remembered_within_a_cap() -> None:
    """Late events of recently ended calls are recognised; the memory is bounded."""
    model = PbxModel()
    template = load_event("call_end_inbound_answered")
    for index in range(MAX_ENDED_CALLS + 5):
        payload = deepcopy(template)
        payload["id"] = f"call-{index}"
        apply(model, payload)
    assert len(model.ended_calls) == MAX_ENDED_CALLS
    assert "call-0" not in model.ended_calls
    late = deepcopy(load_event("call_update_inbound_talking"))
    late["id"] = f"call-{MAX_ENDED_CALLS + 4}"
    assert moments(apply(model, late)) == []
    assert model.calls == {}


def test_a_user_can_be_in_several_flows_of_a_call() -> None:
    """The latest flow showing a user decides their state; older flows do not."""
    model = PbxModel()
    payload = load_event("call_live_progress_talking")
    older = deepcopy(payload["data"]["flows"][0])
    older |= {"flowIndex": 0, "status": "CONNECTING", "talkTime": 0}
    payload["data"]["flows"][0]["flowIndex"] = 1
    payload["data"]["flows"].insert(0, older)
    apply(model, payload)
    assert phone(model, "201") == (PhoneState.TALKING, False)
    stale_flow = load_event(
        "call_live_progress_ringing_inbound", time=payload["time"] + 10
    )
    apply(model, stale_flow)
    assert phone(model, "201") == (PhoneState.TALKING, False)


def test_unknown_leg_status_keeps_the_call_going() -> None:
    """A leg status Wildix has not documented neither answers nor ends a call."""
    model = PbxModel()
    ringing = load_event("call_update_inbound_ringing")
    ringing["data"]["status"] = "QUEUED"
    apply(model, ringing)
    assert phone(model, "201") == (PhoneState.RINGING, True)
    apply(model, "call_update_inbound_talking")
    later = load_event("call_update_inbound_talking", time=1741079720000)
    later["data"]["status"] = "RECORDING"
    apply(model, later)
    assert phone(model, "201") == (PhoneState.TALKING, False)


def test_changes_report_only_the_aspects_that_changed() -> None:
    """A repeated report changes nothing shown; each kind of news names its aspect."""
    model = PbxModel()
    time = load_event("presence_user_dnd")["time"]
    changes = apply(model, "presence_user_dnd", time=time)
    assert changes.new_users == ["201"]
    assert changes.users == {"201": {Aspect.IDENTITY, Aspect.PRESENCE}}
    assert apply(model, "presence_user_dnd", time=time + 1).users == {}
    changes = apply(model, "presence_user_available", time=time + 2)
    assert changes.users == {"201": {Aspect.PRESENCE}}
    changes = apply(model, "presence_telephony_ringing", time=time + 3)
    assert changes.users == {"201": {Aspect.PHONE}}
    assert apply(model, "presence_telephony_ringing", time=time + 4).users == {}

    model = PbxModel()
    apply(model, "call_start_inbound")
    changes = apply(model, "call_update_inbound_ringing")
    assert changes.users == {"201": {Aspect.IDENTITY, Aspect.PHONE}}
    assert apply(model, "call_update_inbound_ringing").users == {}
    changes = apply(model, "call_update_inbound_talking")
    assert changes.users == {"201": {Aspect.PHONE}}
    assert apply(model, "call_end_inbound_answered").users == {
        "201": {Aspect.PHONE, Aspect.LAST_CALL}
    }
    assert apply(model, "call_end_inbound_answered").users == {}

    model = PbxModel()
    for name in INBOUND_MISSED[:-1]:
        apply(model, name)
    assert apply(model, INBOUND_MISSED[-1]).users == {
        "201": {Aspect.PHONE, Aspect.LAST_CALL, Aspect.MISSED_CALLS}
    }
    # The history refines the record (its length, why it ended), not the count.
    assert apply(model, "call_completed_inbound_missed").users == {
        "201": {Aspect.LAST_CALL}
    }


def test_changes_name_the_pbx_aspects_that_changed() -> None:
    """The PBX's entities hear of an event only when what they show changed.

    The last event is shown to the second: more events within it change nothing.
    """
    model = PbxModel()
    second = load_event("presence_user_dnd")["time"] // 1000 * 1000
    changes = apply(model, "presence_user_dnd", time=second)
    assert changes.pbx == {PbxAspect.DEVICE, PbxAspect.LAST_EVENT}
    changes = apply(model, "presence_user_dnd", time=second + 400)
    assert changes.pbx == set()
    assert not changes
    changes = apply(model, "presence_user_dnd", time=second + 1000)
    assert changes.pbx == {PbxAspect.LAST_EVENT}

    model = PbxModel()
    start = load_event("call_start_inbound")
    second = start["time"] // 1000 * 1000
    assert apply(model, start, time=second).pbx == {
        PbxAspect.DEVICE,
        PbxAspect.LAST_EVENT,
        PbxAspect.ACTIVE_CALLS,
    }
    ringing = load_event("call_update_inbound_ringing", time=second + 500)
    assert apply(model, ringing).pbx == set()
    end = load_event("call_end_inbound_answered", time=second + 900)
    assert apply(model, end).pbx == {PbxAspect.ACTIVE_CALLS}


def test_ranked_facts_follow_the_most_trusted_source() -> None:
    """A more trusted source replaces a fact, a less trusted one does not."""
    missed: Ranked[bool] = Ranked()
    assert missed.assume(False)
    assert missed.offer_latest(True, 1)
    assert not missed.offer_latest(True, 2)
    assert not missed.offer(False, 2)
    assert not missed.assume(False)
    assert missed.offer(False, 3)
    assert (missed.value, missed.rank) == (False, 3)
