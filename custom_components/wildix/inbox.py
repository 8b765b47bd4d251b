"""Each PBX user's inbox: their voicemails and call recordings, newest first, bounded.

No Home Assistant imports. Items come from the files call events carry
(`attachments`, `recordingsData`, `flags` with `voicemail`) and from the PBX API's
voicemail list; the same message reported twice is one item.
"""

from collections import OrderedDict
from collections.abc import Container
from dataclasses import dataclass
from enum import StrEnum
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from .protocol import Attachment, CallEvent, CallFlow, Party

MAX_VOICEMAILS = 100  # what Wildix keeps per user (PBX-API-HISTORY.md §2)
MAX_RECORDINGS = 200
DEFAULT_RETENTION_DAYS = 30
# Voicemails announced, remembered so that none is announced twice.
MAX_ANNOUNCED = 4096
# A call event's voicemail and a listed one, of the same user and caller, without a
# file name or id to compare, are one message when their times are at most this far
# apart: the event gives the call's start, the list when the message was left
# (after the ringing), so seconds to a minute apart; two messages of one caller
# within two minutes are rare, and each keeps its own file name once the list has it.
SAME_MESSAGE_MS = 2 * 60_000
# The list may give its time as PBX-local text without a zone (PBX-API-HISTORY.md §3,
# `timezone` beside local times): then it may be off by the PBX's UTC offset, whole
# quarter hours up to 14 hours.
_ZONE_STEP_MS = 15 * 60_000
_MAX_ZONE_MS = 14 * 3_600_000


class Kind(StrEnum):
    """What an inbox item is."""

    VOICEMAIL = "voicemail"
    RECORDING = "recording"


_LIMITS = {Kind.VOICEMAIL: MAX_VOICEMAILS, Kind.RECORDING: MAX_RECORDINGS}


@dataclass(slots=True)
class InboxItem:
    """A voicemail or recording of one user."""

    id: str
    kind: Kind
    extension: str
    time_ms: int
    call_id: str | None = None
    url: str | None = None
    name: str | None = None
    remote_number: str | None = None
    remote_name: str | None = None
    remote_local: bool = False
    duration: float | None = None
    read: bool = False
    # The PBX API's id of a voicemail, once its list named it.
    message_id: str | None = None
    # Why the PBX would not serve the file without the API connection.
    unplayable: str | None = None
    # time_ms came from the list as text, perhaps PBX-local (its zone unknown).
    time_zone_free: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "InboxItem":
        """Return an item saved as JSON (orjson writes a dataclass as a dict of its fields)."""
        return cls(**{**data, "kind": Kind(data["kind"])})


def item_id(kind: Kind, extension: str, key: str) -> str:
    """Return the stable id of an item: one voicemail per user and call, one recording per file."""
    digest = hashlib.sha256(f"{kind}|{extension}|{key}".encode()).hexdigest()
    return digest[:20]


def attachment_item_id(
    extension: str, call_id: str, attachment: Attachment
) -> str | None:
    """Return the id of the item a call's file is in a user's inbox; None if no kind of ours."""
    if attachment.type == Kind.VOICEMAIL:
        return item_id(Kind.VOICEMAIL, extension, call_id)
    if attachment.type == Kind.RECORDING:
        key = attachment.name or attachment.url or call_id
        return item_id(Kind.RECORDING, extension, key)
    return None


def file_name(url: str | None) -> str | None:
    """Return the file name at the end of a file's URL."""
    if url is None:
        return None
    return urlsplit(url).path.rsplit("/", 1)[-1] or None


def _file(item: InboxItem) -> str | None:
    return item.name or file_name(item.url)


def _digits(number: str | None) -> str:
    return re.sub(r"\D", "", number or "").lstrip("0")


def _same_caller(first: str | None, second: str | None) -> bool:
    """Tell whether two numbers are the same caller (`+49…` and `0049…` are)."""
    one, two = _digits(first), _digits(second)
    if not one or not two:
        return not one and not two
    short, long = sorted((one, two), key=len)
    return long.endswith(short) and (short == long or len(short) >= 6)


def _close(first_ms: int, second_ms: int, zone_free: bool) -> int | None:
    """Return how far apart two times are, if within SAME_MESSAGE_MS (modulo a zone)."""
    apart = abs(first_ms - second_ms)
    if zone_free and apart <= _MAX_ZONE_MS + SAME_MESSAGE_MS:
        apart = abs(apart - round(apart / _ZONE_STEP_MS) * _ZONE_STEP_MS)
    return apart if apart <= SAME_MESSAGE_MS else None


class Inbox:
    """The inboxes of one PBX's users."""

    def __init__(self, retention_days: float = DEFAULT_RETENTION_DAYS) -> None:
        """Initialise empty inboxes."""
        self.retention_days = retention_days
        self.users: dict[str, dict[str, InboxItem]] = {}
        self.announced: OrderedDict[str, None] = OrderedDict()

    def items(self, extension: str, kind: Kind) -> list[InboxItem]:
        """Return a user's items of one kind, newest first."""
        found = [i for i in self.users.get(extension, {}).values() if i.kind is kind]
        return sorted(found, key=lambda item: item.time_ms, reverse=True)

    def get(self, extension: str, item_id: str) -> InboxItem | None:
        """Return one item of a user."""
        return self.users.get(extension, {}).get(item_id)

    def same_voicemail(
        self, item: InboxItem, taken: Container[str] = ()
    ) -> InboxItem | None:
        """Return the known voicemail an item reports again, from the event or the list.

        The same id, call, PBX message id or file name is the same message. Without
        those, a message only the call event reported and one only the list named are
        one when they are of the same caller and close in time (SAME_MESSAGE_MS,
        modulo a zone where the list's time was text), the closest one not `taken`
        (by another record of the same list).
        """
        items = self.users.get(item.extension, {})
        if (known := items.get(item.id)) is not None:
            return known
        voicemails = [i for i in items.values() if i.kind is Kind.VOICEMAIL]
        name = _file(item)
        for known in voicemails:
            if (
                (item.call_id is not None and known.call_id == item.call_id)
                or (item.message_id is not None and known.message_id == item.message_id)
                or (name is not None and _file(known) == name)
            ):
                return known
        listed = item.message_id is not None
        best: tuple[int, InboxItem] | None = None
        for known in voicemails:
            if (
                known.id in taken
                # One side only from a call event, the other only from the list.
                or (known.message_id is None) is not listed
                or (known.call_id is None) is (item.call_id is None)
                or (name is not None and _file(known) is not None)
                or not _same_caller(known.remote_number, item.remote_number)
            ):
                continue
            zone_free = item.time_zone_free or known.time_zone_free
            apart = _close(known.time_ms, item.time_ms, zone_free)
            if apart is not None and (best is None or apart < best[0]):
                best = (apart, known)
        return None if best is None else best[1]

    def by_call(self, extension: str, call_id: str) -> InboxItem | None:
        """Return the voicemail a call left a user."""
        for item in self.users.get(extension, {}).values():
            if item.kind is Kind.VOICEMAIL and item.call_id == call_id:
                return item
        return None

    def unread(self, extension: str) -> int:
        """Return how many voicemails of a user are unread."""
        return sum(
            1
            for item in self.users.get(extension, {}).values()
            if item.kind is Kind.VOICEMAIL and not item.read
        )

    def add(self, item: InboxItem, now_ms: int) -> bool:
        """Keep an item, or complete the one it repeats; return whether it is new."""
        if item.time_ms < now_ms - self.retention_days * 86_400_000:
            return False
        items = self.users.setdefault(item.extension, {})
        if (known := items.get(item.id)) is not None:
            if known.call_id is None and item.call_id is not None:
                # The call event's time is UTC; a listed one may be PBX-local.
                known.call_id, known.time_ms = item.call_id, item.time_ms
                known.time_zone_free = False
            known.remote_name = known.remote_name or item.remote_name
            known.url = known.url or item.url
            known.name = known.name or item.name
            known.message_id = known.message_id or item.message_id
            if known.duration is None:
                known.duration = item.duration
            return False
        items[item.id] = item
        self._bound(item.extension, item.kind)
        return item.id in items

    def announce(self, item: InboxItem) -> bool:
        """Mark a voicemail announced; return False if it was before."""
        if item.id in self.announced:
            return False
        self.announced[item.id] = None
        while len(self.announced) > MAX_ANNOUNCED:
            self.announced.popitem(last=False)
        return True

    def mark_read(self, extension: str, item_ids: list[str] | None = None) -> bool:
        """Mark some (or all) voicemails of a user read; return whether any was unread."""
        changed = False
        for item in self.users.get(extension, {}).values():
            if item.kind is Kind.VOICEMAIL and not item.read:
                if item_ids is None or item.id in item_ids:
                    item.read = changed = True
        return changed

    def remove(self, extension: str, item_id: str) -> InboxItem | None:
        """Remove one item of a user; return it."""
        return self.users.get(extension, {}).pop(item_id, None)

    def forget_user(self, extension: str) -> bool:
        """Remove every item of a user; return whether there were any."""
        return self.users.pop(extension, None) is not None

    def expire(self, now_ms: int) -> set[str]:
        """Remove items older than the retention; return the users that lost some."""
        oldest = now_ms - self.retention_days * 86_400_000
        changed: set[str] = set()
        for extension, items in self.users.items():
            for old in [key for key, item in items.items() if item.time_ms < oldest]:
                del items[old]
                changed.add(extension)
        return changed

    def _bound(self, extension: str, kind: Kind) -> None:
        items = self.users[extension]
        for old in self.items(extension, kind)[_LIMITS[kind] :]:
            del items[old.id]

    def restore_user(
        self, extension: str, data: list[dict[str, Any]], now_ms: int
    ) -> None:
        """Load a user's items as saved, leaving out what is malformed or expired."""
        oldest = now_ms - self.retention_days * 86_400_000
        items: dict[str, InboxItem] = {}
        for raw in data:
            try:
                item = InboxItem.from_dict(raw)
            except (TypeError, ValueError, KeyError):
                continue
            if item.extension == extension and item.time_ms >= oldest:
                items.setdefault(item.id, item)
        if items:
            self.users[extension] = items
            for kind in Kind:
                self._bound(extension, kind)

    def restore_announced(self, keys: list[str]) -> None:
        """Load the voicemails announced, as saved."""
        self.announced.update((key, None) for key in keys)


def items_of_event(event: CallEvent, time_ms: int) -> list[InboxItem]:
    """Return the voicemails and recordings a call event reports, per local user."""
    found: list[InboxItem] = []
    for flow in event.flows:
        voicemails = [a for a in flow.attachments if a.type == Kind.VOICEMAIL]
        if flow.voicemail and not voicemails:
            voicemails = [Attachment(type=Kind.VOICEMAIL, url=None, name=None)]
        for attachment in voicemails:
            owner, other = _owner(flow, attachment.owner)
            if owner is not None:
                found.append(
                    _item(
                        Kind.VOICEMAIL, owner, other, event, flow, attachment, time_ms
                    )
                )
        for attachment in flow.attachments:
            if attachment.type != Kind.RECORDING:
                continue
            for party, other in (
                (flow.callee, flow.caller),
                (flow.caller, flow.callee),
            ):
                if party is not None and party.extension is not None:
                    found.append(
                        _item(
                            Kind.RECORDING,
                            party,
                            other,
                            event,
                            flow,
                            attachment,
                            time_ms,
                        )
                    )
    return found


def _owner(flow: CallFlow, owner: str | None) -> tuple[Party | None, Party | None]:
    """Return whose voicemail a flow left (the callee unless it says the caller)."""
    first, second = (flow.callee, flow.caller)
    if owner == "caller":
        first, second = second, first
    for party, other in ((first, second), (second, first)):
        if party is not None and party.extension is not None:
            return party, other
    return None, None


def _item(  # noqa: PLR0917
    kind: Kind,
    party: Party,
    other: Party | None,
    event: CallEvent,
    flow: CallFlow,
    attachment: Attachment,
    time_ms: int,
) -> InboxItem:
    assert party.extension is not None
    key = attachment_item_id(
        party.extension,
        event.call_id,
        Attachment(kind, attachment.url, attachment.name),
    )
    assert key is not None
    duration = None
    if attachment.start_ms is not None and attachment.end_ms is not None:
        duration = max(0, attachment.end_ms - attachment.start_ms) / 1000
    if other is not None:
        number = other.extension if other.local else other.phone
        name, local = other.name, other.local
    else:
        number, name, local = flow.remote_phone, None, False
    return InboxItem(
        id=key,
        kind=kind,
        extension=party.extension,
        time_ms=attachment.start_ms or flow.start_ms or event.start_ms or time_ms,
        call_id=event.call_id,
        url=attachment.url,
        name=attachment.name,
        remote_number=number,
        remote_name=name if name != number else None,
        remote_local=local,
        duration=duration,
    )
