"""Security of the webhook: what is signed, what is answered, what is logged, what is bounded."""

from collections.abc import AsyncIterator
import hmac
from http import HTTPStatus
import json
import logging
import re
import tracemalloc
from typing import Any

# Diagnostics import hassio for the system info; on Home Assistant 2025.4 that import
# fails under the frozen clock, so it happens here, before any clock is frozen.
import homeassistant.components.hassio  # noqa: F401
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .common import (
    ENTRY_ID,
    FIXTURES,
    SECRET,
    WEBHOOK_ID,
    WildixSender,
    compact,
    hub_of,
    load_event,
    sign,
)

VECTORS: list[dict[str, str]] = json.loads(
    (FIXTURES / "signature_vectors.json").read_text()
)["vectors"]
NON_ASCII = next(vector for vector in VECTORS if "non-ASCII" in vector["fixture"])
PRETTY = next(
    vector for vector in VECTORS if "pretty-printed" in vector.get("note", "")
)
COMPACT = next(
    vector
    for vector in VECTORS
    if vector["fixture"] == PRETTY["fixture"] and vector is not PRETTY
)
MIB = 1024 * 1024


async def test_the_signature_covers_the_raw_bytes(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Only the exact bytes Wildix signed pass: no re-encoding, no reformatting."""
    body = NON_ASCII["body"].encode()
    assert await wildix.post_raw(body, {"x-signature": NON_ASCII["signature"]}) == 200
    escaped = NON_ASCII["signature_of_ascii_escaped_reserialisation"]
    again = body.replace(b"de_w204518_1741079900.3115", b"de_w204518_1741079900.3116")
    assert await wildix.post_raw(again, {"x-signature": escaped}) == 401
    pretty = PRETTY["body"].encode()
    assert await wildix.post_raw(pretty, {"x-signature": COMPACT["signature"]}) == 401

    assert dict(hub_of(hass).deliveries.counters) == {
        "received": 3,
        "accepted": 1,
        "rejected_signature": 2,
    }


async def test_compare_digest_decides(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong signature of the right length is judged by hmac.compare_digest alone."""
    body = compact(load_event("presence_user_dnd"))
    wrong = sign(body)[::-1]
    compared: list[tuple[bytes, bytes]] = []
    verdict = False

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return verdict

    monkeypatch.setattr(hmac, "compare_digest", compare_digest)
    assert await wildix.post_raw(body, {"x-signature": wrong}) == 401
    assert compared == [(sign(body).encode(), wrong.encode())]

    verdict = True
    assert await wildix.post_raw(body, {"x-signature": wrong}) == 200


@pytest.mark.parametrize(
    ("method", "status"),
    [
        ("GET", HTTPStatus.METHOD_NOT_ALLOWED),
        ("PUT", HTTPStatus.METHOD_NOT_ALLOWED),
        ("HEAD", HTTPStatus.OK),
    ],
)
async def test_methods_other_than_post(
    hass: HomeAssistant, wildix: WildixSender, method: str, status: HTTPStatus
) -> None:
    """GET and PUT are refused; HEAD answers as Home Assistant does for every webhook."""
    body = compact(load_event("presence_user_dnd"))
    response = await wildix.client.request(
        method,
        f"/api/webhook/{WEBHOOK_ID}",
        data=body,
        headers={"x-signature": sign(body)},
    )
    assert response.status == status
    assert not hub_of(hass).deliveries.counters


@pytest.mark.parametrize(
    ("body", "signed", "status", "reason"),
    [
        (b"", False, HTTPStatus.UNAUTHORIZED, "rejected_signature"),
        (
            b'{"type":"presence:user"}',
            False,
            HTTPStatus.UNAUTHORIZED,
            "rejected_signature",
        ),
        (b"", True, HTTPStatus.BAD_REQUEST, "rejected_malformed"),
        (b"not json", True, HTTPStatus.BAD_REQUEST, "rejected_malformed"),
        (b"[]", True, HTTPStatus.BAD_REQUEST, "rejected_malformed"),
        (b'{"hello":"world"}', True, HTTPStatus.BAD_REQUEST, "rejected_malformed"),
        (b"\xff\xfe{}", True, HTTPStatus.BAD_REQUEST, "rejected_malformed"),
    ],
)
async def test_bad_deliveries_get_a_clear_answer(
    hass: HomeAssistant,
    wildix: WildixSender,
    *,
    body: bytes,
    signed: bool,
    status: HTTPStatus,
    reason: str,
) -> None:
    """Unsigned deliveries get 401, signed deliveries that are no event 400."""
    headers = {"x-signature": sign(body)} if signed else {}
    assert await wildix.post_raw(body, headers) == status
    assert dict(hub_of(hass).deliveries.counters) == {"received": 1, reason: 1}


async def _chunks(size: int) -> AsyncIterator[bytes]:
    chunk = b" " * (64 * 1024)
    for _ in range(size // len(chunk)):
        yield chunk


@pytest.mark.parametrize("chunked", [False, True])
async def test_oversized_bodies_are_refused_without_reading_them(
    hass: HomeAssistant, wildix: WildixSender, chunked: bool
) -> None:
    """More than 1 MiB gets 413, with or without Content-Length, in bounded memory.

    The 16 MiB body itself is allocated before tracing starts; what is traced is
    what the request costs Home Assistant (and the client streaming it).
    """
    size = 16 * MIB
    body: Any = _chunks(size) if chunked else b" " * size
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        response = await wildix.client.post(
            f"/api/webhook/{WEBHOOK_ID}", data=body, headers={"x-signature": "0" * 64}
        )
        await hass.async_block_till_done()
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    assert response.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert dict(hub_of(hass).deliveries.counters) == {
        "received": 1,
        "rejected_too_large": 1,
    }
    assert peak < 4 * MIB, f"{peak / MIB:.1f} MiB held for a refused delivery"


async def test_deeply_nested_json_is_refused(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Signed bodies nested 100,000 or 200 levels deep are answered 400, not with a crash."""
    body = b"[" * 100_000 + b"]" * 100_000
    assert await wildix.post_raw(body, {"x-signature": sign(body)}) == 400
    nested: Any = {}
    for _ in range(200):
        nested = {"n": nested}
    event = load_event("presence_user_dnd")
    event["data"]["extra"] = nested
    body = compact(event)
    assert await wildix.post_raw(body, {"x-signature": sign(body)}) == 400
    assert dict(hub_of(hass).deliveries.counters) == {
        "received": 2,
        "rejected_malformed": 2,
    }


async def test_unknown_webhook_ids_reveal_nothing(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Another id gets Home Assistant's empty 200, whatever the signature."""
    body = compact(load_event("presence_user_dnd"))
    answers = set()
    for signature in (sign(body), "0" * 64, None):
        response = await wildix.client.post(
            f"/api/webhook/{'b' * 64}",
            data=body,
            headers={} if signature is None else {"x-signature": signature},
        )
        answers.add((response.status, await response.read()))
    assert answers == {(HTTPStatus.OK, b"")}
    assert not hub_of(hass).deliveries.counters
    assert not dr.async_entries_for_config_entry(dr.async_get(hass), ENTRY_ID)[1:]


def _phone_numbers() -> set[str]:
    numbers: set[str] = set()
    for path in FIXTURES.glob("*.json"):
        numbers.update(re.findall(r"\+\d{7,}", path.read_text()))
    return numbers | {number.removeprefix("+") for number in numbers}


async def _everything(wildix: WildixSender, *, follow_clock: bool) -> None:
    """Post every fixture, and every kind of refusal of it."""
    names = sorted(
        path.stem
        for path in FIXTURES.glob("*.json")
        if "type" in json.loads(path.read_text())
    )
    for name in sorted(names, key=lambda name: load_event(name)["time"]):
        event = load_event(name)
        await wildix.post(event, follow_clock=follow_clock)
        body = compact(event)
        await wildix.post_raw(body, {"x-signature": "0" * 64})
        await wildix.post_raw(body, {})
        broken = body[:-1]
        await wildix.post_raw(broken, {"x-signature": sign(broken)})
        # Unusable, and the log line saying so must not echo the number.
        event["data"] = {"extension": "call +4930555010203", "flows": "nope"}
        await wildix.post(event, follow_clock=False)
    await wildix.post_raw(b" " * (MIB + 1), {"x-signature": sign(b"")})


def _leaks(texts: list[str]) -> list[tuple[str, str]]:
    secrets = {SECRET, WEBHOOK_ID, *_phone_numbers()}
    return [(text[:200], s) for text in texts for s in secrets if s in text]


async def test_logs_reveal_no_secret_webhook_id_or_phone_number(
    hass: HomeAssistant, wildix: WildixSender, caplog: pytest.LogCaptureFixture
) -> None:
    """Across every fixture and every kind of refusal, our log lines stay clean."""
    caplog.set_level(logging.DEBUG)
    await _everything(wildix, follow_clock=True)

    ours = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.wildix")
    ]
    assert ours, "the scenario logged nothing of ours"
    assert not _leaks(ours)


@pytest.fixture
async def diagnostics_ready(hass: HomeAssistant) -> None:
    """Set up diagnostics before the sender's HTTP client freezes the routes."""
    assert await async_setup_component(hass, "diagnostics", {})


async def test_diagnostics_reveal_no_secret_webhook_id_or_phone_number(
    hass: HomeAssistant,
    diagnostics_ready: None,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    hass_client: ClientSessionGenerator,
) -> None:
    """After the same traffic, neither the entry's nor any device's diagnostics leak."""
    # The clock stays: the API's access token lasts 30 minutes.
    await _everything(wildix, follow_clock=False)
    dumps = [
        await get_diagnostics_for_config_entry(hass, hass_client, setup_integration)
    ]
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), ENTRY_ID)
    assert len(devices) > 3
    dumps.extend(
        [
            await get_diagnostics_for_device(
                hass, hass_client, setup_integration, device
            )
            for device in devices
        ]
    )
    assert not _leaks([json.dumps(dump, default=str) for dump in dumps])


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "zstd", "x-unknown"])
async def test_bodies_that_do_not_decode_are_refused_quietly(
    hass: HomeAssistant,
    wildix: WildixSender,
    caplog: pytest.LogCaptureFixture,
    encoding: str,
) -> None:
    """Anyone can claim a compression the body lacks: 400, and nothing above debug.

    Only aiohttp's access log (one INFO line per request, whatever the answer) may speak.
    """
    caplog.set_level(logging.DEBUG)
    body = b"\x00definitely not compressed" * 20_000
    status = await wildix.post_raw(
        body, {"content-encoding": encoding, "x-signature": "0" * 64}
    )
    assert status in (HTTPStatus.BAD_REQUEST, HTTPStatus.UNAUTHORIZED)
    assert [
        (record.name, record.getMessage())
        for record in caplog.records
        if record.levelno > logging.DEBUG and record.name != "aiohttp.access"
    ] == []
    assert hub_of(hass).deliveries.counters["received"] == 1
