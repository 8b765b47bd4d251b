"""Switches: the PBX's two-state dialplan switches and each user's do not disturb."""

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api_entities import DialplanSwitchEntity, async_add_dialplan_switches
from .coordinator import PbxApi
from .entity import WildixEntityDescription, WildixModelEntity, async_add_user_entities
from .hub import WildixConfigEntry, WildixHub
from .model import Aspect
from .pbx_presence import PresenceStatus as PbxPresenceStatus
from .people import async_acting_user, check_may_act_for
from .protocol import PresenceStatus

# Writes go to the PBX one at a time: how many it takes at once is not documented,
# and two quick changes of one switch must reach it in the order they were made.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class WildixSwitchDescription(WildixEntityDescription, SwitchEntityDescription):
    """Describes a switch of the PBX or of a user."""


DND = WildixSwitchDescription(
    key="dnd",
    translation_key="dnd",
    # Presence events (and nothing else) tell whether the user is in do not disturb.
    aspects=frozenset({Aspect.PRESENCE}),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WildixConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the PBX's switches and every user's do not disturb, with a PBX API connection."""
    hub = entry.runtime_data
    if (api := hub.pbx_api) is None:
        return
    async_add_dialplan_switches(
        hub, async_add_entities, Platform.SWITCH, WildixDialplanSwitch
    )
    async_add_user_entities(
        hub,
        async_add_entities,
        # Only users whose presence the credential may set (a user's token: its own).
        lambda extension: (
            (WildixDndSwitch(hub, api, extension),)
            if api.may_set_presence(extension)
            else ()
        ),
    )


class WildixDialplanSwitch(DialplanSwitchEntity, SwitchEntity):
    """A two-state dialplan switch (day/night, holiday): on is state 1, off state 0."""

    entity_description: WildixSwitchDescription
    _description = WildixSwitchDescription
    _shown = attrgetter("_attr_available", "_attr_name", "_attr_is_on")

    def _show(self, state: int) -> None:
        self._attr_is_on = state != 0

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Set the switch to state 1."""
        await self._async_set_state(1)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Set the switch to state 0."""
        await self._async_set_state(0)


class WildixDndSwitch(WildixModelEntity, SwitchEntity):
    """A user's do not disturb: on sets the presence dnd, off sets it available.

    Its state is the presence the PBX's events last reported. A change is shown at
    once and kept until the next presence event; one the PBX refuses raises its
    translated error and shows the reported presence again. Who may change it is who
    may act for the user (people.py): a change by anyone else raises Unauthorized.
    """

    entity_description: WildixSwitchDescription
    _shown = attrgetter("_attr_is_on")

    def __init__(self, hub: WildixHub, api: PbxApi, extension: str) -> None:
        """Initialise a user's do not disturb switch."""
        self._api = api
        super().__init__(hub, DND, extension)

    @callback
    def _async_update_attrs(self) -> None:
        user = self.user
        presence = None if user is None else user.presence
        if presence is None or presence.state is None:
            self._attr_is_on = None
        else:
            self._attr_is_on = presence.state is PresenceStatus.DND

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Set the user's presence to do not disturb."""
        await self._async_set(PbxPresenceStatus.DND)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Set the user's presence to available."""
        await self._async_set(PbxPresenceStatus.AVAILABLE)

    async def _async_set(self, status: PbxPresenceStatus) -> None:
        assert self.extension is not None
        check_may_act_for(
            self.hass,
            self.hub.entry.options,
            await async_acting_user(self.hass, self._context),
            self.extension,
            self.entity_id,
        )
        user = self.user
        name = user.display_name if user is not None else self.extension
        self._attr_is_on = status is PbxPresenceStatus.DND
        self.async_write_ha_state()
        try:
            await self._api.async_set_presence(self.extension, status, name)
        except HomeAssistantError:
            self._async_update_attrs()
            self.async_write_ha_state()
            raise
