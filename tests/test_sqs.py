"""The SQS transport: events polled from a real SQS API (moto) on loopback."""

import asyncio
from collections.abc import AsyncGenerator
from datetime import timedelta
import gc
import logging
import socket
from typing import Any
from unittest.mock import patch

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components import wildix as wildix_setup
from custom_components.wildix import hub
from custom_components.wildix.const import DOMAIN, EVENT_CALL, EVENT_WEBHOOK

from .calls import INBOUND_BOTH_FAMILIES, INBOUND_TELEPHONY
from .common import ENTRY_ID, WildixSender, event_time, in_time_order, load_event, sign
from .moto_sqs import (
    READ_PERMISSIONS,
    SQS_ENTRY_ID,
    SQS_MESSAGE,
    SQS_SECRET,
    MotoSqs,
    WildixQueueSender,
    poll,
    sqs_data,
    sqs_entity,
)

# Calls of every kind (all five call moments), presence of both kinds, an unmodelled event.
SCENARIO = (
    "call_start_inbound",
    "call_update_inbound_ringing",
    "presence_telephony_ringing",
    "call_update_inbound_talking",
    "call_live_progress_talking",
    "call_end_inbound_answered",
    "call_completed_inbound_answered_recorded",
    "call_start_outbound",
    "call_end_outbound",
    "call_start_inbound_missed",
    "call_end_inbound_missed",
    "presence_user_dnd",
    "presence_user_available_with_location",
    "chat_channel_created",
)
SQS_LOGGER = "custom_components.wildix.sqs"


@pytest.fixture(autouse=True)
async def unload_entries(hass: HomeAssistant, moto: MotoSqs) -> AsyncGenerator[None]:
    """Unload loaded entries while the server still runs, closing their clients."""
    yield
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)


def _states(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    """Return state and attributes of an entry's entities, keyed by unique id without the entry id."""
    registry = er.async_get(hass)
    states = {}
    for entry in er.async_entries_for_config_entry(registry, entry_id):
        state = hass.states.get(entry.entity_id)
        assert state is not None
        states[entry.unique_id.removeprefix(entry_id)] = (
            state.state,
            dict(state.attributes),
        )
    return states


def _data(events: list[Event], entry_id: str) -> list[dict[str, Any]]:
    """Return the data of an entry's bus events, without what names the entry."""
    return [
        {
            key: value
            for key, value in event.data.items()
            if key not in ("config_entry_id", "device_id")
        }
        for event in events
        if event.data["config_entry_id"] == entry_id
    ]


@pytest.mark.usefixtures("setup_sqs")
async def test_wildix_message_reaches_entities(
    hass: HomeAssistant,
    queue: WildixQueueSender,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The fixture message, as Wildix signed it, rings Alice's phone and leaves the queue."""
    raw = async_capture_events(hass, EVENT_WEBHOOK)
    await queue.send_raw(
        SQS_MESSAGE["Body"],
        SQS_MESSAGE["MessageAttributes"]["X-SIGNATURE"]["StringValue"],
    )
    await poll(hass, freezer)
    assert (
        hass.states.get(sqs_entity(hass, "sensor", "201", "phone")).state == "ringing"
    )
    assert [event.data["data"] for event in raw] == [
        load_event("presence_telephony_ringing")["data"]
    ]
    assert await queue.counts() == (0, 0)


@pytest.mark.usefixtures("setup_sqs")
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_sqs_delivers_exactly_like_the_webhook(
    hass: HomeAssistant,
    wildix: WildixSender,
    queue: WildixQueueSender,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every fixture event through SQS and through the webhook: same states, same bus events."""
    raw = async_capture_events(hass, EVENT_WEBHOOK)
    moments = async_capture_events(hass, EVENT_CALL)
    for name in SCENARIO:
        payload = await queue.send(name, follow_clock=False)
        # Both transports take the event at the same instant, the poller's next round.
        freezer.move_to(
            max(
                event_time(payload) + timedelta(milliseconds=150),
                dt_util.utcnow() + timedelta(seconds=1),
            )
        )
        await poll(hass, freezer, 0)
        await wildix.post(payload, follow_clock=False)

    assert _states(hass, SQS_ENTRY_ID) == _states(hass, ENTRY_ID)
    assert _data(raw, SQS_ENTRY_ID) == _data(raw, ENTRY_ID)
    assert len(_data(raw, SQS_ENTRY_ID)) == len(SCENARIO)
    assert _data(moments, SQS_ENTRY_ID) == _data(moments, ENTRY_ID)
    assert {moment["type"] for moment in _data(moments, SQS_ENTRY_ID)} == {
        "incoming_call",
        "outgoing_call",
        "call_answered",
        "missed_call",
        "call_ended",
    }
    assert await queue.counts() == (0, 0)


async def test_unsigned_and_malformed_messages_are_dropped(
    hass: HomeAssistant,
    setup_sqs: MockConfigEntry,
    queue: WildixQueueSender,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Wrong or missing signatures and signed non-events are counted, deleted and change nothing."""
    raw = async_capture_events(hass, EVENT_WEBHOOK)
    body = SQS_MESSAGE["Body"]
    await queue.send_raw(body, "0" * 64)
    await queue.send_raw(body, None)
    tampered = body.replace("ringing", "talking")
    await queue.send_raw(tampered, sign(body.encode(), SQS_SECRET))
    await queue.send_raw("not json", sign(b"not json", SQS_SECRET))
    await poll(hass, freezer)

    counters = setup_sqs.runtime_data.deliveries.counters
    assert counters["rejected_signature"] == 3
    assert counters["rejected_malformed"] == 1
    assert counters["accepted"] == 0
    assert raw == []
    registry = er.async_get(hass)
    assert (
        registry.async_get_entity_id("sensor", DOMAIN, f"{SQS_ENTRY_ID}_201_phone")
        is None
    )
    assert await queue.counts() == (0, 0)


@pytest.mark.usefixtures("setup_sqs")
async def test_message_that_breaks_processing_is_dropped(
    hass: HomeAssistant,
    queue: WildixQueueSender,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A message the integration fails on is logged and deleted; polling goes on."""
    decode_event = hub.decode_event
    failures = iter([RuntimeError("a bug")])

    def decode_with_one_bug(body: bytes) -> Any:
        if (failure := next(failures, None)) is not None:
            raise failure
        return decode_event(body)

    with patch.object(hub, "decode_event", side_effect=decode_with_one_bug):
        await queue.send("presence_user_dnd")
        await queue.send("presence_telephony_ringing")
        await poll(hass, freezer)
    assert "Dropped an SQS message that could not be processed" in caplog.text
    assert (
        hass.states.get(sqs_entity(hass, "sensor", "201", "phone")).state == "ringing"
    )
    assert await queue.counts() == (0, 0)


async def test_duplicate_message_is_taken_once(
    hass: HomeAssistant,
    setup_sqs: MockConfigEntry,
    queue: WildixQueueSender,
    freezer: FrozenDateTimeFactory,
) -> None:
    """SQS may deliver a message twice: the second copy is dropped and deleted."""
    raw = async_capture_events(hass, EVENT_WEBHOOK)
    payload = await queue.send("call_start_inbound")
    await queue.send(payload)
    await poll(hass, freezer)
    assert len(raw) == 1
    assert setup_sqs.runtime_data.deliveries.counters["duplicate"] == 1
    assert await queue.counts() == (0, 0)


async def test_backlog_is_drained_without_stale_triggers(
    hass: HomeAssistant,
    sqs_entry: MockConfigEntry,
    queue: WildixQueueSender,
    moto: MotoSqs,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A call Wildix queued while Home Assistant was off updates state but fires no triggers."""
    call = in_time_order(*INBOUND_BOTH_FAMILIES, *INBOUND_TELEPHONY)
    for payload in call:
        await queue.send(payload)
    freezer.tick(timedelta(hours=1))
    raw = async_capture_events(hass, EVENT_WEBHOOK)
    moments = async_capture_events(hass, EVENT_CALL)

    assert await hass.config_entries.async_setup(sqs_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert len(raw) == len(call) > 10
    assert moments == []
    last_call = hass.states.get(sqs_entity(hass, "sensor", "201", "last_call"))
    assert last_call.attributes["direction"] == "inbound"
    assert last_call.attributes["missed"] is False
    assert hass.states.get(sqs_entity(hass, "sensor", "201", "phone")).state == "idle"
    assert await queue.counts() == (0, 0)
    # Ten messages a round: the backlog took two rounds and an empty one.
    assert moto.actions["ReceiveMessage"] == 3


@pytest.mark.usefixtures("setup_sqs")
async def test_empty_queue_is_polled_without_busy_loop(
    hass: HomeAssistant,
    moto: MotoSqs,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A server that answers an empty poll at once is asked again only a second later."""
    assert moto.actions["ReceiveMessage"] == 1
    await poll(hass, freezer, 0.4)
    assert moto.actions["ReceiveMessage"] == 1
    await poll(hass, freezer, 0.6)
    assert moto.actions["ReceiveMessage"] == 2


@pytest.mark.usefixtures("setup_sqs")
async def test_server_goes_away_and_comes_back(
    hass: HomeAssistant,
    queue: WildixQueueSender,
    moto: MotoSqs,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Entities go unavailable while the queue is unreachable, retries back off, then recover."""
    caplog.set_level(logging.DEBUG, logger=SQS_LOGGER)
    await queue.send("presence_telephony_ringing")
    await poll(hass, freezer)
    phone = sqs_entity(hass, "sensor", "201", "phone")
    assert hass.states.get(phone).state == "ringing"

    moto.stop()
    await poll(hass, freezer)
    assert hass.states.get(phone).state == STATE_UNAVAILABLE
    for delay in (2, 4, 8, 16, 32, 64, 120, 120):
        await poll(hass, freezer, delay)
    assert _retry_delays(caplog) == [2, 4, 8, 16, 32, 64, 120, 120, 120]

    moto.start()
    await poll(hass, freezer, 119)
    assert hass.states.get(phone).state == STATE_UNAVAILABLE
    await poll(hass, freezer, 1)
    assert hass.states.get(phone).state == "ringing"
    await queue.send("presence_telephony_talking")
    await poll(hass, freezer)
    assert hass.states.get(phone).state == "talking"

    messages = [
        record.getMessage() for record in caplog.records if record.name == SQS_LOGGER
    ]
    assert sum(message.startswith("Cannot poll") for message in messages) == 1
    assert sum(message.endswith("works again") for message in messages) == 1


def _retry_delays(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [
        int(record.args[1])
        for record in caplog.records
        if record.name == SQS_LOGGER and record.msg.startswith("Polling %s again")
    ]


async def test_unload_stops_polling(
    hass: HomeAssistant,
    setup_sqs: MockConfigEntry,
    queue: WildixQueueSender,
    moto: MotoSqs,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After unload nothing polls: no receive call, no task, messages stay queued."""
    assert await hass.config_entries.async_unload(setup_sqs.entry_id)
    receives = moto.actions["ReceiveMessage"]
    await queue.send("call_start_inbound")
    await poll(hass, freezer, 3600)
    assert moto.actions["ReceiveMessage"] == receives
    assert await queue.counts() == (1, 0)
    assert not _poll_tasks()


async def test_unload_during_a_long_poll_ends_it(
    hass: HomeAssistant,
    setup_sqs: MockConfigEntry,
    moto: MotoSqs,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unloading while a poll waits for its answer cancels it and closes the client."""
    moto.stop()
    # A listener that never answers holds the next poll as a long poll would.
    with socket.create_server(("127.0.0.1", moto.port)):
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await asyncio.sleep(0)
        assert _poll_tasks()
        assert await hass.config_entries.async_unload(setup_sqs.entry_id)
        assert not _poll_tasks()


def _poll_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if "SQS poll" in task.get_name()]


async def test_setup_retries_until_the_queue_can_be_reached(
    hass: HomeAssistant,
    sqs_entry: MockConfigEntry,
    moto: MotoSqs,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An unreachable queue at setup means not ready; setup succeeds once it is back."""
    moto.stop()
    await hass.config_entries.async_setup(sqs_entry.entry_id)
    assert sqs_entry.state is ConfigEntryState.SETUP_RETRY
    assert "Could not reach the SQS queue wildix" in str(sqs_entry.reason)
    moto.start()
    await poll(hass, freezer, 10)
    assert sqs_entry.state is ConfigEntryState.LOADED


async def test_setup_with_missing_queue_retries(
    hass: HomeAssistant, queue_url: str
) -> None:
    """A queue that does not exist (yet) means not ready."""
    entry = MockConfigEntry(
        domain=DOMAIN, data=sqs_data(queue_url.replace("wildix", "other"))
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "does not exist" in str(entry.reason)


async def test_refused_keys_at_setup_start_reauth(
    hass: HomeAssistant, moto: MotoSqs, queue_url: str
) -> None:
    """Keys AWS refuses fail setup and ask the user for new ones."""
    moto.require_auth()
    entry = MockConfigEntry(domain=DOMAIN, data=sqs_data(queue_url))
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [(flow["context"]["source"], flow["step_id"]) for flow in flows] == [
        (SOURCE_REAUTH, "reauth_confirm")
    ]


async def test_revoked_keys_while_polling_ask_for_new_ones(
    hass: HomeAssistant,
    moto: MotoSqs,
    queue_url: str,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Revoked keys make entities unavailable and start reauth once; new keys restart polling."""
    moto.require_auth()
    key_id, secret = moto.create_key("homeassistant", READ_PERMISSIONS)
    entry = MockConfigEntry(
        domain=DOMAIN, entry_id=SQS_ENTRY_ID, data=sqs_data(queue_url, key_id, secret)
    )
    entry.add_to_hass(hass)
    sender = WildixQueueSender(hass, moto, freezer, queue_url, secret)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await sender.send("presence_telephony_ringing")
    await poll(hass, freezer)
    phone = sqs_entity(hass, "sensor", "201", "phone")
    assert hass.states.get(phone).state == "ringing"

    await hass.async_add_executor_job(moto.delete_key, "homeassistant", key_id)
    await poll(hass, freezer)
    await poll(hass, freezer, 2)
    assert hass.states.get(phone).state == STATE_UNAVAILABLE
    await poll(hass, freezer, 4)
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH

    # The admin gives Wildix and Home Assistant a new key; the entry restarts with it.
    key_id, secret = await hass.async_add_executor_job(
        moto.create_key, "homeassistant-2", READ_PERMISSIONS
    )
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"access_key_id": key_id, "secret_access_key": secret}
    )
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(phone).state == "ringing"
    sender.secret = secret
    await sender.send("presence_telephony_talking")
    await poll(hass, freezer)
    assert hass.states.get(phone).state == "talking"


def _open_http_sessions() -> int:
    return sum(
        isinstance(obj, aiohttp.ClientSession) and not obj.closed
        for obj in gc.get_objects()
    )


async def test_failed_platform_setup_closes_the_client(
    hass: HomeAssistant, sqs_entry: MockConfigEntry, moto: MotoSqs
) -> None:
    """Setup that fails after the queue answered (here a platform that cannot load) closes the client."""
    gc.collect()
    before = _open_http_sessions()
    with patch.object(
        wildix_setup, "PLATFORMS", [*wildix_setup.PLATFORMS, "no_such_platform"]
    ):
        await hass.config_entries.async_setup(sqs_entry.entry_id)
    await hass.async_block_till_done()
    assert moto.actions["GetQueueAttributes"] == 1
    assert sqs_entry.state is ConfigEntryState.SETUP_ERROR
    gc.collect()
    assert _open_http_sessions() == before
