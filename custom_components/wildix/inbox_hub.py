"""One entry's inbox in Home Assistant: fed by call events, kept in its own store.

The media source, the voicemail sensor and the inbox actions read and change it here;
each change is saved (quietly, after SAVE_DELAY) and signalled to the user's sensor.
"""

from collections.abc import Container
from dataclasses import replace
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util
from homeassistant.util.signal_type import SignalType

from .changes import CallMoment, MomentType
from .const import DOMAIN
from .inbox import Inbox, InboxItem, Kind, attachment_item_id, items_of_event
from .inbox_store import InboxStore
from .protocol import Attachment, CallEvent, Direction, WildixEvent
from .signals import EntrySignals

if TYPE_CHECKING:
    from .hub import WildixConfigEntry
    from .inbox_api import InboxApi

MEDIA_SOURCE_SCHEME = "media-source://"


def media_content_id(item: InboxItem, entry_id: str) -> str:
    """Return the media source id that plays an item."""
    return f"{MEDIA_SOURCE_SCHEME}{DOMAIN}/{entry_id}/{item.extension}/{item.kind}/{item.id}"


class WildixInbox:
    """The voicemails and recordings of one entry's users."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: "WildixConfigEntry",
        signals: EntrySignals,
        retention_days: float,
    ) -> None:
        """Prepare an empty inbox, telling changes through the entry's signals; async_load fills it."""
        self.hass = hass
        self._signals = signals
        self.entry_id = entry.entry_id
        self.inbox = Inbox(retention_days)
        # The PBX API's voicemail feature, with the API connection (inbox_api.py).
        self.api: InboxApi | None = None
        self.store = InboxStore(hass, entry.entry_id, self.inbox)

    def signal(self, extension: str) -> SignalType[()]:
        """Return the signal sent when a user's inbox changed."""
        return SignalType(f"{DOMAIN}_{self.entry_id}_inbox_{extension}")

    async def async_load(self) -> None:
        """Restore the saved inbox."""
        await self.store.async_restore(_now_ms())

    async def async_save(self) -> None:
        """Save now (on unload)."""
        await self.store.async_save()

    def file_of(
        self, extension: str, call_id: str, attachment: Attachment
    ) -> tuple[str, int] | None:
        """Return where the inbox plays a call's file (its media id) and the file's time."""
        key = attachment_item_id(extension, call_id, attachment)
        if key is None:
            return None
        item = self.inbox.get(extension, key)
        if item is None and attachment.type == Kind.VOICEMAIL:
            # Merged into the message the PBX's list named first.
            item = self.inbox.by_call(extension, call_id)
        if item is None:
            return None
        return media_content_id(item, self.entry_id), item.time_ms

    @callback
    def async_take(self, event: WildixEvent, users: Container[str]) -> list[CallMoment]:
        """Keep the files of a call event for known users; return voicemails to announce."""
        if not isinstance(event.body, CallEvent):
            return []
        event_ms = event.time or _now_ms()
        if not (items := items_of_event(event.body, event_ms)):
            return []  # most call events carry no file
        now_ms = _now_ms()
        moments: list[CallMoment] = []
        changed: set[str] = set()
        for item in items:
            if item.extension not in users:
                continue
            known = self.inbox.get(item.extension, item.id)
            if known is None and item.kind is Kind.VOICEMAIL:
                # The list may have named it first (inbox.same_voicemail).
                known = self.inbox.same_voicemail(item)
                if known is not None:
                    item = replace(item, id=known.id)
            before = None if known is None else _reported(known)
            if self.inbox.add(item, now_ms):
                changed.add(item.extension)
                known = item
            elif known is not None and before != _reported(known):
                changed.add(item.extension)
            if (
                known is not None
                and known.kind is Kind.VOICEMAIL
                and self.inbox.announce(known)
            ):
                moments.append(self._moment(known, event_ms))
        self._async_changed(changed)
        return moments

    @callback
    def async_add(self, items: list[InboxItem]) -> None:
        """Keep items the PBX API listed (read flags included)."""
        changed: set[str] = set()
        now_ms = _now_ms()
        for item in items:
            known = self.inbox.get(item.extension, item.id)
            before = None if known is None else _listed(known)
            if self.inbox.add(item, now_ms):
                # Listed, not delivered: the list never announces; the call event
                # does when it comes (merged into this item), even after the list.
                changed.add(item.extension)
            elif known is not None:
                known.read = item.read
                if before != _listed(known):
                    changed.add(item.extension)
        self._async_changed(changed)

    @callback
    def async_mark_read(
        self, extension: str, item_ids: list[str] | None = None
    ) -> None:
        """Mark voicemails of a user read."""
        if self.inbox.mark_read(extension, item_ids):
            self._async_changed({extension})

    @callback
    def async_remove(self, extension: str, item_id: str) -> None:
        """Remove one item."""
        if self.inbox.remove(extension, item_id) is not None:
            self._async_changed({extension})

    @callback
    def async_forget(self, extensions: list[str]) -> None:
        """Remove every item of users who were removed."""
        self._async_changed(
            {extension for extension in extensions if self.inbox.forget_user(extension)}
        )

    @callback
    def async_expire(self) -> None:
        """Remove items older than the retention."""
        self._async_changed(self.inbox.expire(_now_ms()))

    @callback
    def async_mark_unplayable(self, item: InboxItem, why: str | None) -> None:
        """Remember that the PBX would not serve an item's file, and why."""
        if item.unplayable != why:
            item.unplayable = why
            self._async_changed({item.extension})

    @callback
    def _async_changed(self, extensions: set[str]) -> None:
        if not extensions:
            return
        for extension in extensions:
            self._signals.send(self.signal(extension))
        self.store.async_schedule_save()

    def _moment(self, item: InboxItem, time_ms: int) -> CallMoment:
        return CallMoment(
            type=MomentType.VOICEMAIL,
            extension=item.extension,
            call_id=item.call_id or item.id,
            direction=Direction.INTERNAL if item.remote_local else Direction.INBOUND,
            remote_number=item.remote_number,
            remote_name=item.remote_name,
            remote_local=item.remote_local,
            time_ms=time_ms,
            duration=item.duration,
            media_content_id=media_content_id(item, self.entry_id),
        )


def _reported(item: InboxItem) -> tuple[object, ...]:
    """Return what a call event may change of a known item."""
    return (item.url, item.name, item.duration, item.call_id, item.time_ms)


def _listed(item: InboxItem) -> tuple[object, ...]:
    """Return what the PBX's list may change of a known item."""
    return (item.read, item.message_id, item.url, item.duration)


def _now_ms() -> int:
    return int(dt_util.utcnow().timestamp() * 1000)
