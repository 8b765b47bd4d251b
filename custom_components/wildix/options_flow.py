"""Options flow: the users that get devices, timeouts, privacy, dial rules, and the people linked to users."""

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
from .dial_rules import CONF_DIAL_PREFIXES, normalize_prefix
from .hub import WildixConfigEntry
from .model import MAX_USERS
from .options import DEFAULT_OPTIONS
from .people import CONF_PEOPLE, PERSON_DOMAIN, linked_people
from .protocol import is_extension
from .schema import vol


class WildixOptionsFlow(OptionsFlow):
    """Choose the users that get devices, the timeouts, what is shown and dialled, and who is who.

    The first step holds the entry's settings; the second, shown when Home Assistant
    has persons, links each person to a Wildix user.
    """

    config_entry: WildixConfigEntry

    def __init__(self) -> None:
        """Initialise the flow."""
        # The options of the first step, saved with the people of the second.
        self._options: dict[str, Any] = {}

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the settings, then the people (if any), or save the settings."""
        errors: dict[str, str] = {}
        if user_input is not None:
            chosen = user_input.get(CONF_EXTENSIONS, [])
            extensions = sorted({text.strip() for text in chosen})
            if not all(is_extension(extension) for extension in extensions):
                errors[CONF_EXTENSIONS] = "invalid_extension"
            options = {
                **self.config_entry.options,
                **user_input,
                CONF_EXTENSIONS: extensions,
                CONF_MAX_USERS: int(user_input[CONF_MAX_USERS]),
            }
            if CONF_DIAL_PREFIXES in user_input:
                try:
                    options[CONF_DIAL_PREFIXES] = _prefixes(
                        user_input[CONF_DIAL_PREFIXES]
                    )
                except ValueError:
                    errors[CONF_DIAL_PREFIXES] = "invalid_dial_prefix"
            if not errors:
                self._options = options
                if self._persons():
                    return await self.async_step_people()
                return self.async_create_entry(data=options)
        current = user_input or {**DEFAULT_OPTIONS, **self.config_entry.options}
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                _settings_schema(self._user_options(current.get(CONF_EXTENSIONS, []))),
                current,
            ),
            errors=errors,
        )

    async def async_step_people(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Link each person to a Wildix user, several at once; an empty field unlinks."""
        persons = self._persons()
        saved = linked_people(self.config_entry.options)
        known = self._known_users()
        errors: dict[str, str] = {}
        if user_input is not None:
            links = {
                person: extension.strip()
                for person, extension in user_input.items()
                if person in persons
                and isinstance(extension, str)
                and extension.strip()
            }
            for person, extension in links.items():
                # A link saved before its user left the directory may stay as it is.
                if extension not in known and saved.get(person) != extension:
                    errors[person] = "unknown_extension"
            if not errors:
                return self.async_create_entry(
                    data={**self._options, CONF_PEOPLE: links}
                )
        choices = {**{ext: ext for ext in saved.values()}, **known}
        users = [
            SelectOptionDict(value=extension, label=choices[extension])
            for extension in sorted(choices)
        ]
        return self.async_show_form(
            step_id="people",
            data_schema=self.add_suggested_values_to_schema(
                _people_schema(persons, users),
                user_input if user_input is not None else saved,
            ),
            errors=errors,
            description_placeholders={
                "persons": "\n".join(
                    f"- {person}: {name}" for person, name in sorted(persons.items())
                )
            },
        )

    def _persons(self) -> dict[str, str]:
        """Return Home Assistant's persons: entity id → name."""
        return {
            state.entity_id: state.name
            for state in self.hass.states.async_all(PERSON_DOMAIN)
        }

    def _known_users(self) -> dict[str, str]:
        """Return the entry's known users: extension → name and extension."""
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return {}
        return {
            extension: f"{user.name} ({extension})" if user.name else extension
            for extension, user in entry.runtime_data.model.users.items()
        }

    def _user_options(self, chosen: Iterable[str]) -> list[SelectOptionDict]:
        """Return the known users, and chosen extensions not seen yet."""
        labels = {extension: extension for extension in chosen} | self._known_users()
        return [
            SelectOptionDict(value=extension, label=labels[extension])
            for extension in sorted(labels)
        ]


def _prefixes(texts: Iterable[str]) -> list[str]:
    """Return dial prefixes without separators or repeats, or raise ValueError."""
    prefixes: list[str] = []
    for text in texts:
        if (prefix := normalize_prefix(text)) not in prefixes:
            prefixes.append(prefix)
    return prefixes


def _settings_schema(users: list[SelectOptionDict]) -> vol.Schema:
    """Return the settings form; known users are offered by name."""
    return vol.Schema(
        {
            vol.Optional(CONF_EXTENSIONS): SelectSelector(
                SelectSelectorConfig(
                    options=users,
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
            vol.Optional(CONF_DIAL_PREFIXES): SelectSelector(
                SelectSelectorConfig(
                    options=[],
                    multiple=True,
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
        }
    )


def _people_schema(persons: Iterable[str], users: list[SelectOptionDict]) -> vol.Schema:
    """Return the people form: per person, a Wildix user or none."""
    return vol.Schema(
        {
            vol.Optional(person): SelectSelector(
                SelectSelectorConfig(
                    options=users,
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            )
            for person in sorted(persons)
        }
    )
