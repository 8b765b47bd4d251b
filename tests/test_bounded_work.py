"""A buggy or compromised PBX with the secret cannot make one entry grow, stall or freeze."""

from collections import Counter
from copy import deepcopy
from datetime import UTC, datetime, timedelta
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import (
    device_registry as dr,
    entity_platform,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.wildix.binary_sensor import WildixBinarySensor
from custom_components.wildix.diagnostics import async_get_config_entry_diagnostics
from custom_components.wildix.model import (
    DEFAULT_MAX_USERS,
    MAX_CALL_PARTIES,
    MAX_NEW_USERS_PER_EVENT,
    MAX_USERS,
    PbxModel,
    User,
)
from custom_components.wildix.persistence import model_as_dict
from custom_components.wildix.protocol import parse_event

from .common import (
    ENTRY_ID,
    SECRET,
    START,
    WEBHOOK_ID,
    WildixSender,
    event_time,
    line,
    load_event,
    user_state,
)
from .test_options import DEFAULTS
from .workload import Workload

STORE = f"wildix.{ENTRY_ID}"


def _user_devices(hass: HomeAssistant) -> dict[str, dr.DeviceEntry]:
    """Return the user devices of the entry by extension."""
    prefix = f"{ENTRY_ID}_"
    return {
        identifier.removeprefix(prefix): device
        for device in dr.async_entries_for_config_entry(dr.async_get(hass), ENTRY_ID)
        for _, identifier in device.identifiers
        if identifier.startswith(prefix)
    }


def _entities_of(hass: HomeAssistant, device: dr.DeviceEntry) -> int:
    return len(er.async_entries_for_device(er.async_get(hass), device.id))


def _presence(extension: str, **data: Any) -> dict[str, Any]:
    """Return a presence event of any extension."""
    payload = load_event("presence_user_dnd")
    payload["data"] |= {"extension": extension, **data}
    return payload


def _ringing_call(*extensions: str, **callee: Any) -> dict[str, Any]:
    """Return a live call ringing the given local extensions at once."""
    payload = load_event("call_live_progress_ringing_inbound")
    # Only what makes a party local, so that 2,000 flows fit a delivery.
    template = {
        "caller": {"type": "REMOTE", "phone": "+4930555010203"},
        "callee": {"type": "LOCAL"},
        "direction": "INBOUND",
        "status": "CONNECTING",
    }
    flows = []
    for index, extension in enumerate(extensions):
        flow = deepcopy(template)
        flow["flowIndex"] = index
        flow["callee"] |= {"phone": extension, "userExtension": extension, **callee}
        flows.append(flow)
    payload["data"]["flows"] = flows
    return payload


async def test_absurd_numbers_do_not_stop_saving(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A duration of 1e300 is ignored; the call and everything after it are saved."""
    for name in ("call_live_progress_talking", "call_live_completed_inbound"):
        payload = load_event(name)
        for flow in payload["data"]["flows"]:
            flow |= {"duration": 1e300, "talkTime": -5, "flowIndex": 1e300}
        await wildix.post(payload)
    await wildix.post("presence_user_away")
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    saved = {user["extension"]: user for user in hass_storage[STORE]["data"]["users"]}
    assert saved["201"]["last_call"]["call_id"] == "de_w204518_1741079700.3101"
    assert saved["202"]["presence"]["status"] == "away"
    assert await hass.config_entries.async_reload(setup_integration.entry_id)
    await hass.async_block_till_done()
    assert user_state(hass, "202", "presence").state == "away"


def test_one_value_that_cannot_be_stored_loses_only_its_user() -> None:
    """Should a value JSON cannot hold reach the model, the other users are still saved."""
    model = PbxModel()
    model.users["201"] = User("201", name="Alice")
    model.users["202"] = User("202", telephony_ms=10**30)
    saved = model_as_dict(model)
    assert [user["extension"] for user in saved["users"]] == ["201"]


async def test_users_beyond_the_limit_are_ignored_and_reported(
    hass: HomeAssistant,
    wildix: WildixSender,
    setup_integration: MockConfigEntry,
) -> None:
    """Past the user limit no device is made, a repair issue says so, options fix it."""
    hass.config_entries.async_update_entry(
        setup_integration, options=DEFAULTS | {"max_users": 2}
    )
    await hass.async_block_till_done()
    for extension in ("201", "202", "203", "204"):
        await wildix.post(_presence(extension), follow_clock=False)

    assert sorted(_user_devices(hass)) == ["201", "202"]
    issue_id = f"too_many_users_{ENTRY_ID}"
    issue = ir.async_get(hass).async_get_issue("wildix", issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"title": "Wildix", "max_users": "2"}
    diagnostics = await async_get_config_entry_diagnostics(hass, setup_integration)
    assert diagnostics["pbx"]["ignored_users"] == 2

    hass.config_entries.async_update_entry(
        setup_integration, options=DEFAULTS | {"max_users": 1}
    )
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue("wildix", issue_id) is None
    devices = _user_devices(hass)
    assert sorted(devices) == ["201"]
    assert _entities_of(hass, devices["201"]) == 13


async def test_default_user_limit_fits_the_entities_home_assistant_allows(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """At the default limit (and the highest allowed) every user has all its entities."""
    await wildix.post("presence_user_dnd")
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), ENTRY_ID)
    per_device = {device.name: _entities_of(hass, device) for device in devices}
    per_user = per_device.pop("Extension 201")
    pbx = per_device.pop("Wildix")
    limit = getattr(entity_platform, "MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY", 10_000)
    assert DEFAULT_MAX_USERS < MAX_USERS
    assert MAX_USERS * per_user + pbx <= limit


async def test_one_call_ringing_thousands_of_extensions_stays_cheap(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A call naming 2,000 local parties makes a bounded number of users, quickly."""
    payload = _ringing_call(*(str(1000 + number) for number in range(2000)))
    # CPU time: the frozen clock stops wall-clock timers, and load cannot inflate it.
    started = time.process_time()
    await wildix.post(payload)
    elapsed = time.process_time() - started
    assert len(_user_devices(hass)) == MAX_NEW_USERS_PER_EVENT
    # Generous for a slow CI machine; unbounded, this took seconds.
    assert elapsed < 1

    # The call's next events add the others, up to the parties one call can have.
    for _ in range(9):
        payload["time"] += 1000
        await wildix.post(payload, follow_clock=False)
    devices = _user_devices(hass)
    assert len(devices) == MAX_CALL_PARTIES
    assert all(_entities_of(hass, device) == 13 for device in devices.values())
    assert (
        sum(
            user_state(hass, extension, "ringing").state == "on"
            for extension in devices
        )
        == MAX_CALL_PARTIES
    )


async def test_long_texts_are_cut(hass: HomeAssistant, wildix: WildixSender) -> None:
    """A 100,000-character name and message become 255 characters."""
    await wildix.post(_ringing_call("201", name="N" * 100_000, email="e" * 100_000))
    await wildix.post(_presence("201", message="M" * 100_000), follow_clock=False)
    device = _user_devices(hass)["201"]
    assert device.name == "N" * 255
    assert user_state(hass, "201", "presence").attributes["message"] == "M" * 255


@pytest.mark.parametrize("extension", [".", "..", "-", "_", "*", "#"])
async def test_extensions_without_letter_or_digit_make_no_user(
    hass: HomeAssistant, wildix: WildixSender, extension: str
) -> None:
    """Punctuation alone names nobody: no user comes from presence or a call."""
    await wildix.post(_presence(extension), follow_clock=False)
    await wildix.post(_ringing_call(extension))
    assert _user_devices(hass) == {}


async def test_far_future_time_does_not_freeze_a_user(
    hass: HomeAssistant,
    wildix: WildixSender,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An event stamped in year 3000 counts as received now; later events still apply."""
    future = int(datetime(3000, 1, 1, tzinfo=UTC).timestamp() * 1000)
    now = datetime.now(UTC)
    await wildix.post("presence_user_away", time=future, follow_clock=False)
    await wildix.post("presence_telephony_ringing", time=future, follow_clock=False)
    assert user_state(hass, "202", "presence").state == "away"

    freezer.tick(timedelta(seconds=5))
    later = int((now + timedelta(seconds=5)).timestamp() * 1000)
    payload = _presence("202", status="available")
    payload["time"] = later
    await wildix.post(payload, follow_clock=False)
    assert user_state(hass, "202", "presence").state == "available"
    assert caplog.text.count("stamped far ahead") == 1

    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    saved = hass_storage[STORE]["data"]["users"]
    assert max(user["presence_ms"] for user in saved) == later
    assert max(user["telephony_ms"] for user in saved) < later


async def test_old_call_event_does_not_ring_for_hours(
    hass: HomeAssistant, wildix: WildixSender, freezer: FrozenDateTimeFactory
) -> None:
    """A ringing call reported five hours late (timeout four hours) is over at once."""
    payload = load_event("call_update_inbound_ringing")
    freezer.move_to(event_time(payload) + timedelta(hours=5))
    await wildix.post(payload, follow_clock=False)
    assert line(hass, "201") == ("idle", "off", "off")


async def test_state_saved_before_these_checks_is_made_sane(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A 1.1 file with a year-3000 time and a "." user loads without freezing or the user."""
    hass_storage[STORE] = {
        "version": 1,
        "minor_version": 1,
        "key": STORE,
        "data": {
            "pbx_serial": None,
            "last_event": None,
            "users": [
                {
                    "extension": "202",
                    "presence": {"status": "away"},
                    "presence_ms": 32503680000000,
                },
                {"extension": ".", "presence": {"status": "dnd"}, "presence_ms": 0},
            ],
            "calls": [],
        },
    }
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert sorted(_user_devices(hass)) == ["202"]
    assert user_state(hass, "202", "presence").state == "away"
    hub = config_entry.runtime_data
    payload = _presence("202", status="available")
    payload["time"] = int(datetime.now(UTC).timestamp() * 1000) + 1
    hub.async_receive(parse_event(payload), "restored")
    await hass.async_block_till_done()
    assert user_state(hass, "202", "presence").state == "available"


async def test_ringing_and_on_call_render_only_when_they_may_change(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phone changes with nearly every call event; its ringing and on-call rarely.

    The hub signals the ringing sensor only when whether the phone rings changed,
    and the on-call sensor only when whether its user is on a call did, so most
    call events render neither (before issue 25, both rendered on every change of
    the phone; before its fifth pass, the on-call sensor on every change of the
    phone's state, such as dialing to talking).
    """
    users = ["201", "202", "203", "204"]
    workload = Workload(
        SECRET, users, seed=3, start_ms=int(START.timestamp() * 1000) + 60_000
    )
    for extension in users:
        await wildix.post(_presence(extension), follow_clock=False)
    renders: Counter[str] = Counter()
    original = WildixBinarySensor._async_update_attrs

    def counted(entity: WildixBinarySensor) -> None:
        renders[entity.entity_description.key] += 1
        original(entity)

    monkeypatch.setattr(WildixBinarySensor, "_async_update_attrs", counted)
    changes: Counter[str] = Counter()

    @callback
    def changed(event: Event) -> None:
        entity = event.data["entity_id"]
        if entity.startswith("binary_sensor.") and entity.endswith(
            ("_ringing", "_on_call")
        ):
            changes[entity.rsplit("_", 1)[-1]] += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, changed)

    deliveries = workload.mix(300)
    for delivery in deliveries:
        response = await wildix.client.post(
            f"/api/webhook/{WEBHOOK_ID}",
            data=delivery.body,
            headers={"x-signature": delivery.signature},
        )
        assert response.status == 200
    await hass.async_block_till_done()

    # Each sensor still shows every change of what it shows...
    assert changes["ringing"] > 20
    assert changes["call"] > 20
    # ... and renders at most once per change of its state: each has its own
    # signal, sent when what it shows changed (a few changes are the device's name,
    # learnt from calls). 68 renders for 56 changes when the on-call sensor's was
    # sent at every change of the phone's state; 88 when they shared one.
    assert renders["ringing"] <= changes["ringing"]
    assert renders["on_call"] <= changes["call"]
    for extension in users:
        assert line(hass, extension) == ("idle", "off", "off")


async def test_call_log_and_callbacks_write_only_what_changed(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """The calendar and the to-do list follow every call event, and show few of them.

    They write their state only when what they show changed: before, the bench's mix
    made them write about 0.7 times per delivery with nothing new to show.
    """
    users = ["201", "202", "203", "204"]
    workload = Workload(
        SECRET, users, seed=5, start_ms=int(START.timestamp() * 1000) + 60_000
    )
    for extension in users:
        await wildix.post(_presence(extension), follow_clock=False)
    await hass.async_block_till_done()
    watched = {
        entity
        for entity in hass.states.async_entity_ids(("calendar", "todo"))
        if entity.endswith(("_call_log", "_callbacks"))
    }
    assert len(watched) == 2 * len(users)
    changed: Counter[str] = Counter()
    reported: Counter[str] = Counter()

    @callback
    def ours(event_data: Any) -> bool:
        return event_data["entity_id"] in watched

    @callback
    def count(counter: Counter[str], event: Event) -> None:
        counter[event.data["entity_id"].split(".", 1)[0]] += 1

    hass.bus.async_listen(
        EVENT_STATE_CHANGED, lambda event: count(changed, event), event_filter=ours
    )
    hass.bus.async_listen(
        EVENT_STATE_REPORTED, lambda event: count(reported, event), event_filter=ours
    )
    for delivery in workload.mix(300):
        response = await wildix.client.post(
            f"/api/webhook/{WEBHOOK_ID}",
            data=delivery.body,
            headers={"x-signature": delivery.signature},
        )
        assert response.status == 200
    await hass.async_block_till_done()

    assert changed["calendar"] > 20
    assert changed["todo"] > 0
    assert reported == Counter()
