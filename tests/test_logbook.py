"""Logbook: call moments read as sentences about the user."""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    CLIENT_ID,
    MockConfigEntry,
    MockUser,
    async_capture_events,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .calls import INBOUND_ANSWERED, INBOUND_MISSED, INTERNAL, OUTBOUND
from .common import (
    ENTRY_ID,
    SECRET,
    START,
    WEBHOOK_ID,
    WildixSender,
    add_entry,
    entry_data,
    load_event,
)
from .fake_pbx import FakePbx
from .inbox_events import voicemail_completed
from .moments import BOB, device_id, flow, live_event


@pytest.fixture(autouse=True)
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """Prepare the recorder's database before Home Assistant starts."""


type Logbook = Callable[[], Awaitable[list[str]]]


@pytest.fixture
async def logbook(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
) -> Logbook:
    """Set up the logbook over a real recorder; return a reader of its Wildix lines."""
    hass.config.components.add("frontend")  # the panel is not what is tested here
    assert await async_setup_component(hass, "logbook", {})

    async def read() -> list[str]:
        await async_wait_recording_done(hass)
        # The frozen clock outruns the fixture's token, so sign in now.
        refresh = await hass.auth.async_create_refresh_token(hass_admin_user, CLIENT_ID)
        client = await hass_client(hass.auth.async_create_access_token(refresh))
        end = dt_util.utcnow() + timedelta(hours=1)
        response = await client.get(
            f"/api/logbook/{START.isoformat()}", params={"end_time": end.isoformat()}
        )
        assert response.status == 200
        entries: list[dict[str, Any]] = await response.json()
        return [
            f"{entry['name']}: {entry['message']}"
            for entry in entries
            if entry.get("domain") == "wildix"
        ]

    return read


async def test_a_day_of_calls(
    logbook: Logbook,  # first: the recorder starts before the integration
    hass: HomeAssistant,
    wildix: WildixSender,
) -> None:
    """Inbound answered, outbound, missed and internal calls, as the logbook tells them."""
    await wildix.post_all(*INBOUND_ANSWERED, *OUTBOUND, *INBOUND_MISSED, *INTERNAL)
    assert await logbook() == [
        "Alice Example: incoming call from +4930555010203",
        "Alice Example: answered the call with +4930555010203",
        "Alice Example: call with +4930555010203 ended (1 min 2 s)",
        "Bob Example: outgoing call to +4989555123456",
        "Bob Example: call to +4989555123456 answered",
        "Bob Example: call with +4989555123456 ended (3 min 7 s)",
        "Alice Example: incoming call from +4940555777888",
        "Alice Example: missed a call from +4940555777888",
        "Alice Example: call with +4940555777888 ended unanswered",
        "Carol Example: outgoing call to 202",
        "Bob Example: incoming call from Carol Example (203)",
        "Carol Example: call with Bob Example (202) ended (5 s)",
        "Bob Example: call with Carol Example (203) ended (5 s)",
    ]


async def test_names_follow_the_device_registry(
    logbook: Logbook,  # first: the recorder starts before the integration
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
) -> None:
    """A renamed device shows its new name; a deleted one its extension."""
    hass.config_entries.async_update_entry(
        setup_integration, options={"show_remote": False}
    )
    await hass.async_block_till_done()
    talking = await wildix.post("call_live_progress_talking")
    registry = dr.async_get(hass)
    registry.async_update_device(
        device_id(hass, f"{ENTRY_ID}_201"), name_by_user="Reception desk"
    )
    await wildix.post(
        live_event(
            talking["time"] + 10_000,
            flow(0, "TALKING"),
            flow(1, "CONNECTING", callee=BOB),
        )
    )
    registry.async_remove_device(device_id(hass, f"{ENTRY_ID}_202"))
    assert await logbook() == [
        "Reception desk: incoming call from an outside caller",
        "Reception desk: answered the call with an outside caller",
        "Extension 202: incoming call from an outside caller",
    ]


async def test_long_and_hand_fired_events(
    logbook: Logbook,  # first: the recorder starts before the integration
    hass: HomeAssistant,
    wildix: WildixSender,
) -> None:
    """Hours and a bare hand-fired event (as from Developer tools) still read well."""
    start = await wildix.post("call_start_outbound")
    await wildix.post(load_event("call_end_outbound", time=start["time"] + 3_723_400))
    hass.bus.async_fire("wildix_event", {"type": "call_ended", "extension": "204"})
    hass.bus.async_fire(
        "wildix_event", {"type": "call_ended", "extension": "204", "duration": 120.2}
    )
    hass.bus.async_fire(
        "wildix_event", {"type": "dialled", "direction": "outbound", "extension": "204"}
    )
    hass.bus.async_fire(
        "wildix_event",
        {"type": "call_answered", "direction": "internal", "remote_name": "Dan"},
    )
    assert await logbook() == [
        "Bob Example: outgoing call to +4989555123456",
        "Bob Example: call with +4989555123456 ended (1 h 2 min 3 s)",
        "Extension 204: call with an outside party ended",
        "Extension 204: call with an outside party ended (2 min)",
        "Extension 204: call event dialled with an outside number",
        "Wildix: answered the call with Dan",
    ]


OUTSIDE = {
    "type": "REMOTE",
    "phone": "+393331234567",
    "name": "Dave Mobile",
    "role": "CLIENT",
}


def _internal_call(
    time_ms: int, call_id: str, *flows: dict[str, Any], kind: str
) -> dict[str, Any]:
    """Return a live event of an internal call of Carol's with the given flows."""
    payload = load_event("call_live_progress_internal", type=kind, time=time_ms)
    payload["id"] = call_id
    payload["data"] |= {"id": call_id, "time": time_ms - 30, "flows": list(flows)}
    return payload


def _internal_flow(index: int, status: str, **changes: Any) -> dict[str, Any]:
    base = load_event("call_live_progress_internal")["data"]["flows"][0]
    return base | {"flowIndex": index, "status": status} | changes


async def test_a_forwarded_internal_call_keeps_outside_parties_hidden(
    logbook: Logbook,  # first: the recorder starts before the integration
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
) -> None:
    """An internal call that ends up with an outside number shows it nowhere when hidden.

    Carol calls Bob, whose phone forwards to his mobile; then Carol dials a number the
    PBX reports as an internal call to an outside destination.
    """
    hass.config_entries.async_update_entry(
        setup_integration, options={"show_remote": False}
    )
    await hass.async_block_till_done()
    events = async_capture_events(hass, "wildix_event")
    start = load_event("call_live_progress_internal")["time"]
    forwarded = _internal_flow(
        1,
        "TALKING",
        callee=OUTSIDE,
        remotePhone=OUTSIDE["phone"],
        talkTime=4000,
    )
    for kind, offset, flows in (
        ("call:live:progress", 0, [_internal_flow(0, "CONNECTING")]),
        ("call:live:progress", 5000, [_internal_flow(0, "CONNECTING"), forwarded]),
        ("call:live:completed", 30000, [_internal_flow(0, "CONNECTING"), forwarded]),
    ):
        await wildix.post(
            _internal_call(start + offset, "forwarded", *flows, kind=kind)
        )
    dialled = _internal_flow(
        0,
        "TALKING",
        callee=None,
        destination=OUTSIDE["phone"],
        remotePhone=OUTSIDE["phone"],
        talkTime=2000,
    )
    for kind, offset in (("call:live:progress", 60000), ("call:live:completed", 90000)):
        await wildix.post(_internal_call(start + offset, "dialled", dialled, kind=kind))

    lines = await logbook()
    assert len(lines) >= 6
    assert {event.data["call_id"] for event in events} == {"forwarded", "dialled"}
    seen = [
        *lines,
        *(repr(event.data) for event in events),
        *(repr(state.as_dict()) for state in hass.states.async_all()),
    ]
    leaks = [text for text in seen if "1234567" in text or "Dave" in text]
    assert leaks == []


async def test_a_voicemail(
    logbook: Logbook,  # first: the recorder starts before the integration
    hass: HomeAssistant,
    wildix: WildixSender,
) -> None:
    """A missed call that left a voicemail says so, once."""
    await wildix.post_all(*INBOUND_MISSED)
    await wildix.post(voicemail_completed(None, shape="flag", time_ms=1741082600000))
    assert (await logbook())[-1:] == [
        "Alice Example: got a voicemail from +4940555777888"
    ]


async def test_numbers_get_names_from_the_phonebooks(
    logbook: Logbook,  # first: the recorder starts before the integration
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A caller the event does not name is told by the name a phonebook gives it."""
    pbx.contacts = [
        {
            "id": "17",
            "name": "Noor Haddad",
            "organization": "Haddad Logistik",
            "mobile": "040 555 777888",
        }
    ]
    hass.config.country = "DE"
    assert await async_setup_component(hass, "webhook", {})
    await add_entry(hass, pbx, **entry_data())
    await hass.async_block_till_done(wait_background_tasks=True)
    sender = WildixSender(
        hass, await hass_client_no_auth(), freezer, WEBHOOK_ID, SECRET
    )
    await sender.post_all(*INBOUND_MISSED)
    caller = "Noor Haddad (Haddad Logistik) (+4940555777888)"
    assert await logbook() == [
        f"Alice Martin: incoming call from {caller}",
        f"Alice Martin: missed a call from {caller}",
        f"Alice Martin: call with {caller} ended unanswered",
    ]
