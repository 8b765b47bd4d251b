"""Snapshots of the entities of one platform, the same on every Home Assistant version.

Like `snapshot_platform` of pytest-homeassistant-custom-component, but the registry
entry is reduced to what the integration decides: core adds fields to `RegistryEntry`
from release to release, so its own snapshot differs between our two lanes.
"""

from enum import Enum
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
from syrupy.assertion import SnapshotAssertion

from .common import ENTRY_ID


def snapshot_platform(
    hass: HomeAssistant, snapshot: SnapshotAssertion, platform: str
) -> None:
    """Assert every entity of a platform, its registry entry and state, against snapshots."""
    devices = dr.async_get(hass)
    entries = [
        entry
        for entry in er.async_entries_for_config_entry(er.async_get(hass), ENTRY_ID)
        if entry.domain == platform
    ]
    assert entries, f"no {platform} entities"
    for entry in sorted(entries, key=lambda entry: entry.entity_id):
        assert entry.disabled_by is None, f"{entry.entity_id} is disabled"
        device = devices.async_get(entry.device_id) if entry.device_id else None
        assert _entry(entry, device) == snapshot(name=f"{entry.entity_id}-entry")
        state = hass.states.get(entry.entity_id)
        assert state is not None, f"{entry.entity_id} has no state"
        assert {
            "state": _shown_state(entry, state.state),
            "attributes": {
                str(key): _plain(value) for key, value in state.attributes.items()
            },
        } == snapshot(name=f"{entry.entity_id}-state")


def _shown_state(entry: er.RegistryEntry, state: str) -> str:
    """Return a state; an event entity's to the second.

    Its state is the time it fired, read from a frozen clock that some Home Assistant
    versions move on by a millisecond.
    """
    if entry.domain == "event" and (fired := dt_util.parse_datetime(state)):
        return fired.replace(microsecond=0).isoformat()
    return state


def _entry(entry: er.RegistryEntry, device: dr.DeviceEntry | None) -> dict[str, Any]:
    """Return what the integration sets in a registry entry; the device by name."""
    return {
        "unique_id": entry.unique_id,
        "device": None if device is None else device.name,
        "has_entity_name": entry.has_entity_name,
        "translation_key": entry.translation_key,
        "original_name": entry.original_name,
        "original_device_class": _plain(entry.original_device_class),
        "original_icon": entry.original_icon,
        "entity_category": _plain(entry.entity_category),
        "capabilities": _plain(entry.capabilities),
        "supported_features": entry.supported_features,
        "unit_of_measurement": entry.unit_of_measurement,
        "options": dict(entry.options),
        "hidden_by": _plain(entry.hidden_by),
    }


def _plain(value: Any) -> Any:
    """Return enum members as their values: their types differ across HA versions."""
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    return value.value if isinstance(value, Enum) else value
