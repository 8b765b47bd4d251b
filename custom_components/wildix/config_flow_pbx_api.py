"""Config flow, PBX API part: the connection's form section, its check, reauth, reconfigure.

`WildixConfigFlow` (config_flow.py) inherits these steps; the first form embeds
`PBX_API_SCHEMA` as its collapsed `pbx_api` section and checks it with
`async_check_pbx_api`.
"""

from collections.abc import Callable, Mapping
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
)
from homeassistant.const import CONF_TOKEN, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .const import CONF_API_TOKEN, CONF_PBX_URL, CONF_VERIFY_SSL
from .coordinator import pbx_client
from .pbx_capabilities import async_probe, format_table
from .pbx_transport import (
    PbxAuthError,
    PbxConnectionError,
    PbxError,
    PbxRefusedError,
    normalize_url,
)
from .schema import vol

TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
PBX_API_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_URL): TextSelector(),
        vol.Optional(CONF_TOKEN): TOKEN_SELECTOR,
        vol.Optional(CONF_VERIFY_SSL, default=True): BooleanSelector(),
    }
)
PBX_TOKEN_SCHEMA = vol.Schema({vol.Required(CONF_TOKEN): TOKEN_SELECTOR})
# What the connection keeps in an entry's data.
PBX_API_DATA = (CONF_PBX_URL, CONF_API_TOKEN, CONF_VERIFY_SSL)


async def async_check_pbx_api(
    hass: HomeAssistant, form: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """Check a connection entered on a form; return its entry data and a form error.

    An empty URL means no connection. The check reads `GET /api/v1/personal/info`,
    which any valid token may read (H).
    """
    url = str(form.get(CONF_URL) or "").strip()
    if not url:
        return {}, None
    token = str(form.get(CONF_TOKEN) or "").strip()
    if not token:
        return {}, "token_required"
    verify_ssl = bool(form.get(CONF_VERIFY_SSL, True))
    try:
        url = normalize_url(url)
    except ValueError:
        return {}, "invalid_pbx_url"
    if not may_use_http(url):
        # The token would travel in clear over networks that are not the user's own.
        return {}, "insecure_pbx_url"
    try:
        client = pbx_client(hass, url, token, verify_ssl)
    except ValueError:
        # Spaces or control characters: no PBX issues such a token.
        return {}, "invalid_auth"
    try:
        await client.async_get_personal_info()
    except PbxAuthError:
        return {}, "invalid_auth"
    except (PbxConnectionError, PbxRefusedError):
        return {}, "cannot_connect"
    except PbxError:
        # Something answered, but not as Wildix does (a 404 on this route included).
        return {}, "not_a_wildix_pbx"
    return {CONF_PBX_URL: url, CONF_API_TOKEN: token, CONF_VERIFY_SSL: verify_ssl}, None


def may_use_http(url: str) -> bool:
    """Tell whether a PBX URL may be used: https, or http to a host on the own network.

    Plain http is allowed for loopback, private and link-local addresses and for
    `.local` (mDNS) names only; the form warns that the token then travels in clear.
    """
    parts = urlsplit(url)
    if parts.scheme != "http":
        return True
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith((".localhost", ".local")):
        return True
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _host(url: object) -> tuple[str | None, int | None] | None:
    """Return the host and port a form's URL names, or None when it is no URL."""
    try:
        parts = urlsplit(normalize_url(str(url or "")))
    except ValueError:
        return None
    return parts.hostname, parts.port


async def async_capability_table(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    """Return the capability table of a checked connection, as the flow shows it."""
    token = data[CONF_API_TOKEN]
    client = pbx_client(hass, data[CONF_PBX_URL], token, data[CONF_VERIFY_SSL])
    try:
        _, table = await async_probe(client, token)
    except PbxError as err:
        return f"- ? {err}"
    return format_table(table)


class PbxApiConfigFlow(ConfigFlow):
    """The PBX API steps of Wildix's config flow: capabilities, a new token or connection."""

    # The connection entered on the first form, checked (entry data, or empty).
    _pbx_api: dict[str, Any]
    _capability_table = ""
    _finish: Callable[[], ConfigFlowResult] | None = None

    async def async_show_capabilities(
        self, finish: Callable[[], ConfigFlowResult]
    ) -> ConfigFlowResult:
        """Show what the entered connection can do as the last step, then `finish`.

        Without a connection, `finish` at once.
        """
        if not self._pbx_api:
            return finish()
        self._finish = finish
        self._capability_table = await async_capability_table(self.hass, self._pbx_api)
        return await self.async_step_pbx_capabilities()

    async def async_step_pbx_capabilities(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the capability table (feature, ✔/✘, why); submitting creates the entry."""
        if user_input is not None and self._finish is not None:
            return self._finish()
        return self.async_show_form(
            step_id="pbx_capabilities",
            data_schema=vol.Schema({}),
            description_placeholders={"table": self._capability_table},
        )

    async def _async_pbx_refuses_token(self, entry: ConfigEntry) -> bool:
        """Tell whether the PBX refuses an SQS entry's token (else AWS its keys)."""
        data = entry.data
        client = pbx_client(
            self.hass, data[CONF_PBX_URL], data[CONF_API_TOKEN], data[CONF_VERIFY_SSL]
        )
        try:
            await client.async_get_personal_info()
        except PbxAuthError:
            return True
        except PbxError:
            return False
        return False

    async def async_step_reauth_pbx_api(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take and check a new token for the PBX API, then reload the entry with it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data, error = await async_check_pbx_api(
                self.hass,
                {
                    CONF_URL: entry.data[CONF_PBX_URL],
                    CONF_TOKEN: user_input[CONF_TOKEN],
                    CONF_VERIFY_SSL: entry.data[CONF_VERIFY_SSL],
                },
            )
            if error is None:
                return self._async_save_pbx_api(
                    entry, {**entry.data, **data}, "reauth_pbx_api_successful"
                )
            errors["base"] = error
        return self.async_show_form(
            step_id="reauth_pbx_api",
            data_schema=PBX_TOKEN_SCHEMA,
            errors=errors,
            description_placeholders={"url": entry.data[CONF_PBX_URL]},
        )

    async def async_step_reconfigure_pbx_api(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Connect to the PBX API, change the connection, or remove it (empty URL).

        An empty token keeps the saved one while the PBX stays the same host (only
        the scheme or verify SSL changes); another host asks for its token, so that a
        token is never sent to a host it was not made for.
        """
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            form = dict(user_input)
            saved = _host(entry.data.get(CONF_PBX_URL))
            if not form.get(CONF_TOKEN) and saved == _host(form.get(CONF_URL)):
                form[CONF_TOKEN] = entry.data.get(CONF_API_TOKEN, "")
            data, error = await async_check_pbx_api(self.hass, form)
            if error is None:
                kept = {k: v for k, v in entry.data.items() if k not in PBX_API_DATA}

                def save() -> ConfigFlowResult:
                    return self._async_save_pbx_api(
                        entry, {**kept, **data}, "reconfigure_pbx_api_successful"
                    )

                # With a connection, its capability table comes before saving.
                self._pbx_api = data
                return await self.async_show_capabilities(save)
            errors["base"] = error
        suggested = user_input or {
            CONF_URL: entry.data.get(CONF_PBX_URL, ""),
            CONF_VERIFY_SSL: entry.data.get(CONF_VERIFY_SSL, True),
        }
        return self.async_show_form(
            step_id="reconfigure_pbx_api",
            data_schema=self.add_suggested_values_to_schema(
                PBX_API_SCHEMA, {k: v for k, v in suggested.items() if k != CONF_TOKEN}
            ),
            errors=errors,
        )

    def _async_save_pbx_api(
        self, entry: ConfigEntry, data: dict[str, Any], reason: str
    ) -> ConfigFlowResult:
        """Save an entry's new data and finish; the entry restarts with it."""
        if entry.state is ConfigEntryState.LOADED:
            # Its update listener reloads it with the new connection.
            self.hass.config_entries.async_update_entry(entry, data=data)
            return self.async_abort(reason=reason)
        return self.async_update_reload_and_abort(entry, data=data, reason=reason)
