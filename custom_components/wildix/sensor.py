"""Sensors: presence, phone state, last call and missed calls of users; PBX activity."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api_entities import async_add_version_sensor
from .daily_stats import async_add_daily_sensors
from .entity import WildixEntityDescription, WildixModelEntity, async_add_user_entities
from .hub import WildixConfigEntry, WildixHub
from .model import Aspect, PbxAspect, PhoneState, User
from .protocol import PresenceStatus
from .views import (
    CALL_UNRECORDED,
    call_attributes,
    last_call_attributes,
    presence_attributes,
    timestamp,
)
from .voicemail_sensor import VOICEMAIL, WildixVoicemailSensor

PARALLEL_UPDATES = 0

type Value = str | int | datetime | None


@dataclass(frozen=True, kw_only=True)
class WildixUserSensorDescription(WildixEntityDescription, SensorEntityDescription):
    """Describes a sensor of a PBX user."""

    value_fn: Callable[[WildixHub, User], Value]
    attributes_fn: Callable[[WildixHub, User], dict[str, Any] | None] = (
        lambda hub, user: None
    )


@dataclass(frozen=True, kw_only=True)
class WildixPbxSensorDescription(WildixEntityDescription, SensorEntityDescription):
    """Describes a sensor of the PBX."""

    value_fn: Callable[[WildixHub], Value]


def _presence(_hub: WildixHub, user: User) -> str | None:
    if user.presence is None or (state := user.presence.state) is None:
        return None
    return state.value


def _last_call(_hub: WildixHub, user: User) -> datetime | None:
    if user.last_call is None:
        return None
    return timestamp(user.last_call.started_ms)


def _last_event(hub: WildixHub) -> datetime | None:
    # Home Assistant shows timestamps to the second: a finer value would make the
    # entity write an unchanged state for every event.
    if hub.model.last_event is None:
        return None
    return timestamp(int(hub.model.last_event) * 1000)


USER_SENSORS: tuple[WildixUserSensorDescription, ...] = (
    WildixUserSensorDescription(
        key="presence",
        translation_key="presence",
        aspects=frozenset({Aspect.PRESENCE}),
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in PresenceStatus],
        value_fn=_presence,
        attributes_fn=lambda hub, user: presence_attributes(user),
    ),
    WildixUserSensorDescription(
        key="phone",
        translation_key="phone",
        aspects=frozenset({Aspect.PHONE}),
        device_class=SensorDeviceClass.ENUM,
        options=[state.value for state in PhoneState],
        value_fn=lambda hub, user: hub.phone(user).state.value,
        attributes_fn=lambda hub, user: hub.call_history.names.with_remote_name(
            call_attributes(user, hub.show_remote, hub.phone(user))
        ),
    ),
    WildixUserSensorDescription(
        key="last_call",
        translation_key="last_call",
        aspects=frozenset({Aspect.LAST_CALL}),
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_last_call,
        attributes_fn=lambda hub, user: hub.call_history.names.with_remote_name(
            last_call_attributes(user, hub.show_remote, hub.inbox.file_of)
        ),
    ),
    WildixUserSensorDescription(
        key="missed_calls",
        translation_key="missed_calls",
        aspects=frozenset({Aspect.MISSED_CALLS}),
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda _hub, user: user.missed_calls,
    ),
)

PBX_SENSORS: tuple[WildixPbxSensorDescription, ...] = (
    WildixPbxSensorDescription(
        key="active_calls",
        translation_key="active_calls",
        pbx_aspects=frozenset({PbxAspect.ACTIVE_CALLS}),
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda hub: len(hub.model.calls),
    ),
    WildixPbxSensorDescription(
        key="last_event",
        translation_key="last_event",
        pbx_aspects=frozenset({PbxAspect.LAST_EVENT}),
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # It changes with nearly every event: a recorder row each time, and the
        # PBX device's activity full of it. For those who want it.
        entity_registry_enabled_default=False,
        value_fn=_last_event,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: WildixConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of the PBX and of every user, known now or later."""
    hub = entry.runtime_data
    async_add_entities(WildixPbxSensor(hub, description) for description in PBX_SENSORS)
    async_add_version_sensor(hub, async_add_entities)
    async_add_daily_sensors(hub, async_add_entities)
    async_add_user_entities(
        hub,
        async_add_entities,
        lambda extension: (
            *(
                WildixUserSensor(hub, description, extension)
                for description in USER_SENSORS
            ),
            WildixVoicemailSensor(hub, VOICEMAIL, extension),
        ),
    )


class WildixUserSensor(WildixModelEntity, SensorEntity):
    """A sensor of a PBX user."""

    entity_description: WildixUserSensorDescription
    _shown = attrgetter("_attr_native_value", "_attr_extra_state_attributes")
    # New with every call: recorded, each would make a new attributes row per call.
    _unrecorded_attributes = frozenset(CALL_UNRECORDED)

    @callback
    def _async_update_attrs(self) -> None:
        if (user := self.user) is None:
            self._attr_native_value = None
            self._attr_extra_state_attributes = {}
            return
        description = self.entity_description
        self._attr_native_value = description.value_fn(self.hub, user)
        # No attributes and empty attributes write the same state.
        self._attr_extra_state_attributes = (
            description.attributes_fn(self.hub, user) or {}
        )


class WildixPbxSensor(WildixModelEntity, SensorEntity):
    """A sensor of the PBX."""

    entity_description: WildixPbxSensorDescription
    _shown = attrgetter("_attr_native_value")

    @callback
    def _async_update_attrs(self) -> None:
        self._attr_native_value = self.entity_description.value_fn(self.hub)
