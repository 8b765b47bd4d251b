"""Event entities: the moments of each user's calls (incoming, answered, missed...)."""

from collections.abc import Mapping
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import WildixEntity, async_add_user_entities
from .hub import WildixConfigEntry
from .model import CallMoment, MomentType
from .views import CALL_UNRECORDED

PARALLEL_UPDATES = 0

CALLS = EventEntityDescription(
    key="calls",
    translation_key="calls",
    event_types=[kind.value for kind in MomentType],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WildixConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the call event entity of every user, known now or later."""
    hub = entry.runtime_data
    async_add_user_entities(
        hub,
        async_add_entities,
        lambda extension: (WildixCallsEvent(hub, CALLS, extension),),
    )


class WildixCallsEvent(WildixEntity, EventEntity):
    """Fires when a call reaches, is answered by, is missed by or leaves a user."""

    extension: str
    _unrecorded_attributes = frozenset(CALL_UNRECORDED)

    async def async_added_to_hass(self) -> None:
        """Listen for the user's call moments."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hub.signals.connect(
                self.hub.signal_moment(self.extension), self._async_moment
            )
        )

    @callback
    def _async_moment(self, moment: CallMoment, data: Mapping[str, Any]) -> None:
        self._trigger_event(
            data["type"], {key: value for key, value in data.items() if key != "type"}
        )
        self.async_write_ha_state()
