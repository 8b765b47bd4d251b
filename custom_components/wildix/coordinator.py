"""Polling the PBX API: the directory every 10 minutes, registrations and switches every minute."""

import asyncio
from dataclasses import replace
from datetime import timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api_writes import PbxApiWrites
from .capabilities import EntryCapabilities, async_clear_capability_issues
from .const import CONF_API_TOKEN, CONF_PBX_URL, CONF_VERIFY_SSL
from .directory import DirectoryBook
from .directory_safety import DirectoryGuard, doubt
from .pbx_capabilities import async_probe, async_token_refused, is_company_key, why_not
from .pbx_client import PbxClient
from .pbx_directory import Directory
from .pbx_registrations import UserRegistrations
from .pbx_switches import DialplanSwitch
from .pbx_transport import (
    DEFAULT_TIMEOUT,
    PbxAuthError,
    PbxBusyError,
    PbxError,
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
    """Polls one feature's route of the PBX API; a refused or missing route turns it off.

    A 404, a 403, or a 401 while `personal/info` still accepts the token turns the
    feature off alone (one log line, a repair issue; see capabilities.py). Other client
    errors become UpdateFailed (the entities it feeds go unavailable; Home Assistant
    logs the loss once and the recovery once). A 401 on `personal/info` too means the
    token itself is refused: ConfigEntryAuthFailed starts the reauthentication flow.
    """

    config_entry: "WildixConfigEntry"
    # The feature's capability key (pbx_capabilities.FEATURES), and how often it polls.
    feature: str
    interval: timedelta

    def __init__(
        self,
        hass: HomeAssistant,
        entry: "WildixConfigEntry",
        client: PbxClient,
        features: EntryCapabilities,
    ) -> None:
        """Initialise the coordinator of one feature."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{entry.title} {self.feature}",
            update_interval=self.interval,
        )
        self.client = client
        self.features = features
        self._unexpected_logged = False

    @property
    def supported(self) -> bool | None:
        """Return whether the credential may use the feature; None while not known."""
        return self.features.usable(self.feature)

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
        except (PbxAuthError, PbxRouteMissingError) as err:
            if await async_token_refused(self.client, err):
                raise ConfigEntryAuthFailed(
                    f"the PBX refused the API token: {err}"
                ) from err
            self.async_turn_off(err)
            return None
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
        self.update_interval = self.interval
        self.features.async_learnt_usable(self.feature)
        return data

    def _back_off(self, retry_after: float | None) -> None:
        """Wait longer before the next poll: as the PBX asked, or twice the last wait."""
        last = self.update_interval or self.interval
        wait = timedelta(seconds=retry_after) if retry_after is not None else last * 2
        self.update_interval = min(max(wait, self.interval), MAX_BACK_OFF)

    @callback
    def async_turn_off(self, err: PbxError) -> None:
        """Stop asking for a feature this PBX or credential does not offer; say so once."""
        self.features.async_turn_off(self.feature, why_not(err)[1])
        self.async_stop_polling()

    @callback
    def async_stop_polling(self) -> None:
        """Poll no more, not even a poll scheduled already."""
        self.update_interval = None
        self._async_unsub_refresh()

    async def _async_fetch(self) -> DataT | None:
        """Ask the PBX."""
        raise NotImplementedError


class DirectoryCoordinator(WildixApiCoordinator[Directory]):
    """The PBX's users (`GET /api/v1/PBX/Colleagues` or the user view, all pages)."""

    feature = "directory"
    interval = DIRECTORY_INTERVAL

    async def _async_fetch(self) -> Directory:
        return await self.client.async_get_colleagues()


class VersionCoordinator(WildixApiCoordinator[str]):
    """The PBX's version, on its own: whatever it answers never touches the directory."""

    feature = "version"
    interval = DIRECTORY_INTERVAL

    async def _async_fetch(self) -> str | None:
        # None when the PBX answered without a version: the sensor is unavailable.
        return (await self.client.async_get_version()).version


class RegistrationsCoordinator(WildixApiCoordinator[dict[str, UserRegistrations]]):
    """Every user's SIP registrations, in one request."""

    feature = "registrations"
    interval = REGISTRATIONS_INTERVAL

    def __init__(
        self,
        hass: HomeAssistant,
        entry: "WildixConfigEntry",
        client: PbxClient,
        features: EntryCapabilities,
        book: DirectoryBook,
    ) -> None:
        """Initialise the registrations' coordinator."""
        super().__init__(hass, entry, client, features)
        self._book = book

    async def _async_fetch(self) -> dict[str, UserRegistrations]:
        registrations = await self.client.async_get_registrations()
        self._book.set_registrations(
            registrations, int(dt_util.utcnow().timestamp() * 1000)
        )
        return registrations


class SwitchesCoordinator(WildixApiCoordinator[dict[str, DialplanSwitch]]):
    """The dialplan switches (`GET /api/v1/Dialplan/Switches`), by id."""

    feature = "switches"
    interval = SWITCHES_INTERVAL

    def __init__(
        self,
        hass: HomeAssistant,
        entry: "WildixConfigEntry",
        client: PbxClient,
        features: EntryCapabilities,
    ) -> None:
        """Initialise the switches' coordinator."""
        super().__init__(hass, entry, client, features)
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


class PbxApi(PbxApiWrites):
    """One entry's connection to the PBX API: its coordinators and what they learnt."""

    def __init__(self, hub: "WildixHub", client: PbxClient, token: str) -> None:
        """Prepare the coordinators of a connection."""
        self.hub = hub
        self.url = client.url
        self.client = client
        self._token = token
        self.book = DirectoryBook()
        hass, entry = hub.hass, hub.entry
        self.features = EntryCapabilities(hass, entry, is_company_key(token))
        self.directory = DirectoryCoordinator(hass, entry, client, self.features)
        self.version = VersionCoordinator(hass, entry, client, self.features)
        self.registrations = RegistrationsCoordinator(
            hass, entry, client, self.features, self.book
        )
        self.switches = SwitchesCoordinator(hass, entry, client, self.features)
        self._applied: Any = None
        # The last directory judged, so that applying it again does not count twice.
        self._judged: Any = None
        self.guard = DirectoryGuard(hass, entry.entry_id)
        self._unsubscribe: CALLBACK_TYPE | None = None
        # What writes learnt: the extension the token acts as ("" when the PBX did not
        # say), and whether the PBX offers v2 call control (None until asked, False once
        # it answered 404).
        self.own_extension: str | None = None
        self.call_control: bool | None = None

    @property
    def coordinators(self) -> tuple[WildixApiCoordinator[Any], ...]:
        """Return the polled features' coordinators."""
        return (self.directory, self.version, self.registrations, self.switches)

    async def async_start(self) -> None:
        """Start learning what the credential may use and reading it, in the background.

        Setup never waits for the PBX: events work at once, and the API-backed
        entities appear when their data arrives (unavailable while a poll fails).
        """
        self._unsubscribe = self.directory.async_add_listener(self._async_directory)
        entry = self.hub.entry
        entry.async_create_background_task(
            self.hub.hass, self._async_first_polls(), f"{entry.title} first PBX polls"
        )

    async def _async_first_polls(self) -> None:
        """Learn what the credential may use, then read each usable feature once."""
        await self.async_probe()
        for coordinator in self.coordinators:
            if coordinator.supported is False:
                coordinator.async_stop_polling()
            else:
                await coordinator.async_refresh()

    async def async_probe(self) -> None:
        """Ask the PBX which features the credential may use (see pbx_capabilities)."""
        try:
            info, table = await async_probe(self.client, self._token)
        except PbxAuthError as err:
            if err.status == 401:
                # The token itself is refused: ask for a new one.
                self.hub.entry.async_start_reauth(self.hub.hass)
            _LOGGER.debug("%s: probe refused: %s", self.hub.entry.title, err)
            return
        except PbxError as err:
            # Not known now; the polls find out, and the next reload probes again.
            _LOGGER.debug("%s: probe failed: %s", self.hub.entry.title, err)
            return
        self.own_extension = info.extension or ""
        self.features.async_set_table(table)

    async def async_stop(self) -> None:
        """Stop polling."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for coordinator in self.coordinators:
            await coordinator.async_shutdown()

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
        directory = data
        known = [ext for ext in self.book.colleagues if ext in self.hub.model.users]
        why = doubt(directory, known)
        changes, gone = self.book.apply_directory(
            self.hub.model, directory.colleagues, complete=why is None
        )
        if fresh:
            self.guard.async_judged(why)
        self.hub.async_update_users(changes, gone)

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
            "version": _state(self.version),
            "version_value": self.version.data,
            "directory_users": len(self.book.colleagues),
            "directory_complete": None if data is None else data.complete,
            "directory_route": self.client.colleagues_route,
            "own_extension": self.own_extension,
            "capabilities": self.features.diagnostics(),
            # Learnt by the actions: None until one needed it.
            "call_control": self.call_control,
        }


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
        # No connection (any more): no feature of it can be missing.
        async_clear_capability_issues(hub.hass, hub.entry.entry_id)
        return None
    client = pbx_client(
        hub.hass, url, data[CONF_API_TOKEN], data.get(CONF_VERIFY_SSL, True)
    )
    api = PbxApi(hub, client, data[CONF_API_TOKEN])
    hub.pbx_api = api
    await api.async_start()
    hub.entry.async_on_unload(api.async_stop)
    return api
