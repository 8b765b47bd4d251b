"""Repair flows: take the new secret when Wildix's events are being rejected."""

from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

if TYPE_CHECKING:
    # Home Assistant 2025.4 has no RepairsFlowResult yet.
    from homeassistant.components.repairs import RepairsFlowResult

from .config_flow import SECRET_SCHEMA, secret_error
from .const import CONF_SECRET


class SecretRepairFlow(RepairsFlow):
    """Replace the secret of an entry whose events fail their signature check."""

    def __init__(self, entry: ConfigEntry | None) -> None:
        """Initialise the flow for an entry."""
        self._entry = entry

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> "RepairsFlowResult":
        """Start with the secret form."""
        return await self.async_step_secret()

    async def async_step_secret(
        self, user_input: dict[str, Any] | None = None
    ) -> "RepairsFlowResult":
        """Take the secret Wildix shows; it applies at once, without a reload."""
        if (entry := self._entry) is None:
            return self.async_abort(reason="entry_removed")
        errors: dict[str, str] = {}
        if user_input is not None:
            secret = user_input.get(CONF_SECRET, "")
            if (error := secret_error(self.hass, secret, entry.entry_id)) is None:
                self.hass.config_entries.async_update_entry(
                    entry, data={**entry.data, CONF_SECRET: secret}
                )
                return self.async_create_entry(data={})
            errors[CONF_SECRET] = error
        return self.async_show_form(
            step_id="secret",
            data_schema=SECRET_SCHEMA,
            errors=errors,
            description_placeholders={"title": entry.title},
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Return the fix flow of an issue."""
    entry_id = None if data is None else data.get("entry_id")
    entry = None if entry_id is None else hass.config_entries.async_get_entry(entry_id)
    return SecretRepairFlow(entry)
