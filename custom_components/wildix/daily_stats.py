"""Sensors of each user's day on the phone: calls, missed calls, talk time; back to zero at local midnight."""

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import UnitOfTime
from homeassistant.core import callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .call_log import DayTotals
from .entity import WildixEntity, async_add_user_entities
from .hub import WildixHub


@dataclass(frozen=True, kw_only=True)
class DailySensorDescription(SensorEntityDescription):
    """Describes a sensor of what a user's calls of today add up to."""

    value_fn: Callable[[DayTotals], float]


DAILY_SENSORS: tuple[DailySensorDescription, ...] = (
    DailySensorDescription(
        key="calls_today",
        translation_key="calls_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda totals: totals.calls,
    ),
    DailySensorDescription(
        key="missed_calls_today",
        translation_key="missed_calls_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda totals: totals.missed,
    ),
    DailySensorDescription(
        key="talk_time_today",
        translation_key="talk_time_today",
        state_class=SensorStateClass.TOTAL_INCREASING,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=1,
        value_fn=lambda totals: round(totals.talk_seconds / 60, 2),
    ),
)


@callback
def async_add_daily_sensors(
    hub: WildixHub, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Add the daily sensors of every user, known now or later."""
    async_add_user_entities(
        hub,
        async_add_entities,
        lambda extension: (
            WildixDailySensor(hub, description, extension)
            for description in DAILY_SENSORS
        ),
    )


class WildixDailySensor(WildixEntity, SensorEntity):
    """What a user's calls that began today add up to."""

    entity_description: DailySensorDescription
    extension: str

    async def async_added_to_hass(self) -> None:
        """Follow what the user's calls of today add up to."""
        await super().async_added_to_hass()
        history = self.hub.call_history
        self.async_on_remove(
            self.hub.signals.connect(
                history.signal_today(self.extension), self._async_totals
            )
        )
        self._attr_native_value = self.entity_description.value_fn(
            history.today(self.extension)
        )

    @callback
    def _async_totals(self, totals: DayTotals) -> None:
        value = self.entity_description.value_fn(totals)
        if value != self._attr_native_value:
            self._attr_native_value = value
            self.async_write_ha_state()
