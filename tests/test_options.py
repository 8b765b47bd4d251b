"""Options: which users get devices, stale calls, trigger age and privacy, applied live."""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.wildix.model import MAX_USERS

from .common import ENTRY_ID, WildixSender, event_time, load_event, user_entity

DEFAULTS = {
    "extensions": [],
    "stale_call_timeout": 4,
    "max_event_age": 10,
    "show_remote": True,
    "max_users": 1000,
    "pass_through": True,
    "missed_internal": False,
    "dial_prefixes": [],
}
CALLER = "+4930555010203"
INBOUND_TALKING = (
    "call_live_progress_start_inbound",
    "call_live_progress_ringing_inbound",
    "call_live_progress_talking",
)


async def _set_options(
    hass: HomeAssistant, entry: MockConfigEntry, **changes: Any
) -> ConfigFlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], DEFAULTS | changes
    )
    await hass.async_block_till_done()
    return result


def _fields(result: ConfigFlowResult) -> dict[str, Any]:
    """Return the form's fields by name."""
    return {str(key): key for key in result["data_schema"].schema}


def _device(hass: HomeAssistant, extension: str) -> dr.DeviceEntry | None:
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, ENTRY_ID):
        if ("wildix", f"{ENTRY_ID}_{extension}") in device.identifiers:
            return device
    return None


async def test_form_offers_known_users_and_current_values(
    hass: HomeAssistant, setup_integration: MockConfigEntry, wildix: WildixSender
) -> None:
    """Known users are offered by name; the fields start from the saved options."""
    await wildix.post_all("call_live_progress_ringing_inbound", "presence_user_away")
    chosen = DEFAULTS | {"extensions": ["201", "202", "299"], "show_remote": False}
    hass.config_entries.async_update_entry(setup_integration, options=chosen)

    result = await hass.config_entries.options.async_init(setup_integration.entry_id)
    fields = _fields(result)
    assert {
        name: key.description["suggested_value"] for name, key in fields.items()
    } == (chosen)
    selector = result["data_schema"].schema[fields["extensions"]]
    assert selector.config["options"] == [
        {"value": "201", "label": "Alice Example (201)"},
        {"value": "202", "label": "202"},
        {"value": "299", "label": "299"},
    ]
    assert selector.config["multiple"] is True
    assert selector.config["custom_value"] is True


async def test_form_defaults_on_an_unloaded_entry(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """An entry that is not loaded still has its options, with no users to offer."""
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    fields = _fields(result)
    assert {
        name: key.description["suggested_value"] for name, key in fields.items()
    } == (DEFAULTS)
    assert result["data_schema"].schema[fields["extensions"]].config["options"] == []


async def test_every_field_is_saved(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Every option is saved; extensions are trimmed, deduplicated and sorted."""
    result = await _set_options(
        hass,
        setup_integration,
        extensions=[" 202", "0201", "202"],
        stale_call_timeout=0.5,
        max_event_age=2,
        show_remote=False,
        max_users=50.0,
        pass_through=False,
        missed_internal=True,
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert setup_integration.options == {
        "extensions": ["0201", "202"],
        "stale_call_timeout": 0.5,
        "max_event_age": 2,
        "show_remote": False,
        "max_users": 50,
        "pass_through": False,
        "missed_internal": True,
        "dial_prefixes": [],
    }


@pytest.mark.parametrize("extension", ["20 1", "a/b", "x" * 33, ".", "..", "-", "#*"])
async def test_invalid_extension(
    hass: HomeAssistant, setup_integration: MockConfigEntry, extension: str
) -> None:
    """Something that cannot be an extension is refused and nothing is saved."""
    result = await _set_options(hass, setup_integration, extensions=["201", extension])
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"extensions": "invalid_extension"}
    assert setup_integration.options == {}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], DEFAULTS | {"extensions": ["201"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_filter_removes_other_users_live(
    hass: HomeAssistant, setup_integration: MockConfigEntry, wildix: WildixSender
) -> None:
    """Users outside the list lose their devices and entities, and their events are ignored."""
    await wildix.post_all("call_live_progress_ringing_inbound", "presence_user_away")
    bob_presence = user_entity(hass, "sensor", "202", "presence")
    assert hass.states.get(bob_presence).state == "away"
    assert _device(hass, "202") is not None

    await _set_options(hass, setup_integration, extensions=["201"])
    assert _device(hass, "202") is None
    assert hass.states.get(bob_presence) is None
    assert er.async_get(hass).async_get(bob_presence) is None
    assert _device(hass, "201") is not None
    assert (
        hass.states.get(user_entity(hass, "sensor", "201", "phone")).state == "ringing"
    )

    away = load_event("presence_user_away")
    await wildix.post(away | {"time": away["time"] + 1000})
    assert _device(hass, "202") is None

    await _set_options(hass, setup_integration, extensions=[])
    await wildix.post(away | {"time": away["time"] + 2000})
    assert _device(hass, "202") is not None
    assert (
        hass.states.get(user_entity(hass, "sensor", "202", "presence")).state == "away"
    )


async def test_filter_applies_at_startup(
    hass: HomeAssistant, setup_integration: MockConfigEntry, wildix: WildixSender
) -> None:
    """Users remembered from before are dropped when the options exclude them."""
    await wildix.post_all("call_live_progress_ringing_inbound", "presence_user_away")
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    hass.config_entries.async_update_entry(
        setup_integration, options=DEFAULTS | {"extensions": ["202"]}
    )
    assert await hass.config_entries.async_setup(setup_integration.entry_id)
    await hass.async_block_till_done()

    assert _device(hass, "201") is None
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", "wildix", f"{ENTRY_ID}_201_phone"
        )
        is None
    )
    assert (
        hass.states.get(user_entity(hass, "sensor", "202", "presence")).state == "away"
    )


async def test_stale_call_timeout_expires_calls(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A shorter stale-call timeout ends a call whose end was lost once it passes."""
    await wildix.post_all(*INBOUND_TALKING)
    phone = user_entity(hass, "sensor", "201", "phone")
    await _set_options(hass, setup_integration, stale_call_timeout=0.25)

    freezer.tick(timedelta(minutes=14))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(phone).state == "talking"

    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get(phone).state == "idle"
    last_call = hass.states.get(user_entity(hass, "sensor", "201", "last_call"))
    assert last_call.attributes["end_cause"] == "expired"


async def test_shorter_timeout_expires_an_old_call_at_once(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A call already older than a new, shorter timeout ends when the option is saved."""
    await wildix.post_all(*INBOUND_TALKING)
    freezer.tick(timedelta(hours=1))
    phone = user_entity(hass, "sensor", "201", "phone")
    assert hass.states.get(phone).state == "talking"

    await _set_options(hass, setup_integration, stale_call_timeout=0.5)
    assert hass.states.get(phone).state == "idle"


@pytest.mark.parametrize(("max_age", "fired"), [(10, 1), (1, 0)])
async def test_max_event_age_suppresses_late_triggers(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    max_age: int,
    fired: int,
) -> None:
    """An event delivered later than the maximum age updates states but fires nothing."""
    await _set_options(hass, setup_integration, max_event_age=max_age)
    events = async_capture_events(hass, "wildix_event")
    payload = load_event("call_live_progress_ringing_inbound")
    wildix.freezer.move_to(event_time(payload) + timedelta(minutes=2))

    await wildix.post(payload)
    assert (
        hass.states.get(user_entity(hass, "sensor", "201", "phone")).state == "ringing"
    )
    assert len(events) == fired
    calls = hass.states.get(user_entity(hass, "event", "201", "calls"))
    assert (calls.attributes.get("event_type") is not None) is bool(fired)


async def test_privacy_hides_outside_parties_live(
    hass: HomeAssistant, setup_integration: MockConfigEntry, wildix: WildixSender
) -> None:
    """Hiding outside parties re-renders attributes at once and hides them in events."""
    await wildix.post_all(*INBOUND_TALKING)
    phone = user_entity(hass, "sensor", "201", "phone")
    assert hass.states.get(phone).attributes["remote_number"] == CALLER

    await _set_options(hass, setup_integration, show_remote=False)
    attributes = hass.states.get(phone).attributes
    assert attributes["remote_number"] is None
    assert attributes["remote_name"] is None
    assert attributes["direction"] == "inbound"

    events = async_capture_events(hass, "wildix_event")
    await wildix.post("call_live_completed_inbound")
    assert events
    assert {(e.data["remote_number"], e.data["remote_name"]) for e in events} == {
        (None, None)
    }
    last_call = hass.states.get(user_entity(hass, "sensor", "201", "last_call"))
    assert last_call.attributes["remote_number"] is None
    calls = hass.states.get(user_entity(hass, "event", "201", "calls"))
    assert calls.attributes["remote_number"] is None

    await _set_options(hass, setup_integration, show_remote=True)
    last_call = hass.states.get(user_entity(hass, "sensor", "201", "last_call"))
    assert last_call.attributes["remote_number"] == CALLER


async def test_privacy_keeps_colleagues(
    hass: HomeAssistant, setup_integration: MockConfigEntry, wildix: WildixSender
) -> None:
    """Colleagues on internal calls stay visible when outside parties are hidden."""
    await _set_options(hass, setup_integration, show_remote=False)
    await wildix.post("call_live_progress_internal")
    attributes = hass.states.get(user_entity(hass, "sensor", "203", "phone")).attributes
    assert attributes["direction"] == "internal"
    assert attributes["remote_number"] is not None


async def test_a_saved_user_limit_above_the_maximum_is_lowered(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """An entry saved when 1,200 users were allowed gets the lower maximum."""
    hass.config_entries.async_update_entry(config_entry, options={"max_users": 1200})
    assert await async_setup_component(hass, "webhook", {})
    assert await hass.config_entries.async_setup(ENTRY_ID)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.model.max_users == MAX_USERS < 1200
