"""Options flow: the users that get devices, timeouts and privacy."""

from collections.abc import Iterable
from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .const import (
    CONF_EXTENSIONS,
    CONF_MAX_EVENT_AGE,
    CONF_MAX_USERS,
    CONF_MISSED_INTERNAL,
    CONF_PASS_THROUGH,
    CONF_SHOW_REMOTE,
    CONF_STALE_CALL_TIMEOUT,
)
from .model import MAX_USERS
from .options import DEFAULT_OPTIONS
from .protocol import is_extension
from .schema import vol


class WildixOptionsFlow(OptionsFlow):
    """Choose the users that get devices, the timeouts and what is shown of callers."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the options, or save them."""
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = user_input.get(CONF_EXTENSIONS, [])
            extensions = sorted({text.strip() for text in chosen})
            if all(is_extension(extension) for extension in extensions):
                return self.async_create_entry(
                    data={
                        **user_input,
                        CONF_EXTENSIONS: extensions,
                        CONF_MAX_USERS: int(user_input[CONF_MAX_USERS]),
                    }
                )
            errors[CONF_EXTENSIONS] = "invalid_extension"
        current = user_input or {**DEFAULT_OPTIONS, **self.config_entry.options}
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                self._schema(current.get(CONF_EXTENSIONS, [])), current
            ),
            errors=errors,
        )

    def _schema(self, chosen: Iterable[str]) -> vol.Schema:
        """Return the options form; known users are offered by name."""
        return vol.Schema(
            {
                vol.Optional(CONF_EXTENSIONS): SelectSelector(
                    SelectSelectorConfig(
                        options=self._user_options(chosen),
                        multiple=True,
                        custom_value=True,
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Required(CONF_STALE_CALL_TIMEOUT): NumberSelector(
                    NumberSelectorConfig(
                        min=0.25,
                        max=72,
                        step=0.25,
                        unit_of_measurement="h",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Required(CONF_MAX_EVENT_AGE): NumberSelector(
                    NumberSelectorConfig(
                        min=1,
                        max=1440,
                        step=1,
                        unit_of_measurement="min",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Required(CONF_SHOW_REMOTE): BooleanSelector(),
                vol.Required(CONF_MAX_USERS): NumberSelector(
                    NumberSelectorConfig(
                        min=1, max=MAX_USERS, step=1, mode=NumberSelectorMode.BOX
                    )
                ),
                # Optional: forms of older entries and scripts may not send them.
                vol.Optional(
                    CONF_PASS_THROUGH, default=DEFAULT_OPTIONS[CONF_PASS_THROUGH]
                ): BooleanSelector(),
                vol.Optional(
                    CONF_MISSED_INTERNAL,
                    default=DEFAULT_OPTIONS[CONF_MISSED_INTERNAL],
                ): BooleanSelector(),
            }
        )

    def _user_options(self, chosen: Iterable[str]) -> list[SelectOptionDict]:
        """Return the known users, and chosen extensions not seen yet."""
        labels = {extension: extension for extension in chosen}
        if (entry := self.config_entry).state is ConfigEntryState.LOADED:
            for extension, user in entry.runtime_data.model.users.items():
                labels[extension] = (
                    f"{user.name} ({extension})" if user.name else extension
                )
        return [
            SelectOptionDict(value=extension, label=labels[extension])
            for extension in sorted(labels)
        ]
