"""Binary sensors of every user, snapshotted whole: registry entries and states."""

from homeassistant.core import HomeAssistant
from syrupy.assertion import SnapshotAssertion

from .calls import BUSY_MORNING
from .common import WildixSender
from .surface import snapshot_platform


async def test_after_a_busy_morning(
    hass: HomeAssistant, wildix: WildixSender, snapshot: SnapshotAssertion
) -> None:
    """Ringing and on call: Bob talks while Carol's call rings him, Carol dials, Alice is idle."""
    await wildix.post_all(*BUSY_MORNING)
    snapshot_platform(hass, snapshot, "binary_sensor")
