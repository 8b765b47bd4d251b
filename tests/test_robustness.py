"""Property tests through Home Assistant: whatever arrives, the webhook answers and keeps its state."""

from collections import Counter
from http import HTTPStatus
import logging
from typing import Any

from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr
from hypothesis import given, settings, strategies as st
import pytest

from custom_components.wildix.const import DOMAIN

from .common import (
    ENTRY_ID,
    SECRET,
    START,
    WildixSender,
    compact,
    hub_of,
    sign,
    user_state,
)
from .workload import CallKind, Family, Workload

pytestmark = pytest.mark.usefixtures("setup_integration")

CALL_TYPES = (
    "call:start",
    "call:update",
    "call:end",
    "call:live:progress",
    "call:live:completed",
    "call:live:interrupted",
    "call:completed",
)
PRESENCE_TYPES = ("presence:user", "presence:telephony")
START_MS = int(START.timestamp() * 1000)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
anything = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=12,
)
extensions = (
    st.sampled_from(["201", " 202 ", "2 03", "", "x" * 40, "+49301234567"]) | scalars
)
times = st.integers(min_value=-1, max_value=2**53) | scalars
party = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["LOCAL", "REMOTE", "local"]) | scalars,
        "phone": extensions,
        "userExtension": extensions,
        "name": scalars,
        "email": scalars,
        "userId": scalars,
    },
)
flow = st.fixed_dictionaries(
    {},
    optional={
        "flowIndex": st.integers(-3, 5) | scalars,
        "caller": party | anything,
        "callee": party | anything,
        "status": st.sampled_from(["CONNECTING", "TALKING", "HOLD", "talking"])
        | scalars,
        "direction": st.sampled_from(["INBOUND", "OUTBOUND", "INTERNAL"]) | scalars,
        "talkTime": times,
        "duration": times,
        "startTime": times,
        "endTime": times,
        "callStatus": st.sampled_from(["MISSED", "COMPLETED"]) | scalars,
        "recordings": anything,
        "recordingsData": anything,
    },
)
data = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["c1", "c2"]) | scalars,
        "status": st.sampled_from(["CONNECTING", "TALKING", "ringing", "dnd", "rt"])
        | scalars,
        "caller": party | anything,
        "callee": party | anything,
        "flows": st.lists(flow | anything, max_size=3) | anything,
        "extension": extensions,
        "start": st.sampled_from(["2025-03-04T09:15:00.402Z", "2025-13-99", ""])
        | scalars,
        "until": st.sampled_from(["2025-03-04T13:00:00Z", "soon"]) | scalars,
        "location": st.fixed_dictionaries(
            {}, optional={"address": scalars, "lat": scalars, "lng": scalars}
        )
        | anything,
        "endCause": scalars,
        "trunkName": scalars,
        "destination": extensions,
    },
)
envelope = st.fixed_dictionaries(
    {
        "type": st.sampled_from(CALL_TYPES + PRESENCE_TYPES) | scalars,
        "id": st.sampled_from(["e1", "e2", "e3"]) | scalars,
        "time": st.integers(1741079000000, 1741080000000) | times,
        "data": data | anything,
    },
    optional={"pbx": scalars, "company": scalars, "integrationId": scalars},
)
payloads = envelope | anything


def _as_extension(raw: object) -> str | None:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    return None


def users_named_by(payload: object) -> set[str]:
    """Return every extension a payload may legitimately make a user of."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return set()
    body = payload["data"]
    named: set[str] = set()
    if payload.get("type") in PRESENCE_TYPES:
        named.add(_as_extension(body.get("extension")) or "")
    if payload.get("type") in CALL_TYPES:
        flows = body.get("flows") if isinstance(body.get("flows"), list) else []
        for holder in [body, *flows]:
            for role in ("caller", "callee"):
                local = holder.get(role) if isinstance(holder, dict) else None
                if isinstance(local, dict) and local.get("type") == "LOCAL":
                    for key in ("userExtension", "phone"):
                        named.add(_as_extension(local.get(key)) or "")
    return named


def user_extensions(hass: HomeAssistant) -> set[str]:
    """Return the extensions that have a user device."""
    prefix = f"{ENTRY_ID}_"
    return {
        identifier.removeprefix(prefix)
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), ENTRY_ID)
        for domain, identifier in device.identifiers
        if domain == DOMAIN and identifier.startswith(prefix)
    }


def problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the log records that report an error or carry an exception."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR or record.exc_info is not None
    ]


@pytest.fixture
def named() -> set[str]:
    """Return the extensions the examples of one test have named so far."""
    return set()


@settings(max_examples=150)
@given(payload=payloads)
async def test_signed_json_of_any_shape_is_answered_without_errors(
    hass: HomeAssistant,
    wildix: WildixSender,
    caplog: pytest.LogCaptureFixture,
    named: set[str],
    payload: Any,
) -> None:
    """Any signed JSON gets 200 or 400, logs no error, and only users get devices."""
    body = compact(payload)
    status = await wildix.post_raw(body, {"x-signature": sign(body)})

    assert status in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
    assert not problems(caplog)
    named |= users_named_by(payload)
    assert user_extensions(hass) <= named


signatures = (
    st.none()
    | st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80
    )
    | st.text(alphabet="0123456789abcdefABCDEF", min_size=64, max_size=64)
)


def _shown(hass: HomeAssistant) -> list[tuple[str, str, dict[str, Any]]]:
    return sorted(
        (state.entity_id, state.state, dict(state.attributes))
        for state in hass.states.async_all()
    )


@settings(max_examples=100)
@given(body=st.binary(max_size=600) | payloads.map(compact), signature=signatures)
async def test_unsigned_bytes_are_refused_without_effect(
    hass: HomeAssistant,
    wildix: WildixSender,
    body: bytes,
    signature: str | None,
) -> None:
    """Bytes with a signature that is not theirs get 401 and change nothing."""
    hub = hub_of(hass)
    fired: list[Event] = []
    unsubscribe = hass.bus.async_listen("wildix_webhook", fired.append)
    counters = dict(hub.deliveries.counters)
    shown = _shown(hass)
    headers = {} if signature is None else {"x-signature": signature}

    status = await wildix.post_raw(body, headers)
    unsubscribe()

    assert status == HTTPStatus.UNAUTHORIZED
    assert _shown(hass) == shown
    assert dict(hub.deliveries.counters) == counters | {
        "received": counters.get("received", 0) + 1,
        "rejected_signature": counters.get("rejected_signature", 0) + 1,
    }


@pytest.fixture
def calls_seen() -> list[int]:
    """Count the calls one test has sent, to give every example fresh users."""
    return [0]


@settings(max_examples=25)
@given(
    kind=st.sampled_from(CallKind),
    family=st.sampled_from(Family),
    analytics=st.booleans(),
    data=st.data(),
)
async def test_a_call_in_any_order_through_home_assistant(
    hass: HomeAssistant,
    wildix: WildixSender,
    calls_seen: list[int],
    *,
    kind: CallKind,
    family: Family,
    analytics: bool,
    data: st.DataObject,
) -> None:
    """Any order and repetition of a call's deliveries: same states, triggers once."""
    calls_seen[0] += 1
    users = [f"{calls_seen[0]}{role}" for role in ("1", "2")]
    parties = users if kind is CallKind.INTERNAL else users[:1]
    events = Workload(SECRET, users, start_ms=START_MS + calls_seen[0] * 60_000).call(
        kind, family, parties, analytics=analytics
    )
    call_id = next(e["id"] for e in events if e["type"].startswith("call:"))
    order = data.draw(st.permutations(events))
    repeated = data.draw(st.lists(st.sampled_from(events), max_size=3))
    fired: list[Event] = []
    unsubscribe = hass.bus.async_listen("wildix_event", fired.append)
    for payload in [*order, *repeated]:
        await wildix.post(payload, follow_clock=False)
    unsubscribe()

    for extension in parties:
        assert user_state(hass, extension, "phone").state == "idle"
        assert user_state(hass, extension, "ringing").state == "off"
        assert user_state(hass, extension, "on_call").state == "off"
        missed = kind is CallKind.INBOUND_MISSED
        assert int(user_state(hass, extension, "missed_calls").state) == int(missed)
        last_call = user_state(hass, extension, "last_call")
        assert last_call.attributes["call_id"] == call_id
        assert last_call.attributes["missed"] is missed
    triggers = Counter((e.data["extension"], e.data["type"]) for e in fired)
    assert max(triggers.values(), default=0) <= 1, triggers
