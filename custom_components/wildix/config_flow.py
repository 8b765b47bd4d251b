"""Config flow: a webhook (URL shown, secret taken) or an AWS SQS queue (keys checked)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_NAME, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
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
    async_get_cloudhook,
)
from .config_flow_pbx_api import PBX_API_SCHEMA, async_check_pbx_api
from .config_flow_sqs import SqsConfigFlow
from .const import (
    CONF_CLOUDHOOK,
    CONF_PBX_API,
    CONF_PBX_URL,
    CONF_SECRET,
    CONF_TRANSPORT,
    DOMAIN,
    Transport,
)
from .hub import WildixConfigEntry
from .options_flow import WildixOptionsFlow
from .schema import vol

DEFAULT_TITLE = "Wildix"

SECRET_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


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
            vol.Optional(CONF_SECRET): SECRET_SELECTOR,
            vol.Optional(CONF_NAME, description={"suggested_value": name}): str,
            vol.Optional(CONF_PBX_API): section(PBX_API_SCHEMA, {"collapsed": True}),
        }
    )


SECRET_SCHEMA = vol.Schema({vol.Optional(CONF_SECRET): SECRET_SELECTOR})


def secret_error(
    hass: HomeAssistant, secret: str, entry_id: str | None = None
) -> str | None:
    """Return the form error for a secret Wildix cannot have generated or another entry uses.

    `entry_id` is the entry the secret is for, which may keep its own secret.
    """
    if not secret:
        return "secret_required"
    if any(char.isspace() for char in secret):
        return "invalid_secret"
    if any(
        other.data.get(CONF_SECRET) == secret
        for other in hass.config_entries.async_entries(DOMAIN, include_ignore=False)
        if other.entry_id != entry_id
    ):
        return "secret_in_use"
    return None


@dataclass(frozen=True, slots=True)
class WebhookUrl:
    """A webhook id and the URL Wildix posts to."""

    webhook_id: str
    url: str
    cloudhook: bool = False
    # False when Home Assistant has no URL the internet can reach.
    public: bool = True


async def async_new_webhook(hass: HomeAssistant) -> WebhookUrl:
    """Make a webhook id and its URL: a cloudhook with Home Assistant Cloud.

    Raises CloudNotConnectedError when the cloud is subscribed but not connected.
    """
    webhook_id = webhook.async_generate_id()
    if (cloudhook := await async_create_cloudhook(hass, webhook_id)) is not None:
        return WebhookUrl(webhook_id, cloudhook, cloudhook=True)
    return http_webhook(hass, webhook_id)


def http_webhook(hass: HomeAssistant, webhook_id: str) -> WebhookUrl:
    """Return the URL of a webhook: external if possible, else internal, else its path."""
    try:
        url = webhook.async_generate_url(hass, webhook_id, allow_internal=False)
    except NoURLAvailableError:
        pass
    else:
        return WebhookUrl(webhook_id, url)
    try:
        url = webhook.async_generate_url(hass, webhook_id)
    except NoURLAvailableError:
        url = webhook.async_generate_path(webhook_id)
    return WebhookUrl(webhook_id, url, public=False)


class WildixConfigFlow(SqsConfigFlow, domain=DOMAIN):
    """Add a Wildix PBX, or give an existing one a new secret or webhook URL."""

    VERSION = 1
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Initialise the flow."""
        # The webhook this flow shows and, once saved, gives to an entry.
        self._webhook: WebhookUrl | None = None
        self._created = False
        self._title = DEFAULT_TITLE
        # The PBX API connection entered on the first form, checked.
        self._pbx_api: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: WildixConfigEntry) -> OptionsFlow:
        """Return the options flow of an entry."""
        return WildixOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask how Wildix delivers events; for the webhook, show its URL and take the secret."""
        if self._webhook is None:
            try:
                self._webhook = await async_new_webhook(self.hass)
            except CloudNotConnectedError:
                return self.async_abort(reason="cloud_not_connected")
        hook = self._webhook
        errors: dict[str, str] = {}
        if user_input is not None:
            transport = user_input.get(CONF_TRANSPORT, Transport.WEBHOOK)
            webhook = transport == Transport.WEBHOOK
            secret = user_input.get(CONF_SECRET, "")
            if webhook and (error := secret_error(self.hass, secret)) is not None:
                if error == "secret_in_use":
                    return self.async_abort(reason="already_configured")
                errors[CONF_SECRET] = error
            else:
                self._pbx_api, error = await async_check_pbx_api(
                    self.hass, user_input.get(CONF_PBX_API) or {}
                )
                if error is not None:
                    errors["base"] = error
                elif not webhook:
                    self._title = user_input.get(CONF_NAME) or DEFAULT_TITLE
                    self._async_drop_webhook()
                    return await self.async_step_sqs()
                else:
                    title = user_input.get(CONF_NAME) or DEFAULT_TITLE

                    def create() -> ConfigFlowResult:
                        self._created = True
                        return self.async_create_entry(
                            title=title,
                            data={
                                CONF_TRANSPORT: Transport.WEBHOOK.value,
                                CONF_WEBHOOK_ID: hook.webhook_id,
                                CONF_SECRET: secret,
                                CONF_CLOUDHOOK: hook.cloudhook,
                                **self._pbx_api,
                            },
                            description_placeholders={"webhook_url": hook.url},
                        )

                    return await self.async_show_capabilities(create)
        return self._async_show_webhook_form(
            "user", _user_schema((user_input or {}).get(CONF_NAME)), hook, errors
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Ask for a new PBX API token, or for new keys when AWS refuses an SQS entry's."""
        entry = self._get_reauth_entry()
        if entry.data.get(CONF_PBX_URL) and (
            entry.data.get(CONF_TRANSPORT, Transport.WEBHOOK) == Transport.WEBHOOK
            or await self._async_pbx_refuses_token(entry)
        ):
            return await self.async_step_reauth_pbx_api()
        return await self.async_step_reauth_confirm()

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Offer a new secret for the same URL, or a new URL altogether."""
        entry = self._get_reconfigure_entry()
        if entry.data[CONF_TRANSPORT] != Transport.WEBHOOK:
            return self.async_show_menu(
                step_id="reconfigure",
                menu_options=["reconfigure_sqs", "reconfigure_pbx_api"],
            )
        return self.async_show_menu(
            step_id="reconfigure",
            menu_options=[
                "reconfigure_secret",
                "reconfigure_webhook",
                "reconfigure_pbx_api",
            ],
        )

    async def async_step_reconfigure_secret(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take the secret of a recreated Wildix integration posting to the same URL."""
        entry = self._get_reconfigure_entry()
        webhook_id: str = entry.data[CONF_WEBHOOK_ID]
        if not entry.data.get(CONF_CLOUDHOOK):
            hook = http_webhook(self.hass, webhook_id)
        else:
            try:
                url = await async_get_cloudhook(self.hass, webhook_id)
            except CloudNotConnectedError:
                return self.async_abort(reason="cloud_not_connected")
            hook = WebhookUrl(webhook_id, url, cloudhook=True)
        return await self._async_reconfigure_step(
            "reconfigure_secret", entry, hook, user_input, {}
        )

    async def async_step_reconfigure_webhook(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Make a new webhook URL; the old one stops working once this is saved."""
        entry = self._get_reconfigure_entry()
        if self._webhook is None:
            try:
                self._webhook = await async_new_webhook(self.hass)
            except CloudNotConnectedError:
                return self.async_abort(reason="cloud_not_connected")
        hook = self._webhook
        return await self._async_reconfigure_step(
            "reconfigure_webhook",
            entry,
            hook,
            user_input,
            {CONF_WEBHOOK_ID: hook.webhook_id, CONF_CLOUDHOOK: hook.cloudhook},
        )

    async def _async_reconfigure_step(
        self,
        step_id: str,
        entry: ConfigEntry,
        hook: WebhookUrl,
        user_input: dict[str, Any] | None,
        updates: dict[str, Any],
    ) -> ConfigFlowResult:
        """Show a reconfigure form, or save its secret and the new webhook."""
        errors: dict[str, str] = {}
        if user_input is not None:
            secret = user_input.get(CONF_SECRET, "")
            error = secret_error(self.hass, secret, entry.entry_id)
            if error is None:
                if CONF_WEBHOOK_ID in updates and entry.data.get(CONF_CLOUDHOOK):
                    await async_delete_cloudhook(self.hass, entry.data[CONF_WEBHOOK_ID])
                self._created = True
                # The update listener applies a new secret live and reloads the
                # entry for a new webhook (a reload here would be reported by HA).
                self.hass.config_entries.async_update_entry(
                    entry, data={**entry.data, **updates, CONF_SECRET: secret}
                )
                return self.async_abort(
                    reason="reconfigure_successful",
                    description_placeholders={"webhook_url": hook.url},
                )
            errors[CONF_SECRET] = error
        return self._async_show_webhook_form(step_id, SECRET_SCHEMA, hook, errors)

    def _async_show_webhook_form(
        self,
        step_id: str,
        schema: vol.Schema,
        hook: WebhookUrl,
        errors: dict[str, str],
    ) -> ConfigFlowResult:
        """Show a form that gives Wildix's URL and asks for its secret (never echoed)."""
        if not hook.public:
            errors.setdefault("base", "url_not_public")
        return self.async_show_form(
            step_id=step_id,
            data_schema=schema,
            errors=errors,
            description_placeholders={"webhook_url": hook.url},
        )

    @callback
    def _async_drop_webhook(self) -> None:
        """Forget the webhook this flow made; delete its cloudhook, if any."""
        if (hook := self._webhook) is not None and hook.cloudhook:
            self.hass.async_create_task(
                async_delete_cloudhook(self.hass, hook.webhook_id)
            )
        self._webhook = None

    def async_remove(self) -> None:
        """Delete a cloudhook made for a flow that did not use it."""
        if not self._created:
            self._async_drop_webhook()
