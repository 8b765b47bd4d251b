"""Device triggers: automations on a user's call moments fire once each, whatever the delivery."""

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_get_device_automations,
)

from custom_components.wildix.const import DOMAIN

from .calls import (
    INBOUND_ANSWERED_RECORDED,
    INBOUND_BOTH_FAMILIES,
    INBOUND_CALL,
    INBOUND_MISSED,
    INBOUND_MISSED_LIVE,
    INBOUND_MISSED_RECORDED,
    INBOUND_TALKING_LIVE,
    MISSED_CALL,
)
from .common import ENTRY_ID, WildixSender, event_time, in_time_order, load_event
from .moments import (
    BOB,
    MOMENTS,
    async_known_users,
    async_record_triggers,
    device_id,
    fired,
    flow,
    live_event,
)


@pytest.fixture
async def devices(hass: HomeAssistant, wildix: WildixSender) -> dict[str, str]:
    """Return the device ids of Alice, Bob and Carol, known before any call."""
    return await async_known_users(hass, wildix, "201", "202", "203")


@pytest.fixture
async def runs(hass: HomeAssistant, devices: dict[str, str]) -> list[ServiceCall]:
    """Return the runs of an automation using every trigger of every user."""
    return await async_record_triggers(hass, devices)


async def test_user_devices_offer_the_call_triggers(
    hass: HomeAssistant, devices: dict[str, str]
) -> None:
    """Each user device lists the five call triggers and voicemail; the PBX device none."""
    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, devices["201"]
    )
    assert [
        (trigger["type"], trigger["device_id"])
        for trigger in triggers
        if trigger["domain"] == DOMAIN
    ] == [(moment, devices["201"]) for moment in (*MOMENTS, "voicemail")]
    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, device_id(hass, ENTRY_ID)
    )
    assert [trigger for trigger in triggers if trigger["domain"] == DOMAIN] == []


async def test_every_trigger_has_a_label(
    hass: HomeAssistant, devices: dict[str, str]
) -> None:
    """The automation editor can name each trigger a user device offers."""
    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, devices["201"]
    )
    labels = await async_get_translations(
        hass, "en", "device_automation", integrations=[DOMAIN]
    )
    for trigger in triggers:
        if trigger["domain"] == DOMAIN:
            key = f"component.{DOMAIN}.device_automation.trigger_type.{trigger['type']}"
            assert labels.get(key), key


@pytest.mark.parametrize(
    ("device", "trigger_type", "error"),
    [
        ("201", "ringing", "value must be one of"),
        ("pbx", "incoming_call", "is not a Wildix PBX user"),
        ("other", "incoming_call", "is not a Wildix PBX user"),
        ("unknown", "incoming_call", "Unknown device"),
    ],
)
async def test_invalid_trigger_is_rejected(
    hass: HomeAssistant,
    devices: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    *,
    device: str,
    trigger_type: str,
    error: str,
) -> None:
    """An unknown type, the PBX, another integration's or a missing device is refused."""
    other = dr.async_get(hass).async_get_or_create(
        config_entry_id=ENTRY_ID, identifiers={("other", "x")}, name="Other"
    )
    chosen = {
        "pbx": device_id(hass, ENTRY_ID),
        "other": other.id,
        "unknown": "0" * 32,
    }.get(device, devices.get(device))
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "bad",
                "alias": "bad",
                "triggers": {
                    "trigger": "device",
                    "domain": DOMAIN,
                    "device_id": chosen,
                    "type": trigger_type,
                },
                "actions": {"action": "test.moment"},
            }
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get("automation.bad")
    assert state is not None
    assert state.state == "unavailable"
    assert error in caplog.text


async def test_inbound_call_answered(
    hass: HomeAssistant, wildix: WildixSender, runs: list[ServiceCall]
) -> None:
    """Ringing, answered, held and hung up: incoming, answered, ended, once each."""
    await wildix.post("call_start_inbound")
    assert fired(runs) == []
    await wildix.post("call_update_inbound_ringing")
    assert fired(runs) == ["201 incoming_call"]
    await wildix.post("call_update_inbound_talking")
    assert fired(runs) == ["201 call_answered"]
    await wildix.post_all("call_update_inbound_hold", "call_update_inbound_talking")
    assert fired(runs) == []
    await wildix.post("call_end_inbound_answered")
    assert fired(runs) == ["201 call_ended"]
    assert {run.data["call_id"] for run in runs} <= {INBOUND_CALL}


async def test_inbound_call_missed_end_delivered_three_times(
    hass: HomeAssistant, wildix: WildixSender, runs: list[ServiceCall]
) -> None:
    """A missed call fires missed then ended once, however often its end arrives."""
    await wildix.post_all(*INBOUND_MISSED[:2])
    assert fired(runs) == ["201 incoming_call"]
    for _ in range(3):
        await wildix.post("call_end_inbound_missed")
    await wildix.post_all(*INBOUND_MISSED_LIVE, INBOUND_MISSED_RECORDED)
    assert fired(runs) == ["201 missed_call", "201 call_ended"]


async def test_outbound_call(
    hass: HomeAssistant, wildix: WildixSender, runs: list[ServiceCall]
) -> None:
    """Bob's outbound call: outgoing when dialled, answered, ended."""
    await wildix.post("call_start_outbound")
    assert fired(runs) == ["202 outgoing_call"]
    await wildix.post_all("call_update_outbound_talking", "call_end_outbound")
    assert fired(runs) == ["202 call_answered", "202 call_ended"]


async def test_internal_call_between_two_users(
    hass: HomeAssistant, wildix: WildixSender, runs: list[ServiceCall]
) -> None:
    """Carol calls Bob: she gets an outgoing call, he an incoming one, both an end."""
    await wildix.post("call_start_internal")
    assert fired(runs) == ["203 outgoing_call"]
    await wildix.post_all("call_update_internal_ringing", "call_live_progress_internal")
    assert fired(runs) == ["202 incoming_call"]
    await wildix.post("call_end_internal_rejected")
    assert sorted(fired(runs)) == ["202 call_ended", "203 call_ended"]


async def test_hold_fires_nothing(
    hass: HomeAssistant, wildix: WildixSender, runs: list[ServiceCall]
) -> None:
    """Holding and resuming a live call is no new moment."""
    await wildix.post_all(*INBOUND_TALKING_LIVE)
    assert fired(runs) == ["201 incoming_call", "201 call_answered"]
    await wildix.post("call_live_progress_hold")
    assert fired(runs) == []
    await wildix.post("call_live_completed_inbound")
    assert fired(runs) == ["201 call_ended"]


async def test_second_call_ringing_while_talking(
    hass: HomeAssistant, wildix: WildixSender, runs: list[ServiceCall]
) -> None:
    """A second call ringing during a call (`rt`) has its own moments and call id."""
    await wildix.post_all("call_update_inbound_ringing", "call_update_inbound_talking")
    second = load_event("call_update_inbound_missed_ringing", time=1741079740000)
    await wildix.post_all(second, "presence_telephony_rt")
    await wildix.post(load_event("call_end_inbound_missed", time=1741079745000))
    await wildix.post("call_end_inbound_answered")
    assert [(run.data["trigger"], run.data["call_id"]) for run in runs] == [
        ("201 incoming_call", INBOUND_CALL),
        ("201 call_answered", INBOUND_CALL),
        ("201 incoming_call", MISSED_CALL),
        ("201 missed_call", MISSED_CALL),
        ("201 call_ended", MISSED_CALL),
        ("201 call_ended", INBOUND_CALL),
    ]


async def test_transfer_with_two_flows(
    hass: HomeAssistant, wildix: WildixSender, runs: list[ServiceCall]
) -> None:
    """Alice hands her caller to Bob: her call ends when he answers, his at the end."""
    talking = await wildix.post("call_live_progress_talking")
    fired(runs)
    time_ms = talking["time"]
    await wildix.post(
        live_event(
            time_ms + 10_000, flow(0, "TALKING"), flow(1, "CONNECTING", callee=BOB)
        )
    )
    assert fired(runs) == ["202 incoming_call"]
    await wildix.post(
        live_event(time_ms + 15_000, flow(0, "TALKING"), flow(1, "TALKING", callee=BOB))
    )
    assert fired(runs) == ["201 call_ended", "202 call_answered"]
    await wildix.post(
        live_event(
            time_ms + 45_000,
            flow(0, "TALKING"),
            flow(1, "TALKING", callee=BOB),
            kind="call:live:completed",
        )
    )
    assert fired(runs) == ["202 call_ended"]


async def test_same_call_from_both_families(
    hass: HomeAssistant, wildix: WildixSender, runs: list[ServiceCall]
) -> None:
    """Legacy and live events of one call fire each moment once."""
    await wildix.post_all(
        *in_time_order(*INBOUND_BOTH_FAMILIES, INBOUND_ANSWERED_RECORDED)
    )
    assert fired(runs) == ["201 incoming_call", "201 call_answered", "201 call_ended"]


async def test_events_out_of_order(
    hass: HomeAssistant, wildix: WildixSender, runs: list[ServiceCall]
) -> None:
    """An answer overtaking the ring fires both; late, older updates fire nothing."""
    await wildix.post("call_update_inbound_talking")
    assert fired(runs) == ["201 incoming_call", "201 call_answered"]
    await wildix.post_all("call_update_inbound_ringing", "call_start_inbound")
    assert fired(runs) == []
    await wildix.post_all("call_end_inbound_answered", "call_update_inbound_hold")
    assert fired(runs) == ["201 call_ended"]


async def test_end_overtaking_the_call(
    hass: HomeAssistant, wildix: WildixSender, runs: list[ServiceCall]
) -> None:
    """An end that arrives first fires only the end: the call is over, nothing rings."""
    await wildix.post("call_end_inbound_missed")
    assert fired(runs) == ["201 missed_call", "201 call_ended"]
    await wildix.post_all(*INBOUND_MISSED[:2])
    assert fired(runs) == []


async def test_lost_end_still_ends_the_call(
    hass: HomeAssistant,
    wildix: WildixSender,
    runs: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A call whose end never arrives ends after the stale-call timeout (4 h)."""
    await wildix.post_all("call_update_inbound_ringing", "call_update_inbound_talking")
    fired(runs)
    freezer.tick(timedelta(hours=3, minutes=58))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert fired(runs) == []
    freezer.tick(timedelta(minutes=3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert fired(runs) == ["201 call_ended"]


async def test_stale_events_fire_nothing(
    hass: HomeAssistant,
    wildix: WildixSender,
    runs: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Events over ten minutes old (a backlog) fire no trigger; fresher ones do."""
    start = load_event("call_start_inbound_missed")
    freezer.move_to(event_time(start) + timedelta(minutes=10, seconds=10))
    await wildix.post_all(start, "call_update_inbound_missed_ringing")
    assert fired(runs) == []
    end = await wildix.post("call_end_inbound_missed")
    assert datetime.now(UTC) - event_time(end) > timedelta(minutes=9)
    assert fired(runs) == ["201 missed_call", "201 call_ended"]
