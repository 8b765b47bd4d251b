"""The call log's action: read the PBX's phonebooks again now (`wildix.refresh_phonebook`).

The phonebooks are read every six hours by themselves (pbx_call_log.py); after
contacts were added on the PBX, this action brings their names at once. Reads only,
but asks the PBX for every contact: administrators and automations only.
"""

from typing import Final

from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.service import async_register_admin_service

from .action_errors import invalid, loaded_entry
from .const import DOMAIN
from .pbx_transport import PbxError
from .schema import vol

SERVICE_REFRESH_PHONEBOOK: Final = "refresh_phonebook"
# homeassistant.const has it only from 2025.5 on.
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
REFRESH_PHONEBOOK_SCHEMA: Final = vol.Schema(
    {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string}
)


async def _async_refresh_phonebook(call: ServiceCall) -> None:
    """Read an entry's phonebooks now; say why when the PBX does not answer them."""
    entry = loaded_entry(
        call.hass,
        entry_id := call.data[ATTR_CONFIG_ENTRY_ID],
        invalid("unknown_entry", entry_id=entry_id),
    )
    hub = entry.runtime_data
    api, phonebook = hub.pbx_api, hub.call_history.pbx
    if api is None or phonebook is None:
        raise invalid("no_pbx_connection", entry=entry.title)
    try:
        await phonebook.async_read_phonebook()
    except PbxError as err:
        raise api.refusal(err, entry.title) from err


@callback
def async_setup_call_log_services(hass: HomeAssistant) -> None:
    """Register the call log's action (once, for every entry)."""
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_REFRESH_PHONEBOOK,
        _async_refresh_phonebook,
        schema=REFRESH_PHONEBOOK_SCHEMA,
    )
