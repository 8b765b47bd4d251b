"""The inbox's side of the PBX API: the voicemail list (and its read flags), mark read, delete.

The voicemail feature stands alone: a PBX that refuses (403) or lacks (404) the route
turns it off with one log line, and the webhook-fed inbox goes on without it.
"""

from datetime import timedelta
import logging
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .inbox import InboxItem, Kind, file_name, item_id
from .pbx_capabilities import why_not
from .pbx_transport import (
    PbxAuthError,
    PbxError,
    PbxNotWildixError,
    PbxRouteMissingError,
)
from .pbx_voicemail import PbxVoicemailRecord
from .protocol import is_internal_number

if TYPE_CHECKING:
    from .hub import WildixHub

_LOGGER = logging.getLogger(__name__)

POLL_INTERVAL = timedelta(minutes=5)
FEATURE = "voicemail"  # its key in pbx_capabilities.FEATURES


class InboxApi:
    """Keeps an entry's inbox in step with the PBX's voicemail list."""

    def __init__(self, hub: "WildixHub") -> None:
        """Prepare; async_start reads the list in the background, then polls it."""
        self.hub = hub
        self._unsubscribe: CALLBACK_TYPE | None = None
        # Mailboxes listed before their user was known (the directory comes later).
        self._waiting: set[str] = set()

    @callback
    def async_start(self) -> None:
        """Read the list now (in the background) and every POLL_INTERVAL."""
        entry = self.hub.entry
        entry.async_create_background_task(
            self.hub.hass, self.async_refresh(), "wildix voicemail list"
        )
        self._unsubscribe = async_track_time_interval(
            self.hub.hass, self._async_poll, POLL_INTERVAL
        )
        entry.async_on_unload(self._async_stop)
        entry.async_on_unload(
            self.hub.signals.connect(self.hub.signal_new_user, self._async_new_user)
        )

    @callback
    def _async_new_user(self, extension: str) -> None:
        if extension in self._waiting:
            self._waiting.clear()
            self._async_poll(None)

    @callback
    def _async_stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @property
    def available(self) -> bool | None:
        """Return whether the credential may use voicemail; None while not known."""
        api = self.hub.pbx_api
        return False if api is None else api.features.usable(FEATURE)

    @callback
    def _async_poll(self, _now: object) -> None:
        if self.available is not False:
            self.hub.entry.async_create_background_task(
                self.hub.hass, self.async_refresh(), "wildix voicemail list"
            )

    async def async_refresh(self) -> None:
        """Read the voicemail list and keep what it says in the inbox."""
        api = self.hub.pbx_api
        if api is None or self.available is False:
            return
        try:
            records = await api.client.async_get_voicemails()
        except (PbxAuthError, PbxRouteMissingError, PbxNotWildixError) as err:
            # Off alone: one log line and a repair issue (capabilities.py).
            api.features.async_turn_off(FEATURE, why_not(err)[1])
            return
        except PbxError as err:
            _LOGGER.debug("%s: reading voicemail failed: %s", self.hub.entry.title, err)
            return
        api.features.async_learnt_usable(FEATURE)
        users = self.hub.model.users
        self._waiting = {r.extension for r in records if r.extension not in users}
        taken: set[str] = set()
        items: list[InboxItem] = []
        for record in records:
            if record.extension in users:
                items.append(item := self._item(record, taken))
                taken.add(item.id)
        self.hub.inbox.async_add(items)

    def _item(self, record: PbxVoicemailRecord, taken: set[str]) -> InboxItem:
        """Return the inbox item of a listed voicemail (the call event's, if known)."""
        listed = InboxItem(
            id=item_id(Kind.VOICEMAIL, record.extension, f"pbx:{record.id}"),
            kind=Kind.VOICEMAIL,
            extension=record.extension,
            # Without a time from the PBX, the message is as new as its first listing.
            time_ms=record.time_ms or int(dt_util.utcnow().timestamp() * 1000),
            url=record.url,
            name=file_name(record.url),
            remote_number=record.caller,
            remote_name=record.caller_name,
            remote_local=record.caller is not None
            and is_internal_number(record.caller),
            duration=record.duration,
            read=bool(record.read),
            message_id=record.id,
            time_zone_free=record.time_zone_free,
        )
        known = self.hub.inbox.inbox.same_voicemail(listed, taken)
        if known is None:
            return listed
        return InboxItem(
            id=known.id,
            kind=Kind.VOICEMAIL,
            extension=known.extension,
            time_ms=known.time_ms,
            read=known.read if record.read is None else record.read,
            message_id=record.id,
            url=record.url,
            name=file_name(record.url),
            # Call events give no voicemail length; the list may (add keeps it).
            duration=record.duration,
        )

    async def async_mark_read(self, item: InboxItem) -> None:
        """Mark a voicemail read on the PBX, where it offers that."""
        api = self.hub.pbx_api
        if api is None or self.available is False or item.message_id is None:
            return
        try:
            await api.client.async_mark_voicemail_read(item.message_id)
        except PbxRouteMissingError as err:
            # The list exists but not this write: Home Assistant's flag stays.
            _LOGGER.debug("%s: no mark-read route: %s", self.hub.entry.title, err)
        except PbxError as err:
            raise api.refusal(err, item.extension) from err

    def can_delete(self, item: InboxItem) -> bool:
        """Tell whether the PBX can delete a voicemail for us."""
        return (
            self.hub.pbx_api is not None
            and self.available is not False
            and item.message_id is not None
        )

    async def async_delete(self, item: InboxItem) -> None:
        """Delete a voicemail on the PBX (can_delete must hold)."""
        api = self.hub.pbx_api
        assert api is not None
        assert item.message_id is not None
        try:
            await api.client.async_delete_voicemails([item.message_id])
        except PbxError as err:
            raise api.refusal(err, item.extension) from err
