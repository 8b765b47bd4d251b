"""Media source: Wildix → each PBX → each user → Voicemail and Recordings, newest first.

Who sees what: administrators (and automations) every user's inbox; anyone else only
the inbox of the Wildix user linked to their person (people.py). Items play through
this integration's proxy view (media_proxy.py), never from the PBX's own URL.
"""

from homeassistant.auth.models import User
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.components.websocket_api.connection import current_connection
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import current_request
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .hub import WildixConfigEntry, WildixHub
from .inbox import InboxItem, Kind
from .media_proxy import mime_type, proxy_path
from .people import visible_extensions

FOLDER_TITLES = {Kind.VOICEMAIL: "Voicemail", Kind.RECORDING: "Recordings"}
OUTSIDE_CALLER = "Outside caller"
NO_FILE = "no file"


async def async_get_media_source(hass: HomeAssistant) -> "WildixMediaSource":
    """Return the Wildix media source."""
    return WildixMediaSource(hass)


def current_user(hass: HomeAssistant) -> User | None:
    """Return the Home Assistant user asking (WebSocket or HTTP); None for automations."""
    if (connection := current_connection.get()) is not None:
        return connection.user
    if (request := current_request.get()) is not None:
        user: User | None = request.get(KEY_HASS_USER)
        return user
    return None


def item_title(item: InboxItem, show_remote: bool, api: bool) -> str:
    """Return an item's title: its time, the other party and its length."""
    when = dt_util.as_local(dt_util.utc_from_timestamp(item.time_ms / 1000))
    parts = [when.strftime("%Y-%m-%d %H:%M")]
    if show_remote or item.remote_local:
        parts.append(item.remote_name or item.remote_number or OUTSIDE_CALLER)
    else:
        parts.append(OUTSIDE_CALLER)
    if item.duration is not None:
        minutes, seconds = divmod(round(item.duration), 60)
        parts.append(f"{minutes}:{seconds:02d}")
    if item.url is None:
        parts.append(f"({NO_FILE})")
    elif item.unplayable is not None and not api:
        parts.append(f"({item.unplayable})")
    return " · ".join(parts)


class WildixMediaSource(MediaSource):
    """The voicemails and recordings of the PBXs' users."""

    name = "Wildix"

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialise the media source."""
        super().__init__(DOMAIN)
        self.hass = hass

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Return the proxy URL of a voicemail or recording the user may see."""
        parts = (item.identifier or "").split("/")
        if len(parts) != 4:
            raise Unresolvable(
                f"Not a Wildix voicemail or recording: {item.identifier}"
            )
        try:
            hub, extension = self._user_inbox(parts[0], parts[1])
        except BrowseError as err:
            raise Unresolvable(str(err)) from err
        found = hub.inbox.inbox.get(extension, parts[3])
        if found is None or found.kind != parts[2]:
            raise Unresolvable("This voicemail or recording no longer exists")
        if found.url is None:
            raise Unresolvable("The PBX sent no file for this item")
        return PlayMedia(proxy_path(hub.entry.entry_id, found), mime_type(found))

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Browse PBXs, their users, a user's folders, or a folder's items."""
        parts = [part for part in (item.identifier or "").split("/") if part]
        if not parts:
            return self._root()
        if len(parts) == 1:
            return self._entry(self._entry_hub(parts[0]))
        hub, extension = self._user_inbox(parts[0], parts[1])
        if len(parts) == 2:
            return self._user(hub, extension)
        try:
            kind = Kind(parts[2])
        except ValueError as err:
            raise BrowseError(f"Unknown folder: {parts[2]}") from err
        return self._folder(hub, extension, kind)

    def _hubs(self) -> list[WildixHub]:
        entries: list[WildixConfigEntry] = self.hass.config_entries.async_entries(
            DOMAIN
        )
        return [
            entry.runtime_data
            for entry in entries
            if entry.state is ConfigEntryState.LOADED
        ]

    def _entry_hub(self, entry_id: str) -> WildixHub:
        for hub in self._hubs():
            if hub.entry.entry_id == entry_id:
                return hub
        raise BrowseError("This PBX is not set up")

    def _visible(self, hub: WildixHub) -> list[str]:
        """Return the extensions of an entry the current user may see."""
        allowed = visible_extensions(
            self.hass, hub.entry.options, current_user(self.hass)
        )
        users = hub.model.users
        return sorted(
            (ext for ext in users if allowed is None or ext in allowed),
            key=lambda ext: ((users[ext].name or ext).casefold(), ext),
        )

    def _user_inbox(self, entry_id: str, extension: str) -> tuple[WildixHub, str]:
        hub = self._entry_hub(entry_id)
        if extension not in self._visible(hub):
            raise BrowseError("No such user, or not yours to see")
        return hub, extension

    def _root(self) -> BrowseMediaSource:
        hubs = [hub for hub in self._hubs() if self._visible(hub)]
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=None,
            media_class=MediaClass.DIRECTORY,
            media_content_type=MediaType.APPS,
            title=self.name,
            can_play=False,
            can_expand=True,
            children_media_class=MediaClass.DIRECTORY,
            children=[self._entry(hub, full=False) for hub in hubs],
        )

    def _entry(self, hub: WildixHub, *, full: bool = True) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=hub.entry.entry_id,
            media_class=MediaClass.DIRECTORY,
            media_content_type=MediaType.APPS,
            title=hub.entry.title,
            can_play=False,
            can_expand=True,
            children_media_class=MediaClass.DIRECTORY,
            children=[self._user(hub, ext, full=False) for ext in self._visible(hub)]
            if full
            else None,
        )

    def _user(
        self, hub: WildixHub, extension: str, *, full: bool = True
    ) -> BrowseMediaSource:
        user = hub.model.users.get(extension)
        name = user.name if user is not None and user.name else extension
        unread = hub.inbox.inbox.unread(extension)
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"{hub.entry.entry_id}/{extension}",
            media_class=MediaClass.DIRECTORY,
            media_content_type=MediaType.APPS,
            title=f"{name} ({unread})" if unread else name,
            can_play=False,
            can_expand=True,
            children_media_class=MediaClass.DIRECTORY,
            children=[self._folder(hub, extension, kind, full=False) for kind in Kind]
            if full
            else None,
        )

    def _folder(
        self, hub: WildixHub, extension: str, kind: Kind, *, full: bool = True
    ) -> BrowseMediaSource:
        items = hub.inbox.inbox.items(extension, kind)
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"{hub.entry.entry_id}/{extension}/{kind}",
            media_class=MediaClass.DIRECTORY,
            media_content_type=MediaType.MUSIC,
            title=FOLDER_TITLES[kind],
            can_play=False,
            can_expand=True,
            children_media_class=MediaClass.MUSIC,
            children=[self._item(hub, item) for item in items] if full else None,
        )

    def _item(self, hub: WildixHub, item: InboxItem) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=f"{hub.entry.entry_id}/{item.extension}/{item.kind}/{item.id}",
            media_class=MediaClass.MUSIC,
            media_content_type=mime_type(item),
            title=item_title(item, hub.show_remote, hub.pbx_api is not None),
            can_play=item.url is not None
            and (item.unplayable is None or hub.pbx_api is not None),
            can_expand=False,
        )
