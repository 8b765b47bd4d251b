"""Event entities of every user, snapshotted whole: registry entries and states."""

from homeassistant.core import HomeAssistant
from syrupy.assertion import SnapshotAssertion

from .calls import BUSY_MORNING
from .common import WildixSender
from .surface import snapshot_platform


async def test_after_a_busy_morning(
    hass: HomeAssistant, wildix: WildixSender, snapshot: SnapshotAssertion
) -> None:
    """Each user's calls entity shows the last call moment, with its type and data."""
    await wildix.post_all(*BUSY_MORNING)
    snapshot_platform(hass, snapshot, "event")
