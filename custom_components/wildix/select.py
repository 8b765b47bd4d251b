"""Selects: the PBX's tree dialplan switches, whose state is one of several numbers."""

from dataclasses import dataclass
import logging
from operator import attrgetter

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api_entities import DialplanSwitchEntity, async_add_dialplan_switches
from .entity import WildixEntityDescription
from .hub import WildixConfigEntry

# Writes go to the PBX one at a time: how many it takes at once is not documented,
# and two quick changes of one switch must reach it in the order they were made.
PARALLEL_UPDATES = 1

# The PBX lists whether a switch is a tree (`isTreeType`), but neither how many states
# it has nor what they mean (research: unknown). "Tree" is taken as Wildix's spelling
# of a three-state switch: states 0, 1 and 2 are offered, and any higher state the PBX
# reports. The options are the PBX's numbers, the same in every language; the PBX
# refuses a state out of its range, and the select then shows the PBX's state again.
TREE_STATES = 3
# The most states a tree switch offers: a PBX that reports a higher state is not
# believed (the select becomes unavailable, with one log line) rather than offering
# an endless list.
MAX_TREE_STATES = 16

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class WildixSelectDescription(WildixEntityDescription, SelectEntityDescription):
    """Describes a select of the PBX."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WildixConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the PBX's tree switches, with a PBX API connection."""
    async_add_dialplan_switches(
        entry.runtime_data, async_add_entities, Platform.SELECT, WildixTreeSwitch
    )


class WildixTreeSwitch(DialplanSwitchEntity, SelectEntity):
    """A tree dialplan switch: its state number is the option."""

    entity_description: WildixSelectDescription
    _description = WildixSelectDescription
    _shown = attrgetter(
        "_attr_available", "_attr_name", "_attr_options", "_attr_current_option"
    )

    _out_of_range = False

    def _show(self, state: int) -> None:
        if not 0 <= state < MAX_TREE_STATES:
            if not self._out_of_range:
                _LOGGER.warning(
                    "%s: the PBX reports state %d of the switch %s; a switch has at "
                    "most %d states, so it is shown unavailable",
                    self.hub.entry.title,
                    state,
                    self._attr_name,
                    MAX_TREE_STATES,
                )
            self._out_of_range = True
            self._attr_available = False
            return
        self._out_of_range = False
        self._attr_options = [str(n) for n in range(max(TREE_STATES, state + 1))]
        self._attr_current_option = str(state)

    async def async_select_option(self, option: str) -> None:
        """Set the switch to the chosen state."""
        await self._async_set_state(int(option))
