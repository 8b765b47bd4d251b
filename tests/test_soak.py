"""Soak: 20,000 deliveries through the real HTTP path, some repeated, reordered or forged."""

import random

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest

from .common import (
    ENTRY_ID,
    SECRET,
    START,
    WEBHOOK_ID,
    WildixSender,
    hub_of,
    user_entity,
)
from .workload import Delivery, Workload

pytestmark = pytest.mark.soak

TOTAL = 20_000
DUPLICATES = TOTAL * 3 // 100
REORDERED = TOTAL * 2 // 100
FORGED_SHARE = 0.01
USERS = [str(100 + number) for number in range(60)]


def perturb(
    good: list[Delivery], rng: random.Random
) -> tuple[list[Delivery], int, int]:
    """Repeat, reorder and forge deliveries; return them, the repeats and the forgeries."""
    forged = TOTAL - len(good) - DUPLICATES
    assert abs(forged - TOTAL * FORGED_SHARE) <= TOTAL * FORGED_SHARE / 2
    stream = list(good)
    for _ in range(DUPLICATES):
        position = rng.randrange(len(stream))
        stream.insert(min(len(stream), position + rng.randint(1, 50)), stream[position])
    for _ in range(REORDERED // 2):
        position = rng.randrange(len(stream) - 5)
        other = position + rng.randint(1, 5)
        stream[position], stream[other] = stream[other], stream[position]
    for _ in range(forged):
        victim = rng.choice(good)
        wrong = victim.signature[:-1] + ("0" if victim.signature[-1] != "0" else "1")
        stream.insert(
            rng.randrange(len(stream)), Delivery(victim.body, wrong, victim.type)
        )
    assert len(stream) == TOTAL
    return stream, DUPLICATES, forged


async def test_soak(hass: HomeAssistant, wildix: WildixSender) -> None:
    """Every counter and every user's final state is exactly what was sent."""
    rng = random.Random(8)
    workload = Workload(
        SECRET, USERS, seed=8, start_ms=int(START.timestamp() * 1000) + 60_000
    )
    good = workload.mix(TOTAL - DUPLICATES - int(TOTAL * FORGED_SHARE))
    stream, duplicates, forged = perturb(good, rng)

    url = f"/api/webhook/{WEBHOOK_ID}"
    statuses: dict[int, int] = {}
    for delivery in stream:
        response = await wildix.client.post(
            url, data=delivery.body, headers={"x-signature": delivery.signature}
        )
        statuses[response.status] = statuses.get(response.status, 0) + 1
    await hass.async_block_till_done()

    hub = hub_of(hass)
    assert statuses == {200: TOTAL - forged, 401: forged}
    assert dict(hub.deliveries.counters) == {
        "received": TOTAL,
        "accepted": len(good),
        "duplicate": duplicates,
        "rejected_signature": forged,
    }
    expected = workload.expected
    assert set(hub.model.users) == set(expected.users)
    assert not hub.model.calls
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), ENTRY_ID)
    assert len(devices) == len(USERS) + 1
    for extension, outcome in expected.users.items():
        phone = hass.states.get(user_entity(hass, "sensor", extension, "phone"))
        last = hass.states.get(user_entity(hass, "sensor", extension, "last_call"))
        missed = hass.states.get(user_entity(hass, "sensor", extension, "missed_calls"))
        presence = hass.states.get(user_entity(hass, "sensor", extension, "presence"))
        ringing = hass.states.get(
            user_entity(hass, "binary_sensor", extension, "ringing")
        )
        on_call = hass.states.get(
            user_entity(hass, "binary_sensor", extension, "on_call")
        )
        assert phone is not None and phone.state == "idle", extension
        assert ringing is not None and ringing.state == "off", extension
        assert on_call is not None and on_call.state == "off", extension
        assert missed is not None and int(missed.state) == outcome.missed_calls
        assert last is not None and last.attributes["call_id"] == outcome.last_call
        assert presence is not None and presence.state == outcome.presence
    active = hass.states.get("sensor.wildix_active_calls")
    assert active is not None and active.state == "0"
