"""Base entities: a PBX user's or the PBX's device, updated by push from the hub."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.signal_type import SignalType

from .devices import pbx_device_info, user_device_info
from .hub import WildixHub
from .model import Aspect, PbxAspect, User


@dataclass(frozen=True, kw_only=True)
class WildixEntityDescription(EntityDescription):
    """Describes an entity of the model: which aspects of its user, or of the PBX, it shows."""

    aspects: frozenset[Aspect] = frozenset()
    pbx_aspects: frozenset[PbxAspect] = frozenset()


class WildixEntity(Entity):
    """An entity of a PBX user's device, or of the PBX device without an extension."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(
        self,
        hub: WildixHub,
        description: EntityDescription,
        extension: str | None = None,
    ) -> None:
        """Initialise the entity of a user, or of the PBX."""
        self.hub = hub
        self.entity_description = description
        self.extension = extension
        entry_id = hub.entry.entry_id
        if extension is None:
            self._attr_unique_id = f"{entry_id}_{description.key}"
            self._attr_device_info = pbx_device_info(entry_id)
        else:
            self._attr_unique_id = f"{entry_id}_{extension}_{description.key}"
            self._attr_device_info = user_device_info(entry_id, extension)

    @property
    def available(self) -> bool:
        """Return whether the entry's transport can currently receive events."""
        return self.hub.available

    @property
    def user(self) -> User | None:
        """Return the user this entity belongs to (None for the PBX's entities)."""
        return (
            None if self.extension is None else self.hub.model.users.get(self.extension)
        )

    async def async_added_to_hass(self) -> None:
        """Follow the transport's availability."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hub.signals.connect(
                self.hub.signal_available, self.async_write_ha_state
            )
        )


class WildixModelEntity(WildixEntity):
    """An entity that shows part of the model and writes only when that changed."""

    entity_description: WildixEntityDescription
    # The attributes `_async_update_attrs` sets; a write happens when one changed.
    _shown: Callable[[Any], Any]

    def __init__(
        self,
        hub: WildixHub,
        description: WildixEntityDescription,
        extension: str | None = None,
    ) -> None:
        """Initialise the entity and set what it shows."""
        super().__init__(hub, description, extension)
        self._async_update_attrs()

    async def async_added_to_hass(self) -> None:
        """Follow the parts of the model this entity shows."""
        await super().async_added_to_hass()
        for signal in self._signals():
            self.async_on_remove(
                self.hub.signals.connect(signal, self._async_model_changed)
            )
        # The model may have changed between creation and now.
        self._async_update_attrs()

    def _signals(self) -> Iterable[SignalType[()]]:
        """Return the signals that say the model changed for this entity."""
        description = self.entity_description
        if self.extension is None:
            return (self.hub.signal_pbx(aspect) for aspect in description.pbx_aspects)
        return (
            self.hub.signal_user(self.extension, aspect)
            for aspect in description.aspects
        )

    @callback
    def _async_model_changed(self) -> None:
        shown = self._shown(self)
        self._async_update_attrs()
        if self._shown(self) != shown:
            self.async_write_ha_state()

    @callback
    def _async_update_attrs(self) -> None:
        """Set the entity's attributes from the model."""
        raise NotImplementedError


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
    hub.entry.async_on_unload(hub.signals.connect(hub.signal_new_user, add_users))
