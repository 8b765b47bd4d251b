"""Config flow: show the webhook URL for Wildix WMS and take the secret Wildix generated."""

from typing import Any

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

from .cloudhook import (
    CloudNotConnectedError,
    async_create_cloudhook,
    async_delete_cloudhook,
)
from .const import CONF_CLOUDHOOK, CONF_SECRET, CONF_TRANSPORT, DOMAIN, Transport
from .schema import vol

DEFAULT_TITLE = "Wildix"


def _user_schema(name: str | None) -> vol.Schema:
    """Return the first form: transport, secret and an optional name."""
    return vol.Schema(
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
            vol.Optional(CONF_NAME, description={"suggested_value": name}): str,
        }
    )


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
            data_schema=_user_schema((user_input or {}).get(CONF_NAME)),
            errors=errors,
            description_placeholders={"webhook_url": self._webhook_url},
        )

    async def _async_prepare_url(self, webhook_id: str) -> None:
        """Find the URL Wildix must post to: a cloudhook, else the external URL."""
        if (
            cloudhook := await async_create_cloudhook(self.hass, webhook_id)
        ) is not None:
            self._webhook_url = cloudhook
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
        """Take the SQS queue and the keys entered in WMS."""
        return self.async_abort(reason="sqs_not_supported")

    def async_remove(self) -> None:
        """Delete a cloudhook made for a flow that did not create an entry."""
        if self._cloudhook and not self._created and self._webhook_id is not None:
            self.hass.async_create_task(
                async_delete_cloudhook(self.hass, self._webhook_id)
            )
