"""Devices of the PBX and of every user, snapshotted whole; their entities are in test_<platform>.py."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from syrupy.assertion import SnapshotAssertion

from .calls import BUSY_MORNING
from .common import ENTRY_ID, WildixSender


async def test_after_a_busy_morning(
    hass: HomeAssistant, wildix: WildixSender, snapshot: SnapshotAssertion
) -> None:
    """The PBX with its serial number; each user who called or set a presence, via the PBX."""
    await wildix.post_all(*BUSY_MORNING)
    registry = dr.async_get(hass)
    devices = dr.async_entries_for_config_entry(registry, ENTRY_ID)
    names = {device.id: device.name for device in devices}
    assert {
        device.name: {
            "identifiers": sorted(device.identifiers),
            "manufacturer": device.manufacturer,
            "model": device.model,
            "serial_number": device.serial_number,
            "via_device": names.get(device.via_device_id or ""),
        }
        for device in devices
    } == snapshot
