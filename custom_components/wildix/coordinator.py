"""Polling the PBX API: the directory every 10 minutes, registrations and switches every minute."""

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import CONF_API_TOKEN, CONF_PBX_URL, CONF_VERIFY_SSL, DOMAIN
from .directory import DirectoryBook
from .directory_safety import DirectoryGuard, doubt
from .pbx_client import PbxClient
from .pbx_directory import Directory
from .pbx_presence import PresenceStatus
from .pbx_registrations import UserRegistrations
from .pbx_switches import DialplanSwitch
from .pbx_transport import (
    DEFAULT_TIMEOUT,
    PbxAuthError,
    PbxBusyError,
    PbxConnectionError,
    PbxError,
    PbxRefusedError,
    PbxRouteMissingError,
)

if TYPE_CHECKING:
    from .hub import WildixConfigEntry, WildixHub

_LOGGER = logging.getLogger(__name__)

DIRECTORY_INTERVAL = timedelta(minutes=10)
REGISTRATIONS_INTERVAL = timedelta(seconds=60)
SWITCHES_INTERVAL = timedelta(seconds=60)
# Dialplan switches shown at most: with MAX_USERS users, the entry stays below Home
# Assistant's 10,000 entities.
MAX_SWITCHES = 64
# Seconds one request may take; tests shorten it.
API_TIMEOUT = DEFAULT_TIMEOUT
# Seconds one poll may take in all, however many pages it reads.
POLL_DEADLINE = 120.0
# The longest a busy PBX makes the polls wait.
MAX_BACK_OFF = timedelta(hours=1)


def pbx_client(
    hass: HomeAssistant, url: str, token: str, verify_ssl: bool
) -> PbxClient:
    """Return a client of the PBX API on Home Assistant's shared session."""
    return PbxClient(
        async_get_clientsession(hass, verify_ssl=verify_ssl),
        url,
        token,
        verify_ssl=verify_ssl,
        timeout=API_TIMEOUT,
    )


class WildixApiCoordinator[DataT](DataUpdateCoordinator[DataT | None]):
    """Polls one route of the PBX API; a route that answers 404 turns its feature off.

    Client errors become UpdateFailed (the entities it feeds go unavailable; Home
    Assistant logs the loss once and the recovery once); a refused token becomes
    ConfigEntryAuthFailed, which starts the reauthentication flow and stops polling.
    """

    config_entry: "WildixConfigEntry"
    # Whether a 403 turns the feature off rather than asking for a new token: for a
    # feature a valid credential may lack the rights to (a key without that scope).
    optional = False

    def __init__(
        self,
        hass: HomeAssistant,
        entry: "WildixConfigEntry",
        client: PbxClient,
        name: str,
        interval: timedelta,
    ) -> None:
        """Initialise the coordinator of one feature."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{entry.title} {name}",
            update_interval=interval,
        )
        self.client = client
        self.feature = name
        # None until the PBX answered; False once the route answered 404.
        self.supported: bool | None = None
        self._interval = interval
        self._unexpected_logged = False

    @property
    def available(self) -> bool:
        """Return whether the feature's entities have data to show."""
        return bool(self.supported) and self.last_update_success

    async def _async_update_data(self) -> DataT | None:
        """Fetch the feature's data, turning client errors into Home Assistant's.

        A poll has POLL_DEADLINE in all, however many pages it reads. A busy PBX (429,
        503) is asked again after the wait it named, at most an hour, or after twice
        the last wait. An error the integration did not expect is logged with its
        traceback once, then quietly until a poll succeeds again.
        """
        try:
            async with asyncio.timeout(POLL_DEADLINE):
                data = await self._async_fetch()
        except TimeoutError as err:
            raise UpdateFailed(f"no answer within {POLL_DEADLINE:g} s") from err
        except PbxRouteMissingError as err:
            self._turn_off(f"the PBX has no {self.feature} route ({err})")
            return None
        except PbxAuthError as err:
            if err.status == 403 and self.optional:
                self._turn_off(f"the API token may not read the {self.feature} ({err})")
                return None
            raise ConfigEntryAuthFailed(
                f"the PBX refused the API token: {err}"
            ) from err
        except PbxBusyError as err:
            self._back_off(err.retry_after)
            raise UpdateFailed(
                f"the PBX is busy ({err}); asking again in {self.update_interval}"
            ) from err
        except PbxError as err:
            raise UpdateFailed(str(err)) from err
        except Exception as err:
            if not self._unexpected_logged:
                self._unexpected_logged = True
                _LOGGER.exception(
                    "%s: unexpected error reading the %s; quiet until it recovers",
                    self.config_entry.title,
                    self.feature,
                )
            raise UpdateFailed(f"unexpected error: {type(err).__name__}") from err
        self._unexpected_logged = False
        self.update_interval = self._interval
        self.supported = True
        return data

    def _back_off(self, retry_after: float | None) -> None:
        """Wait longer before the next poll: as the PBX asked, or twice the last wait."""
        last = self.update_interval or self._interval
        wait = timedelta(seconds=retry_after) if retry_after is not None else last * 2
        self.update_interval = min(max(wait, self._interval), MAX_BACK_OFF)

    def _turn_off(self, why: str) -> None:
        """Stop asking for a feature this PBX or credential does not offer; say so once."""
        _LOGGER.warning("%s: %s; turning the feature off", self.config_entry.title, why)
        self.supported = False
        self.update_interval = None
        # A poll scheduled before the feature turned off must not run either.
        self._async_unsub_refresh()

    async def _async_fetch(self) -> DataT:
        """Ask the PBX."""
        raise NotImplementedError


class DirectoryCoordinator(WildixApiCoordinator[tuple[Directory, str | None]]):
    """The PBX's users (`GET /api/v1/PBX/Colleagues`, all pages) and its version."""

    def __init__(
        self, hass: HomeAssistant, entry: "WildixConfigEntry", client: PbxClient
    ) -> None:
        """Initialise the directory's coordinator."""
        super().__init__(hass, entry, client, "directory", DIRECTORY_INTERVAL)
        # None until asked; False once the version route answered 404.
        self.version_supported: bool | None = None

    async def _async_fetch(self) -> tuple[Directory, str | None]:
        directory = await self.client.async_get_colleagues()
        version: str | None = None
        if self.version_supported is not False:
            try:
                version = (await self.client.async_get_version()).version
            except PbxRouteMissingError as err:
                _LOGGER.warning(
                    "%s: the PBX does not tell its version (%s)",
                    self.config_entry.title,
                    err,
                )
                self.version_supported = False
            else:
                self.version_supported = True
        return directory, version


class RegistrationsCoordinator(WildixApiCoordinator[dict[str, UserRegistrations]]):
    """Every user's SIP registrations, in one request."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: "WildixConfigEntry",
        client: PbxClient,
        book: DirectoryBook,
    ) -> None:
        """Initialise the registrations' coordinator."""
        super().__init__(hass, entry, client, "registrations", REGISTRATIONS_INTERVAL)
        self._book = book

    async def _async_fetch(self) -> dict[str, UserRegistrations]:
        registrations = await self.client.async_get_registrations()
        self._book.set_registrations(
            registrations, int(dt_util.utcnow().timestamp() * 1000)
        )
        return registrations


class SwitchesCoordinator(WildixApiCoordinator[dict[str, DialplanSwitch]]):
    """The dialplan switches (`GET /api/v1/Dialplan/Switches`), by id."""

    # Reading the dialplan needs rights a credential that reads users may lack.
    optional = True

    def __init__(
        self, hass: HomeAssistant, entry: "WildixConfigEntry", client: PbxClient
    ) -> None:
        """Initialise the switches' coordinator."""
        super().__init__(hass, entry, client, "switches", SWITCHES_INTERVAL)
        self._capped = False
        # Writes the PBX took, numbered: id -> (number, state). A poll that began
        # before a write shows the written state rather than the one it read.
        self._writes = 0
        self._written: dict[str, tuple[int, int]] = {}

    @callback
    def async_written(self, switch_id: str, state: int) -> None:
        """Show a state the PBX took until a poll that began after the write."""
        self._writes += 1
        self._written[switch_id] = (self._writes, state)
        if self.data is not None and switch_id in self.data:
            written = replace(self.data[switch_id], state=state)
            self.async_set_updated_data({**self.data, switch_id: written})

    async def _async_fetch(self) -> dict[str, DialplanSwitch]:
        began = self._writes
        found = await self._async_read()
        for switch_id, (number, state) in self._written.items():
            if number > began and switch_id in found:
                found[switch_id] = replace(found[switch_id], state=state)
        self._written = {
            key: write for key, write in self._written.items() if write[0] > began
        }
        return found

    async def _async_read(self) -> dict[str, DialplanSwitch]:
        """Read the switches, at most MAX_SWITCHES of them."""
        switches = await self.client.async_get_switches()
        if len(switches) > MAX_SWITCHES and not self._capped:
            self._capped = True
            _LOGGER.warning(
                "%s: the PBX has %d dialplan switches; only the first %d are shown",
                self.config_entry.title,
                len(switches),
                MAX_SWITCHES,
            )
        return {switch.id: switch for switch in switches[:MAX_SWITCHES]}


class PbxApi:
    """One entry's connection to the PBX API: its coordinators and what they learnt."""

    def __init__(self, hub: "WildixHub", client: PbxClient) -> None:
        """Prepare the coordinators of a connection."""
        self.hub = hub
        self.url = client.url
        self.client = client
        self.book = DirectoryBook()
        self.directory = DirectoryCoordinator(hub.hass, hub.entry, client)
        self.registrations = RegistrationsCoordinator(
            hub.hass, hub.entry, client, self.book
        )
        self.switches = SwitchesCoordinator(hub.hass, hub.entry, client)
        self._applied: Any = None
        # The last directory judged, so that applying it again does not count twice.
        self._judged: Any = None
        self.guard = DirectoryGuard(hub.hass, hub.entry.entry_id)
        self._unsubscribe: CALLBACK_TYPE | None = None
        # What writes learnt: the extension the token acts as ("" when the PBX did not
        # say), and whether the PBX offers v2 call control (None until asked, False once
        # it answered 404).
        self.own_extension: str | None = None
        self.call_control: bool | None = None

    async def async_start(self) -> None:
        """Read every feature once in the background, then keep polling.

        Setup never waits for the PBX: events work at once, and the API-backed
        entities appear when their data arrives (unavailable while a poll fails).
        """
        self._unsubscribe = self.directory.async_add_listener(self._async_directory)
        entry = self.hub.entry
        for coordinator in (self.directory, self.registrations, self.switches):
            entry.async_create_background_task(
                self.hub.hass,
                coordinator.async_refresh(),
                f"{entry.title} first {coordinator.feature} poll",
            )

    async def async_stop(self) -> None:
        """Stop polling."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.directory.async_shutdown()
        await self.registrations.async_shutdown()
        await self.switches.async_shutdown()

    @callback
    def async_reapply(self) -> None:
        """Apply the last directory again, e.g. after the user filter changed."""
        self._applied = None
        self._async_directory()

    @callback
    def _async_directory(self) -> None:
        """Make the directory's users devices, named from it; remove those it lost."""
        data = self.directory.data
        if data is None or data is self._applied:
            return
        fresh = data is not self._judged
        self._applied = self._judged = data
        directory = data[0]
        known = [ext for ext in self.book.colleagues if ext in self.hub.model.users]
        why = doubt(directory, known)
        changes, gone = self.book.apply_directory(
            self.hub.model, directory.colleagues, complete=why is None
        )
        if fresh:
            self.guard.async_judged(why)
        self.hub.async_update_users(changes, gone)

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
            await self.client.async_set_own_presence(status, message)
        else:
            await self.client.async_set_presence(extension, status, message, until)

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

    def refusal(
        self, err: PbxError, subject: str, *, switch: bool = False
    ) -> HomeAssistantError:
        """Return the translated error for what the PBX answered instead of acting.

        `subject` is the user acted for, or the switch set (`switch`). A refused token
        asks for a new one at once; the coordinators would notice at their next poll.
        """
        entry = self.hub.entry.title
        if isinstance(err, PbxAuthError):
            if err.status == 403 and switch:
                return _failed("switch_forbidden", entry=entry, switch=subject)
            if err.status == 403:
                return _failed("pbx_admin_needed", entry=entry, user=subject)
            self.hub.entry.async_start_reauth(self.hub.hass)
            return _failed("pbx_token_refused", entry=entry)
        if isinstance(err, PbxRouteMissingError) and switch:
            return _failed(
                "switch_not_found", entry=entry, route=err.path, switch=subject
            )
        if isinstance(err, PbxRouteMissingError):
            return _failed(
                "pbx_not_supported", entry=entry, route=err.path, user=subject
            )
        if isinstance(err, PbxConnectionError):
            return _failed("pbx_cannot_connect", entry=entry)
        # The PBX's own text is never shown: only its status (the text went to the
        # debug log, redacted).
        status = "?" if err.status is None else str(err.status)
        if isinstance(err, PbxRefusedError):
            return _failed("pbx_refused", entry=entry, user=subject, status=status)
        return _failed("pbx_unexpected_answer", entry=entry, status=status)

    def diagnostics(self) -> dict[str, Any]:
        """Return the connection's state and capabilities (never the token)."""
        data = self.directory.data
        return {
            "url": self.url,
            "directory": _state(self.directory),
            "registrations": _state(self.registrations),
            "switches": _state(self.switches),
            "switch_states": None
            if self.switches.data is None
            else [
                {
                    "id": switch.id,
                    "title": switch.title,
                    "state": switch.state,
                    "tree": switch.is_tree,
                }
                for switch in self.switches.data.values()
            ],
            "version_supported": self.directory.version_supported,
            "version": None if data is None else data[1],
            "directory_users": len(self.book.colleagues),
            "directory_complete": None if data is None else data[0].complete,
            # Learnt by the actions: None until one needed it.
            "call_control": self.call_control,
        }


def _failed(key: str, **placeholders: str) -> HomeAssistantError:
    """Return the translated error for something the PBX did not do."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def _state(coordinator: WildixApiCoordinator[Any]) -> dict[str, Any]:
    """Return what diagnostics show of one feature."""
    error = coordinator.last_exception
    return {
        "supported": coordinator.supported,
        "last_update_success": coordinator.last_update_success,
        "last_error": None if error is None else type(error).__name__,
    }


async def async_connect_pbx_api(hub: "WildixHub") -> PbxApi | None:
    """Connect an entry to its PBX's API, if it has a connection; stop with the entry."""
    data = hub.entry.data
    if not (url := data.get(CONF_PBX_URL)):
        return None
    client = pbx_client(
        hub.hass, url, data[CONF_API_TOKEN], data.get(CONF_VERIFY_SSL, True)
    )
    api = PbxApi(hub, client)
    hub.pbx_api = api
    await api.async_start()
    hub.entry.async_on_unload(api.async_stop)
    return api
