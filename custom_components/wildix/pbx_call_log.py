"""With the PBX API: calls from before Home Assistant knew the PBX, and names from its phonebooks.

The history is fetched once per day the calendar asks for and kept in the call log;
the phonebooks are indexed by number (E.164) and read again every six hours and on
the action `wildix.refresh_phonebook` (call_log_services.py). A
feature the PBX refuses (403) or lacks (404) turns off alone (capabilities.py: one log
line and a `missing_permission` repair issue).
"""

import asyncio
import contextlib
from datetime import date, datetime, timedelta
import logging
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .call_log import from_history
from .capabilities import EntryCapabilities
from .pbx_capabilities import NotGrantedError, why_not
from .pbx_client import PbxClient
from .pbx_contacts import Contact
from .pbx_transport import PbxError

if TYPE_CHECKING:
    from .call_history import CallHistory

_LOGGER = logging.getLogger(__name__)

PHONEBOOK_REFRESH = timedelta(hours=6)
# The features' keys in the capability table (pbx_capabilities.FEATURES).
HISTORY = "call_history"
CONTACTS = "contacts"
# A window longer than this is not backfilled (a year view asks for 12 months).
MAX_BACKFILL_DAYS = 92


class PbxCallLog:
    """The PBX's call history and phonebooks for one entry's call log."""

    def __init__(
        self, history: "CallHistory", client: PbxClient, features: EntryCapabilities
    ) -> None:
        """Prepare for an entry's call log, PBX client and capabilities."""
        self._history = history
        self._client = client
        self._features = features
        self.phonebook: dict[str, Contact] = {}
        self._days: set[date] = set()
        self._lock = asyncio.Lock()
        self._unsubscribe: CALLBACK_TYPE | None = None

    @callback
    def async_start(self) -> None:
        """Read the phonebooks now (in the background) and every six hours."""
        hass = self._history.hass
        self._unsubscribe = async_track_time_interval(
            hass, self._async_refresh, PHONEBOOK_REFRESH
        )
        self._history.hub.entry.async_create_background_task(
            hass, self.async_refresh_phonebook(), "wildix phonebook"
        )

    @callback
    def async_stop(self) -> None:
        """Stop reading the phonebooks."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def lookup(self, number: str) -> Contact | None:
        """Return the contact a number belongs to, if a phonebook has it."""
        if not self.phonebook:
            # Called for every call moment without a name: skip parsing the number.
            return None
        return self.phonebook.get(self._history.number_key(number))

    async def async_refresh_phonebook(self) -> None:
        """Read the phonebooks again; a feature the PBX refuses turns off alone."""
        with contextlib.suppress(PbxError):
            await self.async_read_phonebook()

    async def async_read_phonebook(self) -> int:
        """Index every contact by its numbers, normalised; return how many were read.

        Raises NotGrantedError when the phonebooks are off (now or before), else
        what the PBX raised.
        """
        if self._features.usable(CONTACTS) is False:
            raise NotGrantedError("the phonebooks are off", CONTACTS)
        try:
            contacts = await self._client.async_get_contacts()
        except PbxError as err:
            self._failed(CONTACTS, err)
            if self._features.usable(CONTACTS) is False:
                raise NotGrantedError(str(err), CONTACTS) from err
            raise
        self._features.async_learnt_usable(CONTACTS)
        index: dict[str, Contact] = {}
        for contact in contacts:
            for number in contact.numbers:
                index.setdefault(self._history.number_key(number), contact)
        self.phonebook = index
        self._history.async_names_changed()
        return len(contacts)

    async def async_backfill(self, start: datetime, end: datetime) -> None:
        """Fetch the history of the days of a window not fetched before."""
        if self._features.usable(HISTORY) is False:
            return
        local = dt_util.get_default_time_zone()
        first = dt_util.as_local(start).date()
        last = dt_util.as_local(end - timedelta(microseconds=1)).date()
        today = dt_util.now().date()
        days = {
            first + timedelta(days=n)
            for n in range(min((last - first).days + 1, MAX_BACKFILL_DAYS))
        }
        async with self._lock:
            missing = sorted(day for day in days if day not in self._days)
            if not missing:
                return
            since = dt_util.start_of_local_day(missing[0])
            until = dt_util.start_of_local_day(missing[-1] + timedelta(days=1))
            try:
                records = await self._client.async_get_history(since, until, local)
            except PbxError as err:
                self._failed(HISTORY, err)
                return
            self._features.async_learnt_usable(HISTORY)
            # Today is not over: ask again next time.
            self._days.update(day for day in missing if day < today)
        missed_internal = self._history.hub.model.missed_internal
        for extension in list(self._history.hub.model.users):
            self._history.async_add_calls(
                extension,
                (
                    logged
                    for record in records
                    if (
                        logged := from_history(
                            record, extension, missed_internal=missed_internal
                        )
                    )
                    is not None
                ),
            )

    async def _async_refresh(self, _now: datetime) -> None:
        await self.async_refresh_phonebook()

    def _failed(self, feature: str, err: PbxError) -> None:
        """Turn a feature the PBX refuses or lacks off alone; log other failures."""
        usable, why = why_not(err)
        if usable is False:
            self._features.async_turn_off(feature, why)
        else:
            _LOGGER.debug("Reading the PBX's %s failed: %s", feature, err)
