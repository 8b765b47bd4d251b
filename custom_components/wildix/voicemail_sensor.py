"""The voicemail sensor of each PBX user: unread voicemails, and the latest one."""

from typing import Any

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.core import callback

from .entity import WildixEntity
from .inbox import Kind
from .views import timestamp

VOICEMAIL = SensorEntityDescription(key="voicemail", translation_key="voicemail")


class WildixVoicemailSensor(WildixEntity, SensorEntity):
    """Unread voicemails of a user (the PBX's read flag, or read in Home Assistant)."""

    extension: str
    entity_description = VOICEMAIL

    async def async_added_to_hass(self) -> None:
        """Follow the user's inbox."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.hub.signals.connect(
                self.hub.inbox.signal(self.extension), self._async_changed
            )
        )
        self._async_update_attrs()

    @callback
    def _async_changed(self) -> None:
        self._async_update_attrs()
        self.async_write_ha_state()

    @callback
    def _async_update_attrs(self) -> None:
        inbox = self.hub.inbox.inbox
        self._attr_native_value = inbox.unread(self.extension)
        latest = inbox.items(self.extension, Kind.VOICEMAIL)[:1]
        attributes: dict[str, Any] = {
            "last_caller": None,
            "last_time": None,
            "last_duration": None,
        }
        if latest:
            item = latest[0]
            shown = self.hub.show_remote or item.remote_local
            attributes = {
                "last_caller": (item.remote_name or item.remote_number)
                if shown
                else None,
                "last_time": timestamp(item.time_ms),
                "last_duration": item.duration,
            }
        self._attr_extra_state_attributes = attributes
