"""The Wildix integration: Wildix PBX events as Home Assistant devices and triggers."""

from homeassistant.const import CONF_WEBHOOK_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .cloudhook import async_delete_cloudhook
from .const import CONF_CLOUDHOOK, Transport
from .devices import user_extension
from .hub import WildixConfigEntry, WildixHub
from .issues import async_clear_issues
from .sqs import async_connect
from .webhook import async_register_webhook

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: WildixConfigEntry) -> bool:
    """Set up a Wildix PBX from a config entry."""
    hub = WildixHub(hass, entry)
    await hub.async_load()
    poller = await async_connect(hass, hub) if hub.transport is Transport.SQS else None
    entry.runtime_data = hub
    try:
        # Raises when a platform cannot be loaded, or when setup is cancelled.
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    except BaseException:
        if poller is not None:
            await poller.async_stop()
        raise
    if poller is None:
        hub.async_start(async_register_webhook(hass, hub, entry.data[CONF_WEBHOOK_ID]))
    else:
        hub.async_start(poller.async_stop)
        poller.async_start()
    # Stops the transport first, then saves: nothing delivered meanwhile is lost.
    entry.async_on_unload(hub.async_stop)
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    return True


async def _async_entry_updated(hass: HomeAssistant, entry: WildixConfigEntry) -> None:
    """Apply new options or a new secret live; reload for a new webhook, queue or keys."""
    if not entry.runtime_data.async_apply_entry():
        hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: WildixConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: WildixConfigEntry) -> None:
    """Delete the cloudhook, the repair issues and the saved state of a removed entry."""
    if entry.data.get(CONF_CLOUDHOOK):
        await async_delete_cloudhook(hass, entry.data[CONF_WEBHOOK_ID])
    async_clear_issues(hass, entry.entry_id)
    await WildixHub(hass, entry).async_remove_store()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: WildixConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a user device; it returns with the user's next event."""
    extension = user_extension(entry.entry_id, device)
    if extension is None:
        return False
    entry.runtime_data.async_forget_user(extension)
    return True
