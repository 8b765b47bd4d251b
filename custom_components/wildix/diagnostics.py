"""Diagnostics: what the entry received and what it knows, without secrets or numbers.

The model is shown as storage writes it (persistence.py), redacted: one serialisation.
"""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_WEBHOOK_ID, __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.loader import async_get_integration

from .const import CONF_SECRET, DOMAIN
from .devices import user_extension
from .hub import WildixConfigEntry, WildixHub
from .model import User
from .persistence import call_as_dict, user_as_dict
from .views import timestamp

# Keys of the SQS transport's entry data; the webhook has only the first two.
TO_REDACT = {
    CONF_SECRET,
    CONF_WEBHOOK_ID,
    "access_key_id",
    "secret_access_key",
    "queue_url",
    "email",
    "remote_number",
    "remote_name",
    "message",
    "location",
    "recordings",
    "attachments",
    "api_token",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: WildixConfigEntry
) -> dict[str, Any]:
    """Return the diagnostics of a config entry."""
    hub = entry.runtime_data
    model = hub.model
    connection = {} if hub.pbx_api is None else {"pbx_api": hub.pbx_api.diagnostics()}
    return async_redact_data(
        {
            **await _async_common(hass, hub),
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "pbx": {
                "serial": model.pbx_serial,
                "last_event": None
                if model.last_event is None
                else timestamp(model.last_event * 1000),
                "tracked_extensions": None
                if model.extensions is None
                else sorted(model.extensions),
                "stale_call_timeout": model.stale_call_timeout,
                "max_event_age": hub.max_event_age,
                "show_remote": hub.show_remote,
                "max_users": model.max_users,
                "ignored_users": len(model.ignored_users),
            },
            "users": [_user(model.users[ext]) for ext in sorted(model.users)],
            "active_calls": [call_as_dict(call) for call in model.calls.values()],
            **connection,
        },
        TO_REDACT,
    )


async def async_get_device_diagnostics(
    hass: HomeAssistant, entry: WildixConfigEntry, device: dr.DeviceEntry
) -> dict[str, Any]:
    """Return the diagnostics of a user's device, or of the PBX's."""
    extension = user_extension(entry.entry_id, device)
    if extension is None:
        return await async_get_config_entry_diagnostics(hass, entry)
    hub = entry.runtime_data
    user = hub.model.users.get(extension)
    return async_redact_data(
        {
            **await _async_common(hass, hub),
            "user": None if user is None else _user(user),
            "active_calls": [
                call_as_dict(call)
                for call in hub.model.calls.values()
                if extension in call.legs
            ],
        },
        TO_REDACT,
    )


async def _async_common(hass: HomeAssistant, hub: WildixHub) -> dict[str, Any]:
    """Return what both kinds of diagnostics show: versions and traffic."""
    integration = await async_get_integration(hass, DOMAIN)
    return {
        "versions": {
            "integration": str(integration.version),
            "home_assistant": HA_VERSION,
        },
        "counters": dict(sorted(hub.deliveries.counters.items())),
        "recent_deliveries": [
            {"received": item.received, "type": item.type, "result": item.result}
            for item in hub.deliveries.recent
        ],
    }


def _user(user: User) -> dict[str, Any]:
    """Return a user as stored, with what their phone shows."""
    phone = user.phone()
    return user_as_dict(user) | {"phone": phone.state, "ringing": phone.ringing}
