"""Device registry: one device for the PBX and one per PBX user."""

from collections.abc import Collection, Iterable

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from .const import DOMAIN, MANUFACTURER
from .model import User

USER_MODEL = "PBX user"
PBX_MODEL = "PBX"


def pbx_device_info(entry_id: str) -> DeviceInfo:
    """Return the device info that ties an entity to the PBX device."""
    return DeviceInfo(identifiers={(DOMAIN, entry_id)})


def user_identifier(entry_id: str, extension: str) -> tuple[str, str]:
    """Return the device registry identifier of a user's device."""
    return (DOMAIN, f"{entry_id}_{extension}")


def user_device_info(entry_id: str, extension: str) -> DeviceInfo:
    """Return the device info that ties an entity to a user's device."""
    return DeviceInfo(identifiers={user_identifier(entry_id, extension)})


def user_extension(entry_id: str, device: dr.DeviceEntry) -> str | None:
    """Return the extension of a user device of this entry, None for others."""
    return _extension(entry_id, device.identifiers)


def is_user_device(hass: HomeAssistant, device_id: str) -> bool:
    """Tell whether a device is a PBX user's device of any Wildix entry."""
    if (device := dr.async_get(hass).async_get(device_id)) is None:
        return False
    return find_user(hass, device.identifiers) is not None


def find_user(
    hass: HomeAssistant, identifiers: Iterable[tuple[str, str]]
) -> tuple[ConfigEntry, str] | None:
    """Return the Wildix entry and extension of a user device, None for other devices."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        if (extension := _extension(entry.entry_id, identifiers)) is not None:
            return entry, extension
    return None


def _extension(entry_id: str, identifiers: Iterable[tuple[str, str]]) -> str | None:
    prefix = f"{entry_id}_"
    for domain, identifier in identifiers:
        if domain == DOMAIN and identifier.startswith(prefix):
            return identifier.removeprefix(prefix)
    return None


class WildixDevices:
    """Keeps the devices of one config entry in step with the model."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Initialise for a config entry."""
        self._hass = hass
        self._entry = entry
        self._pbx_id: str | None = None
        self._pbx_serial: str | None = None
        self._users: dict[str, tuple[str, str]] = {}

    @callback
    def async_setup_pbx(self, serial: str | None) -> None:
        """Create the PBX device, or add its serial number once known."""
        if self._pbx_id is not None and serial == self._pbx_serial:
            return
        registry = dr.async_get(self._hass)
        device = registry.async_get_or_create(
            config_entry_id=self._entry.entry_id,
            identifiers={(DOMAIN, self._entry.entry_id)},
            manufacturer=MANUFACTURER,
            model=PBX_MODEL,
            name=self._entry.title,
        )
        if serial is not None and device.serial_number != serial:
            registry.async_update_device(device.id, serial_number=serial)
        self._pbx_id = device.id
        self._pbx_serial = serial

    @callback
    def async_user_device(self, user: User) -> str:
        """Create a user's device, or rename it once their name is known."""
        known = self._users.get(user.extension)
        if known is not None and known[1] == user.display_name:
            return known[0]
        registry = dr.async_get(self._hass)
        device = registry.async_get_or_create(
            config_entry_id=self._entry.entry_id,
            identifiers={user_identifier(self._entry.entry_id, user.extension)},
            manufacturer=MANUFACTURER,
            model=USER_MODEL,
            name=user.display_name,
        )
        if device.name != user.display_name or device.via_device_id != self._pbx_id:
            registry.async_update_device(
                device.id, name=user.display_name, via_device_id=self._pbx_id
            )
        self._users[user.extension] = (device.id, user.display_name)
        return device.id

    def user_device_id(self, extension: str) -> str | None:
        """Return the device id of a user, if the user has a device."""
        known = self._users.get(extension)
        return None if known is None else known[0]

    @callback
    def async_forget(self, extension: str) -> None:
        """Forget the device of a user whose device was deleted."""
        self._users.pop(extension, None)

    @callback
    def async_remove(self, extensions: Collection[str]) -> None:
        """Delete users' devices, and with them the users' entities."""
        for extension in extensions:
            self.async_forget(extension)
        registry = dr.async_get(self._hass)
        entry_id = self._entry.entry_id
        for device in dr.async_entries_for_config_entry(registry, entry_id):
            if user_extension(entry_id, device) in extensions:
                registry.async_remove_device(device.id)
