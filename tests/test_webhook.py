"""The webhook: only genuinely signed Wildix events get in, each exactly once."""

from http import HTTPStatus
import json
import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.wildix.const import EVENT_WEBHOOK, MAX_BODY_BYTES

from .common import (
    ENTRY_ID,
    FIXTURES,
    SECRET,
    WildixSender,
    compact,
    hub_of,
    load_event,
    sign,
    user_entity,
)

VECTORS = json.loads((FIXTURES / "signature_vectors.json").read_text())["vectors"]


@pytest.fixture
def received(hass: HomeAssistant) -> list[Event[dict[str, Any]]]:
    """Capture the wildix_webhook events."""
    return async_capture_events(hass, EVENT_WEBHOOK)


async def test_signed_event_is_fired_on_the_bus(
    hass: HomeAssistant, wildix: WildixSender, received: list[Event[dict[str, Any]]]
) -> None:
    """A verified event answers 200 and is fired with its envelope and data."""
    payload = await wildix.post("presence_user_dnd")
    assert [event.data for event in received] == [
        {
            "config_entry_id": ENTRY_ID,
            "type": "presence:user",
            "id": "de_w204518_201",
            "time": 1741089600318,
            "pbx": "2211000a7c3e",
            "company": "de_w204518",
            "integration_id": "k3v9tq",
            "data": payload["data"],
        }
    ]
    assert (
        hass.states.get(user_entity(hass, "sensor", "201", "presence")).state == "dnd"
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-signature": ""}, {"x-signature": "0" * 64}, {"x-signature": sign(b"{}")}],
    ids=["missing", "empty", "zeros", "other-body"],
)
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_unsigned_or_wrongly_signed_is_401(
    hass: HomeAssistant,
    wildix: WildixSender,
    received: list[Event[dict[str, Any]]],
    headers: dict[str, str],
) -> None:
    """A delivery without the right signature is refused and changes nothing."""
    body = compact(load_event("presence_user_dnd"))
    assert await wildix.post_raw(body, headers) == HTTPStatus.UNAUTHORIZED
    assert received == []
    assert [s.entity_id for s in hass.states.async_all("sensor")] == [
        "sensor.wildix_active_calls",
        "sensor.wildix_last_event",
    ]
    assert hass.states.get("sensor.wildix_last_event").state == "unknown"


async def test_signature_from_another_secret_is_401(
    hass: HomeAssistant, wildix: WildixSender, received: list[Event[dict[str, Any]]]
) -> None:
    """An event signed with another integration's secret is refused."""
    body = compact(load_event("presence_user_dnd"))
    status = await wildix.post_raw(body, {"x-signature": sign(body, SECRET + "0")})
    assert status == HTTPStatus.UNAUTHORIZED
    assert received == []


async def test_header_name_is_case_insensitive(
    wildix: WildixSender, received: list[Event[dict[str, Any]]]
) -> None:
    """Proxies may capitalise the header name."""
    body = compact(load_event("presence_user_dnd"))
    assert (
        await wildix.post_raw(body, {"X-Signature": sign(body).upper()})
        == HTTPStatus.OK
    )
    assert len(received) == 1


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'"text"', b"\xff\xfe", b'{"type": "call:start"}', b""],
    ids=["garbage", "array", "string", "binary", "no-envelope", "empty"],
)
async def test_signed_body_that_is_no_event_is_400(
    wildix: WildixSender,
    received: list[Event[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    """A signed body that is not a Wildix JSON object is a bad request."""
    assert (
        await wildix.post_raw(body, {"x-signature": sign(body)})
        == HTTPStatus.BAD_REQUEST
    )
    assert received == []
    assert "Rejected a signed Wildix delivery" in caplog.text


async def test_body_over_one_mebibyte_is_413(
    wildix: WildixSender, received: list[Event[dict[str, Any]]]
) -> None:
    """A body larger than 1 MiB is refused, with or without a length header."""
    payload = load_event("presence_user_dnd")
    payload["data"]["message"] = "x" * MAX_BODY_BYTES
    body = compact(payload)
    assert await wildix.post_raw(body, {"x-signature": sign(body)}) == (
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    )

    async def chunks() -> Any:
        for start in range(0, len(body), 100_000):
            yield body[start : start + 100_000]

    response = await wildix.client.post(
        f"/api/webhook/{wildix.webhook_id}",
        data=chunks(),
        headers={"x-signature": sign(body)},
    )
    assert response.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert received == []


async def test_body_of_exactly_one_mebibyte_is_accepted(
    wildix: WildixSender, received: list[Event[dict[str, Any]]]
) -> None:
    """The limit is inclusive."""
    payload = load_event("presence_user_dnd")
    padding = MAX_BODY_BYTES - len(compact(payload))
    payload["data"]["message"] = "Customer workshop" + "x" * padding
    body = compact(payload)
    assert len(body) == MAX_BODY_BYTES
    assert await wildix.post_raw(body, {"x-signature": sign(body)}) == HTTPStatus.OK
    assert len(received) == 1


async def test_unmodelled_event_is_acknowledged_and_fired(
    hass: HomeAssistant,
    wildix: WildixSender,
    received: list[Event[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Types we do not model are answered 200 and still reach automations."""
    caplog.set_level(logging.DEBUG, logger="custom_components.wildix")
    await wildix.post("chat_channel_created")
    await wildix.post("conference_live_join")
    assert [event.data["type"] for event in received] == [
        "chat:channel:created",
        "conference:live:join",
    ]
    assert received[0].data["pbx"] is None
    assert "Ignoring a Wildix event of type chat:channel:created" in caplog.text
    # The PBX's active calls; its last event sensor is disabled by default.
    assert len(hass.states.async_all("sensor")) == 1


@pytest.mark.parametrize(
    "fixture",
    [
        "call_transcription_completed",
        "call_live_transcription",
        "conference_live_progress",
        "chat_channel_created",
    ],
)
async def test_unmodelled_event_without_time_or_pbx_is_acknowledged(
    hass: HomeAssistant,
    wildix: WildixSender,
    received: list[Event[dict[str, Any]]],
    fixture: str,
) -> None:
    """A type we do not model needs no time or pbx: a 400 would make Wildix retry it forever."""
    payload = load_event(fixture)
    del payload["time"]
    payload.pop("pbx", None)
    await wildix.post(payload, follow_clock=False)
    assert [(event.data["type"], event.data["time"]) for event in received] == [
        (payload["type"], None)
    ]
    assert hub_of(hass).deliveries.counters["accepted"] == 1

    unsigned = compact(load_event(fixture))
    assert await wildix.post_raw(unsigned, {"x-signature": "0" * 64}) == 401


async def test_modelled_event_without_time_is_refused(
    hass: HomeAssistant, wildix: WildixSender, received: list[Event[dict[str, Any]]]
) -> None:
    """Call and presence events are ordered by their time: without one they are refused."""
    payload = load_event("presence_user_dnd")
    del payload["time"]
    await wildix.post(payload, follow_clock=False, expect=400)
    assert received == []


async def test_duplicate_delivery_is_processed_once(
    hass: HomeAssistant, wildix: WildixSender, received: list[Event[dict[str, Any]]]
) -> None:
    """Wildix retries: the same bytes again are acknowledged and ignored."""
    for _ in range(3):
        await wildix.post("call_update_inbound_missed_ringing")
    for _ in range(3):
        await wildix.post("call_end_inbound_missed")
    assert len(received) == 2
    hub = wildix.hass.config_entries.async_get_entry(ENTRY_ID).runtime_data
    assert hub.deliveries.counters["duplicate"] == 4
    assert hub.deliveries.counters["accepted"] == 2
    assert (
        hass.states.get(user_entity(hass, "sensor", "201", "missed_calls")).state == "1"
    )


async def test_same_event_with_new_time_is_not_a_duplicate(
    wildix: WildixSender, received: list[Event[dict[str, Any]]]
) -> None:
    """Presence events repeat their id; a new time is a new event."""
    await wildix.post("presence_user_dnd")
    await wildix.post("presence_user_dnd", time=1741089700000)
    assert len(received) == 2


async def test_non_ascii_body_verifies_over_raw_bytes(
    wildix: WildixSender, received: list[Event[dict[str, Any]]]
) -> None:
    """The HMAC is over the bytes sent, so 'Jürgen Müller' verifies as is."""
    vector = next(
        v for v in VECTORS if "signature_of_ascii_escaped_reserialisation" in v
    )
    body = vector["body"].encode()
    assert (
        await wildix.post_raw(body, {"x-signature": vector["signature"]})
        == HTTPStatus.OK
    )
    assert received[0].data["data"]["caller"]["name"] == "Jürgen Müller"
    escaped = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert await wildix.post_raw(escaped, {"x-signature": vector["signature"]}) == (
        HTTPStatus.UNAUTHORIZED
    )


async def test_pretty_printed_body_needs_its_own_signature(
    wildix: WildixSender, received: list[Event[dict[str, Any]]]
) -> None:
    """Whitespace changes the bytes: only the signature of those bytes counts."""
    compact_vector, pretty_vector = (
        v for v in VECTORS if v["fixture"] == "call_start_inbound.json"
    )
    pretty = pretty_vector["body"].encode()
    assert await wildix.post_raw(
        pretty, {"x-signature": compact_vector["signature"]}
    ) == (HTTPStatus.UNAUTHORIZED)
    assert await wildix.post_raw(
        pretty, {"x-signature": pretty_vector["signature"]}
    ) == (HTTPStatus.OK)
    assert len(received) == 1


async def test_only_post_is_allowed(wildix: WildixSender) -> None:
    """Other methods are refused by Home Assistant's webhook component."""
    url = f"/api/webhook/{wildix.webhook_id}"
    assert (await wildix.client.get(url)).status == HTTPStatus.METHOD_NOT_ALLOWED
    assert (
        await wildix.client.put(url, data=b"{}")
    ).status == HTTPStatus.METHOD_NOT_ALLOWED


async def test_unloaded_entry_stops_listening(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    received: list[Event[dict[str, Any]]],
) -> None:
    """After unload the webhook answers like any unknown webhook and does nothing."""
    await wildix.post("presence_user_dnd")
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    await hass.async_block_till_done()
    assert setup_integration.state is ConfigEntryState.NOT_LOADED
    body = compact(load_event("presence_user_away"))
    assert await wildix.post_raw(body, {"x-signature": sign(body)}) == HTTPStatus.OK
    assert len(received) == 1


async def test_two_entries_are_kept_apart(
    hass: HomeAssistant,
    wildix: WildixSender,
    received: list[Event[dict[str, Any]]],
) -> None:
    """Each entry has its own webhook and secret, users and devices."""
    other = MockConfigEntry(
        domain="wildix",
        title="Branch office",
        data={
            "webhook_id": "b" * 64,
            "secret": "Other0Secret1Of2Thirty3Chars45",
            "cloudhook": False,
        },
        entry_id="01JOTHERENTRY",
    )
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    await hass.async_block_till_done()
    branch = WildixSender(
        hass, wildix.client, wildix.freezer, "b" * 64, other.data["secret"]
    )

    await wildix.post("presence_user_dnd")
    await branch.post("presence_user_away")
    body = compact(load_event("presence_user_available"))
    assert (
        await branch.post_raw(body, {"x-signature": sign(body)})
        == HTTPStatus.UNAUTHORIZED
    )

    assert [(e.data["config_entry_id"], e.data["type"]) for e in received] == [
        (ENTRY_ID, "presence:user"),
        ("01JOTHERENTRY", "presence:user"),
    ]
    registry = er.async_get(hass)
    assert (
        registry.async_get_entity_id("sensor", "wildix", f"{ENTRY_ID}_202_presence")
        is None
    )
    assert (
        registry.async_get_entity_id("sensor", "wildix", "01JOTHERENTRY_201_presence")
        is None
    )
    assert (
        hass.states.get(user_entity(hass, "sensor", "201", "presence")).state == "dnd"
    )
    branch_bob = registry.async_get_entity_id(
        "sensor", "wildix", "01JOTHERENTRY_202_presence"
    )
    assert branch_bob is not None
    assert hass.states.get(branch_bob).state == "away"
    branch_devices = dr.async_entries_for_config_entry(
        dr.async_get(hass), "01JOTHERENTRY"
    )
    assert sorted(device.name for device in branch_devices) == [
        "Branch office",
        "Extension 202",
    ]
