"""Entities fed by the PBX API: a user's phone registration, the PBX's version, its switches."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.const import EntityCategory, Platform
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.signal_type import SignalType

from .changes import Aspect
from .coordinator import PbxApi, SwitchesCoordinator, WildixApiCoordinator
from .entity import WildixEntityDescription, WildixModelEntity, async_add_user_entities
from .hub import WildixHub
from .pbx_switches import DialplanSwitch

# The translation key of every dialplan switch (for its icon; the PBX names it).
DIALPLAN_SWITCH = "dialplan_switch"


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
def _async_when(
    hub: WildixHub,
    coordinator: WildixApiCoordinator[Any],
    ready: Callable[[], bool],
    add: Callable[[], None],
) -> None:
    """Call `add` once, as soon as a feature's data arrived (now, or with a poll)."""
    added = False

    @callback
    def async_check() -> None:
        nonlocal added
        if not added and ready():
            added = True
            add()

    async_check()
    if not added:
        hub.entry.async_on_unload(coordinator.async_add_listener(async_check))


@callback
def async_add_registration_sensors(
    hub: WildixHub, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add every user's registration sensor once the registrations arrived."""
    if (api := hub.pbx_api) is None:
        return
    _async_when(
        hub,
        api.registrations,
        lambda: api.registrations.supported is True,
        lambda: async_add_user_entities(
            hub,
            async_add_entities,
            lambda extension: (WildixRegistrationSensor(hub, api, extension),),
        ),
    )


@callback
def async_add_version_sensor(
    hub: WildixHub, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the PBX's version sensor once the PBX told its version."""
    if (api := hub.pbx_api) is None:
        return
    _async_when(
        hub,
        api.version,
        lambda: api.version.supported is True,
        lambda: async_add_entities([WildixVersionSensor(hub, api)]),
    )


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
    """The PBX's software version, polled on its own (never with the directory)."""

    entity_description: VersionDescription

    _shown = attrgetter("_attr_available", "_attr_native_value")

    def __init__(self, hub: WildixHub, api: PbxApi) -> None:
        """Initialise the PBX's version sensor."""
        self._coordinator = api.version
        super().__init__(hub, PBX_VERSION)

    @callback
    def _async_update_attrs(self) -> None:
        version = self._coordinator.data
        self._attr_available = self._coordinator.available and version is not None
        self._attr_native_value = version


@callback
def async_add_dialplan_switches(
    hub: WildixHub,
    async_add_entities: AddConfigEntryEntitiesCallback,
    platform: Platform,
    factory: Callable[[WildixHub, PbxApi, DialplanSwitch], Entity],
) -> None:
    """Keep one entity per dialplan switch of a platform's kind in step with the PBX.

    Tree switches are selects, the others switches. Switches the PBX adds appear with
    the poll that lists them; those it no longer lists leave the entity registry (as
    do those that changed kind, which the other platform then adds).
    """
    if (api := hub.pbx_api) is None:
        return
    coordinator = api.switches
    registry = er.async_get(hub.hass)
    entry_id = hub.entry.entry_id
    prefix = f"{entry_id}_switch_"
    tree = platform is Platform.SELECT
    added: set[str] = set()

    @callback
    def async_update() -> None:
        if (switches := coordinator.data) is None:
            return
        listed = {key for key, switch in switches.items() if switch.is_tree is tree}
        if new := sorted(listed - added):
            async_add_entities(factory(hub, api, switches[key]) for key in new)
        for entry in er.async_entries_for_config_entry(registry, entry_id):
            if (
                entry.domain == platform
                and entry.translation_key == DIALPLAN_SWITCH
                and entry.unique_id.removeprefix(prefix) not in listed
            ):
                registry.async_remove(entry.entity_id)
        added.intersection_update(listed)
        added.update(new)

    async_update()
    hub.entry.async_on_unload(coordinator.async_add_listener(async_update))


class DialplanSwitchEntity(_ApiEntity):
    """A dialplan switch on the PBX device, named by its title on the PBX.

    Written at once and shown as written; the next poll confirms it. A write the PBX
    refuses raises its translated error and shows the PBX's state again.
    """

    _coordinator: SwitchesCoordinator
    # The platform's kind of description.
    _description: type[WildixEntityDescription]

    def __init__(self, hub: WildixHub, api: PbxApi, switch: DialplanSwitch) -> None:
        """Initialise the entity of one switch."""
        self._api = api
        self._coordinator = api.switches
        self.switch_id = switch.id
        super().__init__(
            hub,
            self._description(
                key=f"switch_{switch.id}", translation_key=DIALPLAN_SWITCH
            ),
        )

    def _signals(self) -> Iterable[SignalType[()]]:
        """Return no signal: only the polls and the writes change a switch."""
        return ()

    @callback
    def _async_update_attrs(self) -> None:
        data = self._coordinator.data
        switch = None if data is None else data.get(self.switch_id)
        self._attr_available = self._coordinator.available and switch is not None
        if switch is not None:
            self._attr_name = switch.title
            self._show(switch.state)

    def _show(self, state: int) -> None:
        """Show a state of the switch."""
        raise NotImplementedError

    async def _async_set_state(self, state: int) -> None:
        """Show `state` at once, then write it; if the PBX did not take it, show the PBX's."""
        self._show(state)
        self.async_write_ha_state()
        try:
            await self._api.async_set_switch(self.switch_id, state)
        except HomeAssistantError:
            self._async_update_attrs()
            self.async_write_ha_state()
            raise
