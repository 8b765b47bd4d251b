"""Sensors of the PBX and of every user, snapshotted whole: registry entries and states."""

from homeassistant.core import HomeAssistant
import pytest
from syrupy.assertion import SnapshotAssertion

from .calls import BUSY_MORNING
from .common import WildixSender
from .surface import snapshot_platform


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_before_any_event(
    hass: HomeAssistant, wildix: WildixSender, snapshot: SnapshotAssertion
) -> None:
    """A new entry has the PBX's sensors only, with nothing to show yet."""
    snapshot_platform(hass, snapshot, "sensor")


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_after_a_busy_morning(
    hass: HomeAssistant, wildix: WildixSender, snapshot: SnapshotAssertion
) -> None:
    """Presence, phone, last call and missed calls of each user; the PBX's calls and last event."""
    await wildix.post_all(*BUSY_MORNING)
    snapshot_platform(hass, snapshot, "sensor")
