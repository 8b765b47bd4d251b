"""The whole surface after a day at the office: registry and states, snapshotted."""

from enum import Enum
from typing import Any

from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import device_registry as dr, entity_registry as er
from syrupy.assertion import SnapshotAssertion

from .common import ENTRY_ID, WildixSender, load_event

DAY = (
    "presence_user_dnd",
    "presence_user_away",
    "presence_user_available_with_location",
    "call_start_inbound",
    "call_update_inbound_ringing",
    "presence_telephony_ringing",
    "call_update_inbound_talking",
    "presence_telephony_talking",
    "call_end_inbound_answered",
    "call_start_outbound",
    "call_update_outbound_talking",
    "call_start_inbound_missed",
    "call_update_inbound_missed_ringing",
    "call_end_inbound_missed",
    "call_start_internal",
    "call_update_internal_ringing",
)


def _surface(hass: HomeAssistant) -> dict[str, Any]:
    """Return devices, entities and states in a form stable across HA versions."""
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    device_names = {}
    surface: dict[str, Any] = {"devices": {}, "entities": {}}
    for device in sorted(
        dr.async_entries_for_config_entry(devices, ENTRY_ID), key=lambda d: d.name or ""
    ):
        via = devices.async_get(device.via_device_id) if device.via_device_id else None
        device_names[device.id] = device.name
        surface["devices"][device.name] = {
            "identifiers": sorted(device.identifiers),
            "manufacturer": device.manufacturer,
            "model": device.model,
            "serial_number": device.serial_number,
            "via_device": None if via is None else via.name,
        }
    for entry in sorted(
        er.async_entries_for_config_entry(entities, ENTRY_ID), key=lambda e: e.entity_id
    ):
        state = hass.states.get(entry.entity_id)
        assert (state is None) is (entry.disabled_by is not None)
        surface["entities"][entry.entity_id] = {
            "unique_id": entry.unique_id,
            "device": device_names[entry.device_id],
            "translation_key": entry.translation_key,
            "original_device_class": _plain(entry.original_device_class),
            "entity_category": _plain(entry.entity_category),
            "disabled_by": _plain(entry.disabled_by),
            **_shown(entry, state),
        }
    return surface


def _shown(entry: er.RegistryEntry, state: State | None) -> dict[str, Any]:
    """Return an entity's state and attributes; a disabled entity has none."""
    if state is None:
        return {"state": None, "attributes": {}}
    return {
        "state": state.state[:19] if entry.domain == "event" else state.state,
        "attributes": {
            str(key): _plain(value) for key, value in state.attributes.items()
        },
    }


def _plain(value: Any) -> Any:
    """Return enum members as their values: their types differ across HA versions."""
    return value.value if isinstance(value, Enum) else value


async def test_surface_after_a_busy_morning(
    hass: HomeAssistant, wildix: WildixSender, snapshot: SnapshotAssertion
) -> None:
    """Devices, entities, states and attributes after calls of every kind."""
    for payload in sorted(map(load_event, DAY), key=lambda payload: payload["time"]):
        await wildix.post(payload)
    assert _surface(hass) == snapshot
