"""What the raw pass-through and the call events tell, and what privacy leaves out of them."""

from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.wildix.protocol import (
    CallEvent,
    Direction,
    LegStatus,
    decode_event,
)

from .common import FIXTURES, WildixSender, compact, load_event, user_state

CALLER_DIGITS = "4930555010203"
RECORDING = "call_completed_inbound_answered_recorded"


async def _options(hass: HomeAssistant, entry: MockConfigEntry, **options: Any) -> None:
    hass.config_entries.async_update_entry(entry, options=options)
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    "fixture",
    [
        RECORDING,
        "call_live_progress_talking",
        "call_end_inbound_answered",
        "call_transcription_completed",
        "call_live_transcription",
    ],
)
async def test_pass_through_hides_outside_parties(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    fixture: str,
) -> None:
    """With outside parties hidden, wildix_webhook carries neither their numbers nor names."""
    await _options(hass, setup_integration, show_remote=False)
    received = async_capture_events(hass, "wildix_webhook")
    payload = await wildix.post(fixture)
    assert CALLER_DIGITS in compact(payload).decode()

    (event,) = received
    text = compact(event.data).decode()
    assert CALLER_DIGITS not in text
    assert event.data["type"] == payload["type"]
    assert event.data["id"] == payload["id"]
    if "Alice Example" in compact(payload).decode():
        assert "Alice Example" in text  # colleagues stay


async def test_pass_through_is_complete_when_outside_parties_are_shown(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """By default the pass-through is the delivery's data, unchanged but for file links."""
    received = async_capture_events(hass, "wildix_webhook")
    payload = await wildix.post(RECORDING)
    expected = payload["data"]
    for item in expected["flows"][0]["recordingsData"]:
        del item["url"]
    assert [event.data["data"] for event in received] == [expected]


async def test_pass_through_can_be_turned_off(
    hass: HomeAssistant, setup_integration: MockConfigEntry, wildix: WildixSender
) -> None:
    """Off: no wildix_webhook at all, while entities and call events go on."""
    await _options(hass, setup_integration, pass_through=False)
    received = async_capture_events(hass, "wildix_webhook")
    calls = async_capture_events(hass, "wildix_event")
    await wildix.post("call_live_progress_talking")
    assert received == []
    assert [event.data["type"] for event in calls] == [
        "incoming_call",
        "call_answered",
    ]
    assert user_state(hass, "201", "phone").state == "talking"

    await _options(hass, setup_integration, pass_through=True)
    await wildix.post("presence_user_dnd")
    assert [event.data["type"] for event in received] == ["presence:user"]


@pytest.mark.parametrize("show_remote", [True, False])
async def test_recordings_reach_call_events_and_the_last_call(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    show_remote: bool,
) -> None:
    """A stored call's recordings are in call_ended and the last call as media ids.

    The PBX's link never shows; the file name (the caller's number) only if shown.
    """
    await _options(hass, setup_integration, show_remote=show_remote)
    calls = async_capture_events(hass, "wildix_event")
    await wildix.post("call_live_progress_talking")
    payload = await wildix.post(RECORDING)
    recording = payload["data"]["flows"][0]["recordingsData"][0]
    (ended,) = [event for event in calls if event.data["type"] == "call_ended"]
    (file,) = ended.data["attachments"]
    assert file["type"] == "recording"
    assert file["name"] == (recording["fileName"] if show_remote else None)
    assert file["media_content_id"].startswith(
        f"media-source://wildix/{setup_integration.entry_id}/201/recording/"
    )
    assert "url" not in file
    last_call = user_state(hass, "201", "last_call")
    assert last_call.attributes["attachments"] == ended.data["attachments"]
    assert last_call.attributes["missed"] is False


async def test_recordings_and_voicemails_of_attachments(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """`attachments[]` (voicemail, recording) show as well, each file once."""
    payload = load_event("call_completed_inbound_missed")
    flow = payload["data"]["flows"][0]
    voicemail = "https://pbx.example.com/voicemail/201/msg0001.wav"
    flow["attachments"] = [
        {"type": "VOICEMAIL", "url": voicemail, "fileName": "msg0001.wav"},
        {"type": "voicemail", "url": voicemail, "fileName": "msg0001.wav"},
        "not a file",
        {"type": "fax"},
    ]
    calls = async_capture_events(hass, "wildix_event")
    await wildix.post("call_start_inbound_missed")
    await wildix.post(payload)
    (announced,) = [event for event in calls if event.data["type"] == "voicemail"]
    expected = [
        {
            "type": "voicemail",
            "name": "msg0001.wav",
            "time": "2025-03-04T10:02:00.205000+00:00",
            "media_content_id": announced.data["media_content_id"],
        }
    ]
    assert {event.data["type"] for event in calls} >= {"missed_call", "call_ended"}
    for event in calls:
        if event.data["type"] in ("missed_call", "call_ended"):
            assert event.data["attachments"] == expected
    assert user_state(hass, "201", "last_call").attributes["attachments"] == expected


def test_stored_flows_are_no_unknown_legs() -> None:
    """Analytics flows carry no status: they are ended legs, not legs of unknown state."""
    body = (FIXTURES / f"{RECORDING}.json").read_bytes()
    event = decode_event(body)
    assert isinstance(event.body, CallEvent)
    assert [flow.status for flow in event.body.flows] == [LegStatus.ENDED]


async def test_undefined_direction_is_taken_from_the_parties(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Direction UNDEFINED (listed by Wildix's history API) reads from who called whom."""
    payload = load_event("call_live_progress_talking")
    payload["data"]["flows"][0]["direction"] = "UNDEFINED"
    await wildix.post(payload)
    phone = user_state(hass, "201", "phone")
    assert phone.state == "talking"
    assert phone.attributes["direction"] == Direction.INBOUND


UNANSWERED_INTERNAL = (
    "call_start_internal",
    "call_update_internal_ringing",
    "call_end_internal_rejected",
)


@pytest.mark.parametrize("missed_internal", [False, True])
async def test_unanswered_internal_call_is_missed_only_if_asked(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    missed_internal: bool,
) -> None:
    """A colleague's unanswered call is a missed call for its callee only with the option."""
    await _options(hass, setup_integration, missed_internal=missed_internal)
    calls = async_capture_events(hass, "wildix_event")
    for name in UNANSWERED_INTERNAL:
        await wildix.post(name)
    missed = [
        event.data["extension"]
        for event in calls
        if event.data["type"] == "missed_call"
    ]
    assert missed == (["202"] if missed_internal else [])
    assert user_state(hass, "202", "last_call").attributes["missed"] is missed_internal
    assert user_state(hass, "203", "last_call").attributes["missed"] is False
    assert user_state(hass, "202", "missed_calls").state == str(int(missed_internal))
