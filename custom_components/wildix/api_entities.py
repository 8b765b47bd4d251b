"""Entities fed by the PBX API: a user's phone registration and the PBX's version."""

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .changes import Aspect
from .coordinator import PbxApi, WildixApiCoordinator
from .entity import WildixEntityDescription, WildixModelEntity, async_add_user_entities
from .hub import WildixHub


@dataclass(frozen=True, kw_only=True)
class RegistrationDescription(WildixEntityDescription, BinarySensorEntityDescription):
    """Describes the registration sensor: telephony events (the phone aspect) update it."""


@dataclass(frozen=True, kw_only=True)
class VersionDescription(WildixEntityDescription, SensorEntityDescription):
    """Describes the PBX's version sensor."""


REGISTERED = RegistrationDescription(
    key="registered",
    translation_key="registered",
    device_class=BinarySensorDeviceClass.CONNECTIVITY,
    # Telephony events and the privacy option are signalled as the phone aspect.
    aspects=frozenset({Aspect.PHONE}),
)
PBX_VERSION = VersionDescription(
    key="pbx_version",
    translation_key="pbx_version",
    entity_category=EntityCategory.DIAGNOSTIC,
)


@callback
def async_add_registration_sensors(
    hub: WildixHub, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add every user's registration sensor, unless the PBX lacks the route."""
    if (api := hub.pbx_api) is None or api.registrations.supported is False:
        return
    async_add_user_entities(
        hub,
        async_add_entities,
        lambda extension: (WildixRegistrationSensor(hub, api, extension),),
    )


@callback
def async_add_version_sensor(
    hub: WildixHub, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the PBX's version sensor, unless the PBX does not tell it."""
    if (api := hub.pbx_api) is None or api.directory.version_supported is False:
        return
    async_add_entities([WildixVersionSensor(hub, api)])


class _ApiEntity(WildixModelEntity):
    """An entity available while its feature's polls succeed; it follows them too."""

    _coordinator: WildixApiCoordinator[Any]

    @property
    def available(self) -> bool:
        """Return whether the PBX API answered the last poll of this feature."""
        return self._attr_available

    async def async_added_to_hass(self) -> None:
        """Follow the polls as well as the model."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._coordinator.async_add_listener(self._async_model_changed)
        )


class WildixRegistrationSensor(_ApiEntity, BinarySensorEntity):
    """Whether a user has a registered phone, from polls and telephony events."""

    entity_description: RegistrationDescription

    _shown = attrgetter(
        "_attr_available", "_attr_is_on", "_attr_extra_state_attributes"
    )

    def __init__(self, hub: WildixHub, api: PbxApi, extension: str) -> None:
        """Initialise a user's registration sensor."""
        self._api = api
        self._coordinator = api.registrations
        super().__init__(hub, REGISTERED, extension)

    @callback
    def _async_update_attrs(self) -> None:
        assert self.extension is not None
        self._attr_available = self._coordinator.available
        registration = self._api.book.registration(self.extension, self.user)
        if registration is None:
            self._attr_is_on = None
            self._attr_extra_state_attributes = {}
            return
        attributes: dict[str, Any] = {
            "registered_devices": registration.devices,
            "user_agents": list(registration.user_agents),
        }
        if (colleague := self._api.book.colleagues.get(self.extension)) is not None:
            attributes |= {
                "department": colleague.department,
                "role": colleague.role,
                "license": colleague.license_type,
            }
            if self.hub.show_remote:
                # The privacy option: off, no personal data beyond the name is shown.
                attributes["email"] = colleague.email
        self._attr_is_on = registration.registered
        self._attr_extra_state_attributes = attributes


class WildixVersionSensor(_ApiEntity, SensorEntity):
    """The PBX's software version, read with the directory."""

    entity_description: VersionDescription

    _shown = attrgetter("_attr_available", "_attr_native_value")

    def __init__(self, hub: WildixHub, api: PbxApi) -> None:
        """Initialise the PBX's version sensor."""
        self._coordinator = api.directory
        super().__init__(hub, PBX_VERSION)

    @callback
    def _async_update_attrs(self) -> None:
        data = self._coordinator.data
        version = None if data is None else data[1]
        self._attr_available = self._coordinator.available and version is not None
        self._attr_native_value = version
