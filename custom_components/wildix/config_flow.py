"""Config flow: a webhook (URL shown, secret taken) or an AWS SQS queue (keys checked), and reauth."""

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from homeassistant.components import webhook
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_NAME, CONF_WEBHOOK_ID
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .const import (
    CONF_ACCESS_KEY_ID,
    CONF_CLOUDHOOK,
    CONF_QUEUE_URL,
    CONF_SECRET,
    CONF_SECRET_ACCESS_KEY,
    CONF_TRANSPORT,
    DOMAIN,
    Transport,
)
from .sqs import (
    SqsAuthError,
    SqsError,
    SqsQueue,
    SqsQueueNotFoundError,
    async_validate_queue,
    parse_queue_url,
)

DEFAULT_TITLE = "Wildix"

USER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_TRANSPORT, default=Transport.WEBHOOK): SelectSelector(
            SelectSelectorConfig(
                options=[transport.value for transport in Transport],
                mode=SelectSelectorMode.LIST,
                translation_key=CONF_TRANSPORT,
            )
        ),
        vol.Optional(CONF_SECRET): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        vol.Optional(CONF_NAME): str,
    }
)


KEYS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_ACCESS_KEY_ID): str,
        vol.Required(CONF_SECRET_ACCESS_KEY): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
    }
)
SQS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_QUEUE_URL): TextSelector(
            TextSelectorConfig(type=TextSelectorType.URL)
        ),
    }
).extend(KEYS_SCHEMA.schema)


class CloudNotConnectedError(Exception):
    """Home Assistant Cloud is subscribed but not connected."""


def secret_is_valid(secret: str) -> bool:
    """Tell whether a secret can be one that Wildix generated."""
    return bool(secret) and not any(char.isspace() for char in secret)


class WildixConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a Wildix PBX."""

    VERSION = 1

    def __init__(self) -> None:
        """Initialise the flow."""
        self._webhook_id: str | None = None
        self._webhook_url = ""
        self._cloudhook = False
        self._public = True
        self._created = False
        self._title = DEFAULT_TITLE

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask how Wildix delivers events; for the webhook, show its URL and take the secret."""
        if self._webhook_id is None:
            self._webhook_id = webhook.async_generate_id()
            try:
                await self._async_prepare_url(self._webhook_id)
            except CloudNotConnectedError:
                self._webhook_id = None
                return self.async_abort(reason="cloud_not_connected")
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input.get(CONF_TRANSPORT, Transport.WEBHOOK) != Transport.WEBHOOK:
                self._title = user_input.get(CONF_NAME) or DEFAULT_TITLE
                return await self.async_step_sqs()
            secret = user_input.get(CONF_SECRET, "")
            if secret_is_valid(secret):
                self._async_abort_entries_match({CONF_SECRET: secret})
                self._created = True
                return self.async_create_entry(
                    title=user_input.get(CONF_NAME) or DEFAULT_TITLE,
                    data={
                        CONF_WEBHOOK_ID: self._webhook_id,
                        CONF_SECRET: secret,
                        CONF_CLOUDHOOK: self._cloudhook,
                    },
                    description_placeholders={"webhook_url": self._webhook_url},
                )
            errors[CONF_SECRET] = "invalid_secret" if secret else "secret_required"
        if not self._public:
            errors.setdefault("base", "url_not_public")
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(USER_SCHEMA, user_input),
            errors=errors,
            description_placeholders={"webhook_url": self._webhook_url},
        )

    async def _async_prepare_url(self, webhook_id: str) -> None:
        """Find the URL Wildix must post to: a cloudhook, else the external URL."""
        if "cloud" in self.hass.config.components:
            from homeassistant.components import cloud  # noqa: PLC0415

            if cloud.async_active_subscription(self.hass):
                if not cloud.async_is_connected(self.hass):
                    raise CloudNotConnectedError
                self._webhook_url = await cloud.async_create_cloudhook(
                    self.hass, webhook_id
                )
                self._cloudhook = True
                return
        try:
            self._webhook_url = webhook.async_generate_url(
                self.hass, webhook_id, allow_internal=False
            )
        except NoURLAvailableError:
            self._public = False
        else:
            return
        try:
            self._webhook_url = webhook.async_generate_url(self.hass, webhook_id)
        except NoURLAvailableError:
            self._webhook_url = webhook.async_generate_path(webhook_id)

    async def async_step_sqs(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the SQS queue and the keys entered in WMS; check them before creating."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                queue = parse_queue_url(user_input[CONF_QUEUE_URL])
            except ValueError:
                errors[CONF_QUEUE_URL] = "invalid_queue_url"
            else:
                await self.async_set_unique_id(queue.url)
                self._abort_if_unique_id_configured()
                keys = _keys(user_input)
                if (error := await self._async_check(queue, keys)) is None:
                    return self.async_create_entry(
                        title=self._title,
                        data={
                            CONF_TRANSPORT: Transport.SQS.value,
                            CONF_QUEUE_URL: queue.url,
                            **keys,
                        },
                        description=Transport.SQS.value,
                        description_placeholders={"queue": queue.name},
                    )
                errors["base"] = error
        return self.async_show_form(
            step_id="sqs",
            data_schema=self.add_suggested_values_to_schema(SQS_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Ask for new keys when AWS refuses the ones of an SQS entry."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take and check the new keys, then reload the entry."""
        entry = self._get_reauth_entry()
        queue = parse_queue_url(entry.data[CONF_QUEUE_URL])
        errors: dict[str, str] = {}
        if user_input is not None:
            keys = _keys(user_input)
            if (error := await self._async_check(queue, keys)) is None:
                return self.async_update_reload_and_abort(entry, data_updates=keys)
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

    def async_remove(self) -> None:
        """Delete a cloudhook made for a flow that did not create an entry."""
        if self._cloudhook and not self._created and self._webhook_id is not None:
            from homeassistant.components import cloud  # noqa: PLC0415

            self.hass.async_create_task(
                cloud.async_delete_cloudhook(self.hass, self._webhook_id)
            )


def _keys(user_input: Mapping[str, Any]) -> dict[str, str]:
    """Return the AWS keys of a form, without the blanks a paste brings along."""
    return {
        CONF_ACCESS_KEY_ID: user_input[CONF_ACCESS_KEY_ID].strip(),
        CONF_SECRET_ACCESS_KEY: user_input[CONF_SECRET_ACCESS_KEY].strip(),
    }
