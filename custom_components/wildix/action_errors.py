"""The translated errors of the integration's actions, and the loaded entry an action names."""

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN

if TYPE_CHECKING:
    from .hub import WildixConfigEntry


def invalid(key: str, **placeholders: str) -> ServiceValidationError:
    """Return the translated error for input an action cannot take."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def failed(key: str, **placeholders: str) -> HomeAssistantError:
    """Return the translated error for something the PBX did not do."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def loaded_entry(
    hass: HomeAssistant, entry_id: str, unknown: ServiceValidationError
) -> "WildixConfigEntry":
    """Return a loaded Wildix entry; raise `unknown` when there is no such entry."""
    entry: WildixConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise unknown
    if entry.state is not ConfigEntryState.LOADED:
        raise invalid("entry_not_loaded", entry=entry.title)
    return entry
