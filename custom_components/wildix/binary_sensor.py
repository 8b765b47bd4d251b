"""Binary sensors: whether a user's phone rings and whether they are on a call."""

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api_entities import async_add_registration_sensors
from .entity import WildixEntityDescription, WildixModelEntity, async_add_user_entities
from .hub import WildixConfigEntry
from .model import Aspect, Phone

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class WildixBinarySensorDescription(
    WildixEntityDescription, BinarySensorEntityDescription
):
    """Describes a binary sensor of a PBX user."""

    is_on_fn: Callable[[Phone], bool]


BINARY_SENSORS: tuple[WildixBinarySensorDescription, ...] = (
    WildixBinarySensorDescription(
        key="ringing",
        translation_key="ringing",
        aspects=frozenset({Aspect.RINGING}),
        is_on_fn=lambda phone: phone.ringing,
    ),
    WildixBinarySensorDescription(
        key="on_call",
        translation_key="on_call",
        aspects=frozenset({Aspect.ON_CALL}),
        is_on_fn=lambda phone: phone.on_call,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WildixConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every user, known now or later."""
    hub = entry.runtime_data
    async_add_user_entities(
        hub,
        async_add_entities,
        lambda extension: (
            WildixBinarySensor(hub, description, extension)
            for description in BINARY_SENSORS
        ),
    )
    async_add_registration_sensors(hub, async_add_entities)


class WildixBinarySensor(WildixModelEntity, BinarySensorEntity):
    """A binary sensor of a PBX user."""

    entity_description: WildixBinarySensorDescription
    _shown = attrgetter("_attr_is_on")

    @callback
    def _async_update_attrs(self) -> None:
        user = self.user
        self._attr_is_on = (
            None
            if user is None
            else self.entity_description.is_on_fn(self.hub.phone(user))
        )
