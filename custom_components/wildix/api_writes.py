"""The PBX API's writes for one entry: presence, calls, switches, and their errors.

`PbxApi` (coordinator.py) inherits these. Each write belongs to a feature of
pbx_capabilities: a feature that is off raises without asking the PBX, and a refusal
of the credential's rights turns the feature off alone (capabilities.py). The PBX's
answers become translated Home Assistant errors naming the user or switch.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .action_errors import failed
from .capabilities import EntryCapabilities
from .const import DOMAIN
from .pbx_capabilities import (
    FEATURES_BY_KEY,
    NotGrantedError,
    async_token_refused,
    why_not,
)
from .pbx_client import PbxClient
from .pbx_presence import PresenceStatus
from .pbx_transport import (
    PbxAuthError,
    PbxConnectionError,
    PbxError,
    PbxRefusedError,
    PbxRouteMissingError,
)

if TYPE_CHECKING:
    from .coordinator import SwitchesCoordinator
    from .hub import WildixHub


class PbxApiWrites:
    """What an entry asks the PBX to do, and the translated errors of its refusals."""

    hub: "WildixHub"
    client: PbxClient
    features: EntryCapabilities
    switches: "SwitchesCoordinator"
    # The extension the token acts as ("" when the PBX did not say; None until known).
    own_extension: str | None

    async def async_own_extension(self) -> str | None:
        """Return the extension the API token acts as, asking the PBX the first time."""
        if self.own_extension is None:
            info = await self.client.async_get_personal_info()
            self.own_extension = info.extension or ""
        return self.own_extension or None

    async def async_write_presence(
        self,
        extension: str,
        status: PresenceStatus,
        message: str | None = None,
        until: datetime | None = None,
    ) -> None:
        """Set a user's presence; the client's errors pass through untranslated.

        The token's own user goes through the own-presence route, which any token may
        use (M: n8n, live); it takes no end time, so a presence with one, like every
        other user's, goes through the admin route and needs a credential allowed to
        use it.
        """
        if until is None and extension == await self.async_own_extension():
            await self.async_use(
                "presence_own",
                lambda: self.client.async_set_own_presence(status, message),
            )
        else:
            await self.async_use(
                "presence_others",
                lambda: self.client.async_set_presence(
                    extension, status, message, until
                ),
            )

    def may_set_presence(self, extension: str) -> bool:
        """Return whether the credential may set this user's presence (as far as known)."""
        own = self.own_extension is not None and extension == self.own_extension
        feature = "presence_own" if own else "presence_others"
        return self.features.usable(feature) is not False

    async def async_originate(self, number: str) -> None:
        """Ring the token's own user's phone, then dial `number` (v1 originate)."""
        await self.async_use(
            "call_control_own", lambda: self.client.async_originate_call(number)
        )

    async def async_make_call(self, extension: str, number: str) -> None:
        """Ring `extension`'s phone, then dial `number` (v2 make-call)."""
        await self.async_use(
            "call_control_others",
            lambda: self.client.async_make_call(extension, number),
        )

    async def async_use[T](
        self, feature: str, request: Callable[[], Awaitable[T]]
    ) -> T:
        """Send a request of a feature the credential may use; raise a PbxError if not.

        A feature that is off raises NotGrantedError without asking the PBX. A refusal
        of the credential's rights (403, or 401 while `personal/info` still accepts the
        token) turns the feature off alone; a refused token asks for a new one.
        """
        if self.features.usable(feature) is False:
            raise NotGrantedError(f"{feature} is off", feature)
        try:
            return await request()
        except PbxAuthError as err:
            if await async_token_refused(self.client, err):
                self.hub.entry.async_start_reauth(self.hub.hass)
                raise
            self.features.async_turn_off(feature, why_not(err)[1])
            raise NotGrantedError(str(err), feature) from err

    async def async_set_presence(
        self, extension: str, status: PresenceStatus, name: str
    ) -> None:
        """Set a user's presence, or raise a translated error naming the user."""
        try:
            await self.async_write_presence(extension, status)
        except PbxError as err:
            raise self.refusal(err, name) from err
        except ValueError as err:
            # An extension from events that the API cannot address (e.g. with `*`).
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_extension",
                translation_placeholders={"extension": extension},
            ) from err

    async def async_set_switch(self, switch_id: str, state: int) -> None:
        """Set a dialplan switch, or raise a translated error naming it.

        The PBX wants the switch's title with its state. Once it accepted, the new
        state is shown until the next poll confirms or corrects it.
        """
        switches = self.switches
        switch = None if switches.data is None else switches.data.get(switch_id)
        if switch is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="switch_unknown",
                translation_placeholders={
                    "entry": self.hub.entry.title,
                    "switch": switch_id,
                },
            )
        try:
            await self.client.async_set_switch(switch.id, switch.title, state)
        except PbxError as err:
            if not isinstance(err, PbxConnectionError | PbxAuthError):
                # Show what the PBX holds now, read after it refused.
                await switches.async_refresh()
            raise self.refusal(err, switch.title, switch=True) from err
        switches.async_written(switch_id, state)

    async def _async_check_token(self, err: PbxError) -> None:
        """Ask for a new token if the PBX refuses the token itself."""
        if await async_token_refused(self.client, err):
            self.hub.entry.async_start_reauth(self.hub.hass)

    def refusal(
        self, err: PbxError, subject: str, *, switch: bool = False
    ) -> HomeAssistantError:
        """Return the translated error for what the PBX answered instead of acting.

        `subject` is the user acted for, or the switch set (`switch`).
        """
        entry = self.hub.entry.title
        if isinstance(err, NotGrantedError) and err.feature is not None:
            return failed(
                "missing_permission",
                entry=entry,
                feature=err.feature,
                needs=FEATURES_BY_KEY[err.feature].needs(self.features.company_key),
            )
        if isinstance(err, PbxAuthError):
            if err.status == 401:
                # Only a 401 on `personal/info` too means a new token is needed.
                self.hub.entry.async_create_task(
                    self.hub.hass,
                    self._async_check_token(err),
                    "wildix check the PBX API token",
                )
            if err.status == 403 and switch:
                return failed("switch_forbidden", entry=entry, switch=subject)
            if err.status == 403:
                return failed("pbx_admin_needed", entry=entry, user=subject)
            return failed("pbx_token_refused", entry=entry)
        if isinstance(err, PbxRouteMissingError) and switch:
            return failed(
                "switch_not_found", entry=entry, route=err.path, switch=subject
            )
        if isinstance(err, PbxRouteMissingError):
            return failed(
                "pbx_not_supported", entry=entry, route=err.path, user=subject
            )
        if isinstance(err, PbxConnectionError):
            return failed("pbx_cannot_connect", entry=entry)
        # The PBX's own text is never shown: only its status (the text went to the
        # debug log, redacted).
        status = "?" if err.status is None else str(err.status)
        if isinstance(err, PbxRefusedError):
            return failed("pbx_refused", entry=entry, user=subject, status=status)
        return failed("pbx_unexpected_answer", entry=entry, status=status)
