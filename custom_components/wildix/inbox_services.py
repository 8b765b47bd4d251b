"""Inbox actions: mark voicemails read, delete a voicemail.

A message is named by its media content id (as the media browser and the voicemail
trigger give it), or by a user's device and a message id. Who may act: anyone for
automations and administrators, others only for the Wildix user linked to them.
"""

from typing import Final

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, device_registry as dr

from .action_errors import invalid, loaded_entry
from .const import DOMAIN
from .devices import find_user
from .hub import WildixConfigEntry
from .inbox import InboxItem, Kind
from .inbox_hub import MEDIA_SOURCE_SCHEME
from .people import check_may_act_for
from .schema import vol

SERVICE_MARK_VOICEMAIL_READ: Final = "mark_voicemail_read"
SERVICE_DELETE_VOICEMAIL: Final = "delete_voicemail"
ATTR_MEDIA_CONTENT_ID: Final = "media_content_id"
ATTR_MESSAGE_ID: Final = "message_id"

_TARGET = {
    vol.Optional(ATTR_MEDIA_CONTENT_ID): vol.All(cv.string, vol.Length(max=512)),
    vol.Optional(ATTR_DEVICE_ID): cv.string,
    vol.Optional(ATTR_MESSAGE_ID): vol.All(cv.string, vol.Length(max=128)),
}
MARK_READ_SCHEMA: Final = vol.Schema(_TARGET)
DELETE_SCHEMA: Final = vol.Schema(_TARGET)


async def _target(
    call: ServiceCall, *, whole_inbox: bool
) -> tuple[WildixConfigEntry, str, InboxItem | None]:
    """Return the entry, the user and the message an action names, checking rights."""
    hass = call.hass
    message_id: str | None = call.data.get(ATTR_MESSAGE_ID)
    if (content_id := call.data.get(ATTR_MEDIA_CONTENT_ID)) is not None:
        parts = content_id.removeprefix(f"{MEDIA_SOURCE_SCHEME}{DOMAIN}/").split("/")
        if len(parts) != 4 or parts[2] != Kind.VOICEMAIL:
            raise invalid("voicemail_not_found", message=content_id)
        entry = loaded_entry(
            hass, parts[0], invalid("voicemail_not_found", message=parts[0])
        )
        extension, message_id = parts[1], parts[3]
    elif (device_id := call.data.get(ATTR_DEVICE_ID)) is not None:
        device = dr.async_get(hass).async_get(device_id)
        if device is None:
            raise invalid("unknown_device", device_id=device_id)
        if (found := find_user(hass, device.identifiers)) is None:
            raise invalid("not_a_user", device=device.name or device_id)
        entry = loaded_entry(
            hass,
            found[0].entry_id,
            invalid("voicemail_not_found", message=found[0].entry_id),
        )
        extension = found[1]
    else:
        raise invalid("voicemail_target_missing")
    user = (
        None
        if call.context.user_id is None
        else await hass.auth.async_get_user(call.context.user_id)
    )
    check_may_act_for(hass, entry.options, user, extension)
    if message_id is None:
        if whole_inbox:
            return entry, extension, None
        raise invalid("voicemail_target_missing")
    inbox = entry.runtime_data.inbox.inbox
    item = inbox.get(extension, message_id) or next(
        (
            item
            for item in inbox.items(extension, Kind.VOICEMAIL)
            if item.message_id == message_id
        ),
        None,
    )
    if item is None or item.kind is not Kind.VOICEMAIL:
        raise invalid("voicemail_not_found", message=message_id)
    return entry, extension, item


async def _async_mark_read(call: ServiceCall) -> None:
    """Mark one voicemail (or all of a user's) read; the sensor follows at once."""
    entry, extension, item = await _target(call, whole_inbox=True)
    inbox = entry.runtime_data.inbox
    if inbox.api is not None:
        for unread in (
            [item] if item is not None else inbox.inbox.items(extension, Kind.VOICEMAIL)
        ):
            if not unread.read:
                await inbox.api.async_mark_read(unread)
    inbox.async_mark_read(extension, None if item is None else [item.id])


async def _async_delete(call: ServiceCall) -> None:
    """Delete a voicemail on the PBX, then from Home Assistant."""
    entry, extension, item = await _target(call, whole_inbox=False)
    assert item is not None
    inbox = entry.runtime_data.inbox
    if inbox.api is None or not inbox.api.can_delete(item):
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="voicemail_delete_unsupported",
            translation_placeholders={"entry": entry.title},
        )
    await inbox.api.async_delete(item)
    inbox.async_remove(extension, item.id)


@callback
def async_setup_inbox_services(hass: HomeAssistant) -> None:
    """Register the inbox actions."""
    hass.services.async_register(
        DOMAIN, SERVICE_MARK_VOICEMAIL_READ, _async_mark_read, schema=MARK_READ_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_DELETE_VOICEMAIL, _async_delete, schema=DELETE_SCHEMA
    )
