"""Config flow, AWS SQS part: the queue and keys of a new entry, new keys, another queue.

`WildixConfigFlow` (config_flow.py) inherits these steps; the first form leads to
`sqs` when the SQS transport is chosen.
"""

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigFlowResult
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.typing import UNDEFINED, UndefinedType

from .config_flow_pbx_api import TOKEN_SELECTOR, PbxApiConfigFlow
from .const import (
    CONF_ACCESS_KEY_ID,
    CONF_QUEUE_URL,
    CONF_SECRET_ACCESS_KEY,
    CONF_TRANSPORT,
    Transport,
)
from .schema import vol
from .sqs import (
    SqsAuthError,
    SqsError,
    SqsQueue,
    SqsQueueNotFoundError,
    async_validate_queue,
    parse_queue_url,
)

KEYS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_ACCESS_KEY_ID): str,
        vol.Required(CONF_SECRET_ACCESS_KEY): TOKEN_SELECTOR,
    }
)
SQS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_QUEUE_URL): TextSelector(
            TextSelectorConfig(type=TextSelectorType.URL)
        ),
    }
).extend(KEYS_SCHEMA.schema)


class SqsConfigFlow(PbxApiConfigFlow):
    """The SQS steps of Wildix's config flow (and, inherited, the PBX API ones)."""

    # The entry's title, taken on the first form.
    _title: str

    async def async_step_sqs(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the SQS queue and the keys entered in WMS; check them before creating."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = await self._async_check_queue_form(user_input)
            if data:

                def create() -> ConfigFlowResult:
                    return self.async_create_entry(
                        title=self._title,
                        data={
                            CONF_TRANSPORT: Transport.SQS.value,
                            **data,
                            **self._pbx_api,
                        },
                        description=Transport.SQS.value,
                        description_placeholders={
                            "queue": parse_queue_url(data[CONF_QUEUE_URL]).name
                        },
                    )

                return await self.async_show_capabilities(create)
        return self.async_show_form(
            step_id="sqs",
            data_schema=self.add_suggested_values_to_schema(SQS_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take and check the new keys, then reload the entry with them."""
        entry = self._get_reauth_entry()
        queue = parse_queue_url(entry.data[CONF_QUEUE_URL])
        errors: dict[str, str] = {}
        if user_input is not None:
            keys = _keys(user_input)
            if (error := await self._async_check(queue, keys)) is None:
                return self._async_save_sqs(entry, keys, "reauth_successful")
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=self.add_suggested_values_to_schema(
                KEYS_SCHEMA,
                user_input or {CONF_ACCESS_KEY_ID: entry.data[CONF_ACCESS_KEY_ID]},
            ),
            errors=errors,
            description_placeholders={"queue": queue.name},
        )

    async def _async_check_queue_form(
        self, user_input: Mapping[str, Any], own_url: str | None = None
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Check a queue URL and keys; return the entry data (empty if refused) and errors.

        Aborts when another entry polls the queue.
        """
        try:
            queue = parse_queue_url(user_input[CONF_QUEUE_URL])
        except ValueError:
            return {}, {CONF_QUEUE_URL: "invalid_queue_url"}
        if queue.url != own_url:
            await self.async_set_unique_id(queue.url)
            self._abort_if_unique_id_configured()
        keys = _keys(user_input)
        if (error := await self._async_check(queue, keys)) is not None:
            return {}, {"base": error}
        return {CONF_QUEUE_URL: queue.url, **keys}, {}

    async def _async_check(self, queue: SqsQueue, keys: dict[str, str]) -> str | None:
        """Return the form error for keys that cannot use the queue, None if they can."""
        try:
            await async_validate_queue(
                self.hass, queue, keys[CONF_ACCESS_KEY_ID], keys[CONF_SECRET_ACCESS_KEY]
            )
        except SqsAuthError:
            return "invalid_auth"
        except SqsQueueNotFoundError:
            return "queue_not_found"
        except SqsError:
            return "cannot_connect"
        return None

    def _async_save_sqs(
        self,
        entry: ConfigEntry,
        updates: dict[str, str],
        reason: str,
        unique_id: str | UndefinedType = UNDEFINED,
    ) -> ConfigFlowResult:
        """Save new queue data and finish; the entry restarts with it."""
        if entry.state is ConfigEntryState.LOADED:
            # Its update listener reloads it: the queue and keys belong to the transport.
            self.hass.config_entries.async_update_entry(
                entry, unique_id=unique_id, data={**entry.data, **updates}
            )
            return self.async_abort(reason=reason)
        return self.async_update_reload_and_abort(
            entry, unique_id=unique_id, data_updates=updates, reason=reason
        )

    async def async_step_reconfigure_sqs(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the queue or keys of an SQS entry; checked like a new one."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, errors = await self._async_check_queue_form(
                user_input, entry.unique_id
            )
            if data:
                return self._async_save_sqs(
                    entry,
                    data,
                    "reconfigure_sqs_successful",
                    unique_id=data[CONF_QUEUE_URL],
                )
        return self.async_show_form(
            step_id="reconfigure_sqs",
            data_schema=self.add_suggested_values_to_schema(
                SQS_SCHEMA,
                user_input
                or {
                    CONF_QUEUE_URL: entry.data[CONF_QUEUE_URL],
                    CONF_ACCESS_KEY_ID: entry.data[CONF_ACCESS_KEY_ID],
                },
            ),
            errors=errors,
        )


def _keys(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Return the AWS keys of a form, without the blanks a paste brings along."""
    return {
        CONF_ACCESS_KEY_ID: user_input[CONF_ACCESS_KEY_ID].strip(),
        CONF_SECRET_ACCESS_KEY: user_input[CONF_SECRET_ACCESS_KEY].strip(),
    }
