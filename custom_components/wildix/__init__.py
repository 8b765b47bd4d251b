"""The Wildix integration: Wildix PBX events as Home Assistant devices and triggers."""

from collections.abc import Awaitable, Callable
import logging

from homeassistant.const import CONF_WEBHOOK_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from . import sqs, webhook
from .call_log_store import async_remove_call_history
from .capabilities import async_clear_capability_issues
from .cloudhook import async_delete_cloudhook
from .const import CONF_CLOUDHOOK, CONF_TRANSPORT, DOMAIN, Transport
from .coordinator import async_connect_pbx_api
from .devices import user_extension
from .hub import TransportConnection, WildixConfigEntry, WildixHub
from .inbox_api import InboxApi
from .inbox_services import async_setup_inbox_services
from .inbox_store import async_remove_inbox
from .issues import async_clear_issues
from .media_proxy import InboxMediaView
from .services import async_setup_services
from .storage import async_remove_storage
from .voice import async_setup_entry_voice, async_setup_voice

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TODO,
]

CONNECT: dict[
    Transport, Callable[[HomeAssistant, WildixHub], Awaitable[TransportConnection]]
] = {
    Transport.WEBHOOK: webhook.async_connect,
    Transport.SQS: sqs.async_connect,
}


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions, whether or not any entry is set up (rule action-setup)."""
    async_setup_services(hass)
    async_setup_inbox_services(hass)
    hass.http.register_view(InboxMediaView(hass))
    async_setup_voice(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: WildixConfigEntry) -> bool:
    """Set up a Wildix PBX from a config entry."""
    hub = WildixHub(hass, entry)
    await hub.async_load()
    await hub.call_history.async_load()
    connection = await CONNECT[hub.transport](hass, hub)
    entry.runtime_data = hub
    if await async_connect_pbx_api(hub) is not None:
        hub.inbox.api = InboxApi(hub)
    try:
        # Raises when a platform cannot be loaded, or when setup is cancelled.
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    except BaseException:
        # Releases what connecting took (the SQS client).
        await connection.async_stop()
        raise
    connection.async_start()
    hub.async_start()
    if hub.inbox.api is not None:
        hub.inbox.api.async_start()
    hub.call_history.async_start()

    async def async_stop() -> None:
        # The transport first, then the save: nothing delivered meanwhile is lost.
        await connection.async_stop()
        await hub.async_stop()
        await hub.call_history.async_stop()

    entry.async_on_unload(async_stop)
    entry.async_on_unload(async_setup_entry_voice(hass, entry.entry_id))
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: WildixConfigEntry) -> bool:
    """Bring an entry saved by an older version up to date."""
    if entry.version > 1:
        return False
    if entry.minor_version < 2:
        # Entries older than SQS support are webhooks and did not say so.
        hass.config_entries.async_update_entry(
            entry,
            data={CONF_TRANSPORT: Transport.WEBHOOK.value, **entry.data},
            minor_version=2,
        )
        _LOGGER.debug("Migrated %s to version 1.2", entry.title)
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: WildixConfigEntry) -> None:
    """Apply new options or a new secret live; reload for a new webhook, queue or keys."""
    hub = entry.runtime_data
    if not hub.async_apply_entry():
        hass.config_entries.async_schedule_reload(entry.entry_id)
        return
    hub.call_history.async_apply_options()
    if hub.pbx_api is not None:
        # Users the new filter or limit lets in come back from the directory.
        hub.pbx_api.async_reapply()


async def async_unload_entry(hass: HomeAssistant, entry: WildixConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: WildixConfigEntry) -> None:
    """Delete the cloudhook, the repair issues and the saved state of a removed entry."""
    if entry.data.get(CONF_CLOUDHOOK):
        await async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])
    async_clear_issues(hass, entry.entry_id)
    async_clear_capability_issues(hass, entry.entry_id)
    await async_remove_storage(hass, entry.entry_id)
    await async_remove_inbox(hass, entry.entry_id)
    await async_remove_call_history(hass, entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: WildixConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a user device; it returns with the user's next event."""
    extension = user_extension(entry.entry_id, device)
    if extension is None:
        return False
    entry.runtime_data.async_forget_user(extension)
    return True
