"""Base entities: a PBX user's or the PBX's device, updated by push from the hub."""

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.signal_type import SignalType

from .devices import pbx_device_info, user_device_info
from .hub import WildixHub
from .model import User

type View = tuple[Any, ...]


class WildixEntity(Entity):
    """An entity that renders part of the model and writes only what changed."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: WildixHub, description: EntityDescription) -> None:
        """Initialise the entity."""
        self.hub = hub
        self.entity_description = description
        self._view: View | None = None
        self._async_refresh()

    @property
    def _signal(self) -> SignalType[()] | None:
        """Return the signal that says the model changed for this entity."""
        raise NotImplementedError

    @property
    def available(self) -> bool:
        """Return whether the entry's transport can currently receive events."""
        return self.hub.available

    async def async_added_to_hass(self) -> None:
        """Follow the model and the transport's availability."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, self.hub.signal_available, self.async_write_ha_state
            )
        )
        if (signal := self._signal) is not None:
            self.async_on_remove(
                async_dispatcher_connect(self.hass, signal, self._async_changed)
            )
        self._async_refresh()

    @callback
    def _async_changed(self) -> None:
        if self._async_refresh():
            self.async_write_ha_state()

    @callback
    def _async_refresh(self) -> bool:
        """Render the model; return whether anything shown changed."""
        view = self._render()
        if view == self._view:
            return False
        self._view = view
        self._show(view)
        return True

    def _render(self) -> View:
        """Return everything the entity shows."""
        raise NotImplementedError

    def _show(self, view: View) -> None:
        """Set the entity's attributes from a view."""
        raise NotImplementedError


class WildixUserEntity(WildixEntity):
    """An entity of a PBX user's device."""

    def __init__(
        self, hub: WildixHub, extension: str, description: EntityDescription
    ) -> None:
        """Initialise the entity of a user."""
        self.extension = extension
        entry_id = hub.entry.entry_id
        self._attr_unique_id = f"{entry_id}_{extension}_{description.key}"
        self._attr_device_info = user_device_info(entry_id, extension)
        super().__init__(hub, description)

    @property
    def _signal(self) -> SignalType[()] | None:
        return self.hub.signal_user(self.extension)

    @property
    def user(self) -> User | None:
        """Return the user this entity belongs to."""
        return self.hub.model.users.get(self.extension)


class WildixPbxEntity(WildixEntity):
    """An entity of the PBX device."""

    def __init__(self, hub: WildixHub, description: EntityDescription) -> None:
        """Initialise the entity of the PBX."""
        entry_id = hub.entry.entry_id
        self._attr_unique_id = f"{entry_id}_{description.key}"
        self._attr_device_info = pbx_device_info(entry_id)
        super().__init__(hub, description)

    @property
    def _signal(self) -> SignalType[()] | None:
        return self.hub.signal_pbx


@callback
def async_add_user_entities(
    hub: WildixHub,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[str], Iterable[Entity]],
) -> None:
    """Add a platform's entities for known users now and for new users later."""

    @callback
    def add_users(*extensions: str) -> None:
        async_add_entities(
            [entity for extension in extensions for entity in factory(extension)]
        )

    add_users(*hub.model.users)
    hub.entry.async_on_unload(
        async_dispatcher_connect(hub.hass, hub.signal_new_user, add_users)
    )
