"""The entity receiver's sensor: one state written through Home Assistant's `Entity`.

The minimal and calibration receivers write with `hass.states.async_set`; an
integration writes through an entity, which also reads the entity's properties, its
registry entry and its name. This sensor lets the harness price that write.
"""

from typing import Any

from homeassistant.components.sensor import SensorEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType

from . import DATA_ENTITY_RECEIVER


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Add the entity receiver's sensor."""
    sensor = ReceiverSensor()
    hass.data[DATA_ENTITY_RECEIVER] = sensor
    async_add_entities([sensor])


class ReceiverSensor(SensorEntity):
    """Shows the type of the last delivery, with its id as an attribute."""

    _attr_has_entity_name = True
    _attr_name = "Entity receiver"
    _attr_should_poll = False
    _attr_unique_id = "bench_entity_receiver"

    @callback
    def async_show(self, event_type: str, event_id: Any) -> None:
        """Show a delivery: the same state and attribute the minimal receiver writes."""
        self._attr_native_value = event_type
        self._attr_extra_state_attributes = {"id": event_id}
        self.async_write_ha_state()
