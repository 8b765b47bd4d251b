"""The Wildix wire format: every fixture parses, signatures follow the published vectors."""

from datetime import UTC, datetime
import hmac
import json
import random

import pytest

from custom_components.wildix.protocol import (
    MAX_DEPTH,
    CallEvent,
    CallFamily,
    CallPhase,
    Direction,
    LegStatus,
    ProtocolError,
    UserPresence,
    UserTelephony,
    compute_signature,
    decode_event,
    parse_event,
    verify_signature,
)

from .common import FIXTURES, compact, load_event

EVENT_FIXTURES = sorted(
    path.stem
    for path in FIXTURES.glob("*.json")
    if path.stem not in ("signature_vectors", "sqs_message_presence_telephony_ringing")
)
VECTORS = json.loads((FIXTURES / "signature_vectors.json").read_text())["vectors"]


@pytest.mark.parametrize("name", EVENT_FIXTURES)
def test_every_fixture_parses(name: str) -> None:
    """Every example delivery becomes an event with its envelope intact."""
    payload = load_event(name)
    event = parse_event(payload)
    assert event.type == payload["type"]
    assert event.id == payload["id"]
    assert event.time == payload["time"]
    assert event.pbx == payload.get("pbx")
    assert event.integration_id == payload["integrationId"]
    assert event.data == payload["data"]
    assert event.problem is None


@pytest.mark.parametrize(
    ("name", "body_type"),
    [
        ("call_start_inbound", CallEvent),
        ("call_live_progress_hold", CallEvent),
        ("call_completed_outbound", CallEvent),
        ("presence_user_dnd", UserPresence),
        ("presence_telephony_rt", UserTelephony),
        ("conference_live_join", type(None)),
        ("chat_channel_created", type(None)),
        ("call_live_transcription", type(None)),
        ("presence_conference_joined", type(None)),
    ],
)
def test_modelled_types_get_a_body(name: str, body_type: type) -> None:
    """Calls and presence are modelled; other families are kept as generic events."""
    assert isinstance(parse_event(load_event(name)).body, body_type)


def test_legacy_inbound_call() -> None:
    """A legacy update names the local callee and the remote caller."""
    body = parse_event(load_event("call_update_inbound_ringing")).body
    assert isinstance(body, CallEvent)
    assert body.call_id == "de_w204518_1741079700.3101"
    assert body.family is CallFamily.LEGACY
    assert body.phase is CallPhase.PROGRESS
    (flow,) = body.flows
    assert flow.status is LegStatus.CONNECTING
    assert flow.direction is Direction.INBOUND
    assert flow.remote_phone == "+4930555010203"
    assert flow.caller is not None and not flow.caller.local
    assert flow.callee is not None and flow.callee.local
    assert flow.callee.extension == "201"
    assert flow.callee.name == "Alice Example"
    assert flow.callee.email == "alice@example.com"
    assert flow.callee.department == "Support"
    assert flow.callee.group == "Office"


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("call_start_inbound", Direction.INBOUND),
        ("call_start_outbound", Direction.OUTBOUND),
        ("call_start_internal", Direction.INTERNAL),
        ("call_update_internal_ringing", Direction.INTERNAL),
        ("call_end_outbound", Direction.OUTBOUND),
    ],
)
def test_legacy_direction_is_derived(name: str, direction: Direction) -> None:
    """The legacy family states no direction; it follows from the parties."""
    body = parse_event(load_event(name)).body
    assert isinstance(body, CallEvent)
    assert body.flows[0].direction is direction


def test_legacy_end_carries_the_cause() -> None:
    """The end of a legacy call says why it ended, in words when Wildix gives them."""
    payload = load_event("call_end_internal_rejected")
    body = parse_event(payload).body
    assert isinstance(body, CallEvent)
    assert body.phase is CallPhase.END
    assert body.end_cause == "Call Rejected"
    del payload["data"]["endCauseStr"]
    body = parse_event(payload).body
    assert isinstance(body, CallEvent)
    assert body.end_cause == "21"


def test_live_call_prefers_data_id() -> None:
    """The call id comes from data.id when the envelope id differs."""
    payload = load_event("call_live_progress_talking", id="it_w000001_1.0")
    body = parse_event(payload).body
    assert isinstance(body, CallEvent)
    assert body.call_id == "de_w204518_1741079700.3101"
    assert body.family is CallFamily.LIVE
    assert body.start_ms == 1741079700402


def test_analytics_history() -> None:
    """call:completed reports missed calls, durations and recordings."""
    missed = parse_event(load_event("call_completed_inbound_missed")).body
    assert isinstance(missed, CallEvent)
    assert missed.phase is CallPhase.HISTORY
    assert missed.family is CallFamily.ANALYTICS
    assert missed.flows[0].missed is True
    assert missed.flows[0].duration_ms == 25445
    recorded = parse_event(load_event("call_completed_inbound_answered_recorded")).body
    assert isinstance(recorded, CallEvent)
    assert recorded.flows[0].missed is False
    assert recorded.flows[0].recordings


def test_presence_user() -> None:
    """presence:user carries status, message, until and location."""
    body = parse_event(load_event("presence_user_dnd")).body
    assert body == UserPresence(
        extension="201",
        email="alice@example.com",
        status="dnd",
        message="Customer workshop",
        until=datetime(2025, 3, 4, 13, 0, tzinfo=UTC),
        location=None,
    )
    located = parse_event(load_event("presence_user_available_with_location")).body
    assert isinstance(located, UserPresence)
    assert located.location is not None
    assert located.location.latitude == pytest.approx(52.5321)
    assert located.location.longitude == pytest.approx(13.3849)


@pytest.mark.parametrize(
    ("lat", "lng", "until", "expected"),
    [
        ("", "", "", (None, None, None)),
        ("north", None, "soon", (None, None, None)),
        (
            91,
            "-180.5",
            "2025-03-04T13:00:00",
            (None, None, datetime(2025, 3, 4, 13, 0, tzinfo=UTC)),
        ),
        (
            "-45.5",
            170,
            "2025-03-04T13:00:00+01:00",
            (-45.5, 170.0, datetime(2025, 3, 4, 12, 0, tzinfo=UTC)),
        ),
    ],
)
def test_presence_user_keeps_only_sane_coordinates_and_times(
    lat: object, lng: object, until: str, expected: tuple[object, object, object]
) -> None:
    """Empty, unreadable or impossible coordinates and times are no values; a time without zone is UTC."""
    payload = load_event("presence_user_available_with_location")
    payload["data"]["location"] |= {"lat": lat, "lng": lng}
    payload["data"]["until"] = until
    body = parse_event(payload).body
    assert isinstance(body, UserPresence)
    assert body.location is not None  # the address is kept
    assert (body.location.latitude, body.location.longitude, body.until) == expected


def test_presence_telephony() -> None:
    """presence:telephony carries the raw line status."""
    body = parse_event(load_event("presence_telephony_rt")).body
    assert body == UserTelephony(
        extension="201", email="alice@example.com", status="rt"
    )


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "call:start",
        None,
        {},
        {"type": "call:start", "id": "x", "time": "yesterday", "data": {}},
        {"type": "call:start", "id": "x", "data": {}},
        {"type": "", "id": "x", "time": 1, "data": {}},
        {"type": "call:start", "time": 1, "data": {}},
        {"type": "call:start", "id": "x", "time": True, "data": {}},
        {"type": "call:start", "id": "x", "time": -5, "data": {}},
        {"type": "call:start", "id": "x", "time": 1, "data": []},
    ],
)
def test_not_an_envelope(payload: object) -> None:
    """What lacks the envelope's type, id, time or object data is no Wildix event."""
    with pytest.raises(ProtocolError):
        parse_event(payload)


def test_tolerant_of_unknown_and_missing_fields() -> None:
    """Unknown keys are ignored; missing optional keys are None."""
    event = parse_event(
        {
            "type": "presence:telephony",
            "id": "x",
            "time": 5,
            "future": [1],
            "data": {"extension": "0201", "status": "talking", "new": {}},
        }
    )
    assert event.pbx is None
    assert event.body == UserTelephony(extension="0201", email=None, status="talking")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"extension": ""},
        {"extension": "20 1"},
        {"extension": ["201"]},
        {"extension": "+4930555010203"},
    ],
)
def test_presence_without_a_valid_extension_is_a_problem(data: dict) -> None:
    """A presence event that names no user is kept, flagged and not modelled."""
    event = parse_event({"type": "presence:user", "id": "x", "time": 5, "data": data})
    assert event.body is None
    assert event.problem == "the event names no valid extension"


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["fixture"])
def test_signature_vectors(vector: dict) -> None:
    """The published vectors verify over the exact bytes."""
    body = vector["body"].encode()
    assert compute_signature(vector["secret"], body) == vector["signature"]
    assert verify_signature(vector["secret"], body, vector["signature"])
    assert verify_signature(vector["secret"], body, f" {vector['signature'].upper()} ")
    assert not verify_signature(vector["secret"] + "x", body, vector["signature"])
    assert not verify_signature(vector["secret"], body + b" ", vector["signature"])


@pytest.mark.parametrize("key_bytes", [0, 1, 30, 63, 64, 65, 200])
def test_signatures_are_rfc_2104_hmac_sha256_for_any_secret(key_bytes: int) -> None:
    """The signature with the key hashed once per secret is HMAC-SHA256 itself.

    Secrets shorter than, as long as and longer than SHA-256's block (64 bytes, a
    longer key is hashed first), with non-ASCII characters; bodies empty to large;
    each secret verifies many bodies, as an entry does.
    """
    rng = random.Random(key_bytes)
    secret = "".join(rng.choice("aZ09é-_€") for _ in range(key_bytes))
    for size in (0, 1, 55, 64, 65, 700, 5000):
        body = rng.randbytes(size)
        expected = hmac.digest(secret.encode(), body, "sha256").hex()
        assert compute_signature(secret, body) == expected
        assert verify_signature(secret, body, expected)
        assert not verify_signature(secret + "x", body, expected)


def test_reserialised_non_ascii_body_does_not_verify() -> None:
    """Re-encoding a body with escaped non-ASCII changes the bytes and the HMAC."""
    vector = next(
        v for v in VECTORS if "signature_of_ascii_escaped_reserialisation" in v
    )
    reencoded = json.dumps(json.loads(vector["body"]), separators=(",", ":")).encode()
    assert (
        compute_signature(vector["secret"], reencoded)
        == vector["signature_of_ascii_escaped_reserialisation"]
    )
    assert not verify_signature(vector["secret"], reencoded, vector["signature"])


@pytest.mark.parametrize("signature", [None, "", "00", "zz" * 32, "é" * 64])
def test_malformed_signatures_are_rejected(signature: str | None) -> None:
    """Missing, short, non-hex or non-ASCII signatures never verify."""
    assert not verify_signature("secret", b"{}", signature)


def test_decode_event_takes_the_exact_bytes() -> None:
    """Bytes become an event; what is not JSON, or nests too deep, is refused."""
    body = compact(load_event("presence_user_dnd"))
    assert decode_event(body).body == parse_event(load_event("presence_user_dnd")).body
    with pytest.raises(ProtocolError, match="not valid JSON"):
        decode_event(b"{not json")
    with pytest.raises(ProtocolError, match="not valid JSON"):
        decode_event(b'{"caller": "J\\xfcrgen"}'.replace(b"\\xfc", b"\xfc"))


@pytest.mark.parametrize(
    ("depth", "refused"), [(MAX_DEPTH - 1, False), (MAX_DEPTH, True)]
)
def test_deeply_nested_data_is_refused(depth: int, refused: bool) -> None:
    """Events nest a few levels; data nested beyond the limit never reaches the bus."""
    payload = load_event("presence_user_dnd")
    payload["data"]["extra"] = json.loads("[" * (depth - 1) + "]" * (depth - 1))
    body = compact(payload)
    if refused:
        with pytest.raises(ProtocolError, match="nested deeper"):
            decode_event(body)
    else:
        assert decode_event(body).data["extra"] is not None
