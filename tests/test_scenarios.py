"""Calls and presence as users see them: entity states step by step."""

from copy import deepcopy
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from .calls import INBOUND_BOTH_FAMILIES
from .common import WildixSender, in_time_order, line, load_event, user_state

IDLE = ("idle", "off", "off")


async def test_inbound_call_answered_and_hung_up(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Alice's phone rings, she talks, puts the caller on hold, and hangs up."""
    await wildix.post("call_start_inbound")
    assert hass.states.get("sensor.wildix_active_calls").state == "1"

    await wildix.post("call_update_inbound_ringing")
    assert line(hass, "201") == ("ringing", "on", "off")
    phone = user_state(hass, "201", "phone")
    assert phone.attributes["call_id"] == "de_w204518_1741079700.3101"
    assert phone.attributes["direction"] == "inbound"
    assert phone.attributes["remote_number"] == "+4930555010203"
    assert phone.attributes["remote_name"] is None
    assert phone.attributes["started"] == dt_util.parse_datetime(
        "2025-03-04T09:15:00.412+00:00"
    )
    assert phone.attributes["answered"] is False
    assert phone.attributes["telephony_status"] is None

    await wildix.post("presence_telephony_ringing")
    assert line(hass, "201") == ("ringing", "on", "off")
    assert user_state(hass, "201", "phone").attributes["telephony_status"] == "ringing"

    await wildix.post("call_update_inbound_talking")
    assert line(hass, "201") == ("talking", "off", "on")
    assert user_state(hass, "201", "phone").attributes["answered"] is True

    await wildix.post("call_update_inbound_hold")
    assert line(hass, "201") == ("on_hold", "off", "on")

    await wildix.post("call_end_inbound_answered")
    assert line(hass, "201") == IDLE
    assert "call_id" not in user_state(hass, "201", "phone").attributes
    assert hass.states.get("sensor.wildix_active_calls").state == "0"
    last = user_state(hass, "201", "last_call")
    assert last.state == "2025-03-04T09:15:00+00:00"
    assert last.attributes["direction"] == "inbound"
    assert last.attributes["remote_number"] == "+4930555010203"
    assert last.attributes["duration"] == pytest.approx(61.706)
    assert last.attributes["missed"] is False
    assert last.attributes["end_cause"] == "Normal Clearing"
    assert user_state(hass, "201", "missed_calls").state == "0"

    await wildix.post("presence_telephony_registered")
    assert line(hass, "201") == IDLE


async def test_inbound_missed_counts_once(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """An unanswered call is one missed call, however often its end arrives."""
    await wildix.post("call_start_inbound_missed")
    await wildix.post("call_update_inbound_missed_ringing")
    assert line(hass, "201") == ("ringing", "on", "off")
    end = await wildix.post("call_end_inbound_missed")
    for _ in range(2):
        await wildix.post(end)
    assert line(hass, "201") == IDLE
    assert user_state(hass, "201", "missed_calls").state == "1"
    assert user_state(hass, "201", "last_call").attributes["missed"] is True
    await wildix.post("call_completed_inbound_missed")
    assert user_state(hass, "201", "missed_calls").state == "1"


async def test_outbound_call(hass: HomeAssistant, wildix: WildixSender) -> None:
    """Bob dials out, the callee answers, Bob hangs up."""
    await wildix.post("call_start_outbound")
    assert line(hass, "202") == ("dialing", "off", "on")
    assert user_state(hass, "202", "phone").attributes["direction"] == "outbound"
    await wildix.post("call_update_outbound_talking")
    assert line(hass, "202") == ("talking", "off", "on")
    await wildix.post("call_end_outbound")
    assert line(hass, "202") == IDLE
    last = user_state(hass, "202", "last_call")
    assert last.attributes["direction"] == "outbound"
    assert last.attributes["remote_number"] == "+4989555123456"
    assert last.attributes["missed"] is False


async def test_internal_call_between_two_users(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Carol calls Bob: both devices follow the call."""
    await wildix.post("call_start_internal")
    assert line(hass, "203") == ("dialing", "off", "on")
    await wildix.post("call_update_internal_ringing")
    assert line(hass, "202") == ("ringing", "on", "off")
    assert line(hass, "203") == ("dialing", "off", "on")
    bob = user_state(hass, "202", "phone").attributes
    assert (bob["direction"], bob["remote_number"], bob["remote_name"]) == (
        "internal",
        "203",
        "Carol Example",
    )
    await wildix.post("call_end_internal_rejected")
    assert line(hass, "202") == IDLE
    assert line(hass, "203") == IDLE
    assert (
        user_state(hass, "202", "last_call").attributes["end_cause"] == "Call Rejected"
    )
    assert user_state(hass, "202", "missed_calls").state == "0"


async def test_talking_with_a_second_call_ringing(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """'rt' means in a call with another one ringing."""
    await wildix.post("call_update_inbound_talking")
    second = load_event("call_update_inbound_missed_ringing", time=1741079744000)
    await wildix.post(second)
    assert line(hass, "201") == ("talking", "on", "on")
    assert user_state(hass, "201", "phone").attributes["call_id"] == (
        "de_w204518_1741079700.3101"
    )
    await wildix.post("presence_telephony_rt")
    assert line(hass, "201") == ("talking", "on", "on")
    assert hass.states.get("sensor.wildix_active_calls").state == "2"


async def test_telephony_presence_alone(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Users who only send telephony presence still get a correct phone state."""
    await wildix.post("presence_telephony_ringing")
    assert line(hass, "201") == ("ringing", "on", "off")
    await wildix.post("presence_telephony_talking")
    assert line(hass, "201") == ("talking", "off", "on")
    await wildix.post("presence_telephony_rt")
    assert line(hass, "201") == ("talking", "on", "on")
    await wildix.post("presence_telephony_registered")
    assert line(hass, "201") == IDLE


async def test_transfer_with_two_flows(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Alice transfers her caller to Bob; she leaves once Bob answers."""
    talking = await wildix.post("call_live_progress_talking")
    transfer = deepcopy(talking)
    transfer["time"] += 10_000
    flow = deepcopy(transfer["data"]["flows"][0])
    flow |= {"flowIndex": 1, "status": "CONNECTING", "talkTime": 0}
    flow["callee"] |= {"phone": "202", "name": "Bob Example", "userExtension": "202"}
    transfer["data"]["flows"].append(flow)
    await wildix.post(transfer)
    assert line(hass, "201") == ("talking", "off", "on")
    assert line(hass, "202") == ("ringing", "on", "off")

    answered = deepcopy(transfer)
    answered["time"] += 5_000
    answered["data"]["flows"][1]["status"] = "TALKING"
    await wildix.post(answered)
    assert line(hass, "201") == IDLE
    assert line(hass, "202") == ("talking", "off", "on")
    assert user_state(hass, "201", "last_call").attributes["missed"] is False
    assert hass.states.get("sensor.wildix_active_calls").state == "1"

    completed = load_event(
        "call_live_completed_inbound", time=answered["time"] + 30_000
    )
    completed["data"]["flows"] = answered["data"]["flows"]
    await wildix.post(completed)
    assert line(hass, "202") == IDLE
    assert hass.states.get("sensor.wildix_active_calls").state == "0"


async def test_same_call_from_both_families(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Legacy and live events of one call make one call, not two."""
    payloads = in_time_order(*INBOUND_BOTH_FAMILIES)
    for payload in payloads:
        await wildix.post(payload)
        assert int(hass.states.get("sensor.wildix_active_calls").state) <= 1
    assert line(hass, "201") == IDLE
    last = user_state(hass, "201", "last_call")
    assert last.attributes["duration"] == pytest.approx(61.738)
    assert user_state(hass, "201", "missed_calls").state == "0"


async def test_events_out_of_order(hass: HomeAssistant, wildix: WildixSender) -> None:
    """An end overtaking the updates ends the call; the late updates change nothing."""
    for name in (
        "call_end_inbound_answered",
        "call_update_inbound_talking",
        "call_update_inbound_ringing",
        "call_start_inbound",
    ):
        await wildix.post(name)
        assert line(hass, "201") == IDLE
    last = user_state(hass, "201", "last_call")
    assert last.state == "2025-03-04T09:15:00+00:00"
    assert last.attributes["duration"] == pytest.approx(61.706)


async def test_lost_end_expires(
    hass: HomeAssistant, wildix: WildixSender, freezer: FrozenDateTimeFactory
) -> None:
    """A call that never ends is closed after the stale-call timeout (4 h)."""
    await wildix.post("call_update_inbound_talking")
    freezer.tick(timedelta(hours=3, minutes=58))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert line(hass, "201") == ("talking", "off", "on")
    freezer.tick(timedelta(minutes=3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert line(hass, "201") == IDLE
    assert hass.states.get("sensor.wildix_active_calls").state == "0"
    assert user_state(hass, "201", "last_call").attributes["end_cause"] == "expired"


async def test_presence_changes(hass: HomeAssistant, wildix: WildixSender) -> None:
    """Presence shows status, message, until and location."""
    await wildix.post("presence_user_dnd")
    presence = user_state(hass, "201", "presence")
    assert presence.state == "dnd"
    assert presence.attributes["message"] == "Customer workshop"
    assert presence.attributes["until"] == dt_util.parse_datetime(
        "2025-03-04T13:00:00+00:00"
    )
    assert presence.attributes["location"] is None
    await wildix.post("presence_user_available")
    presence = user_state(hass, "201", "presence")
    assert presence.state == "available"
    assert presence.attributes["message"] is None
    assert presence.attributes["until"] is None

    await wildix.post("presence_user_available_with_location")
    carol = user_state(hass, "203", "presence")
    assert carol.attributes["location"] == {
        "address": "Example Strasse 1, 10115 Berlin",
        "latitude": 52.5321,
        "longitude": 13.3849,
    }


async def test_unknown_presence_status(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A status we do not know shows as unknown with the raw value kept."""
    payload = load_event("presence_user_away")
    payload["data"]["status"] = "in-a-meeting"
    await wildix.post(payload)
    presence = user_state(hass, "202", "presence")
    assert presence.state == "unknown"
    assert presence.attributes["status"] == "in-a-meeting"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_state_writes_only_on_change(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Entities write state only when what they show changed."""
    await wildix.post("presence_user_dnd")
    writes: list[Any] = []
    hass.bus.async_listen("state_changed", writes.append)
    await wildix.post("presence_user_dnd", time=1741089605318)
    assert [event.data["entity_id"] for event in writes] == ["sensor.wildix_last_event"]
