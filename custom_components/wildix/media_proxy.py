"""Playback without leaking: Home Assistant fetches a voicemail or recording and streams it.

The browser (or a media player, through a signed path) only ever sees this view's
URL; the PBX's URL and the API token stay in Home Assistant. The PBX API token is
sent only to the host of the entry's PBX API connection; a redirect is followed
only to that same host; only audio is passed on, and at most MAX_MEDIA_BYTES.
Without the API connection a file the PBX serves openly still plays; one it
refuses is remembered as needing the connection.
"""

from http import HTTPStatus
import logging
from typing import Final
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp import web
from homeassistant.components.http.const import KEY_HASS_USER
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_VERIFY_SSL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.http import HomeAssistantView

from .const import CONF_API_TOKEN, CONF_PBX_URL, DOMAIN
from .hub import WildixHub
from .inbox import InboxItem
from .people import visible_extensions

_LOGGER = logging.getLogger(__name__)

MAX_MEDIA_BYTES: Final = 20 * 1024 * 1024
MAX_REDIRECTS: Final = 3
# Seconds to connect and between chunks; the whole file may take longer.
FETCH_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=30)
CHUNK: Final = 64 * 1024
URL: Final = "/api/wildix/inbox/{entry_id}/{extension}/{item_id}"
NEEDS_API = "needs the PBX API connection"

_MIME_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".ogg": "audio/ogg"}


def proxy_path(entry_id: str, item: InboxItem) -> str:
    """Return the path of this view that plays an item."""
    return URL.format(entry_id=entry_id, extension=item.extension, item_id=item.id)


def mime_type(item: InboxItem) -> str:
    """Return the content type an item's file most likely has (by its name)."""
    name = (item.name or urlsplit(item.url or "").path).lower()
    for suffix, mime in _MIME_TYPES.items():
        if name.endswith(suffix):
            return mime
    # Voicemail is mp3 by default (PBX-API-HISTORY.md §2); recordings wav.
    return "audio/mpeg" if item.kind == "voicemail" else "audio/wav"


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, parts.hostname, port


class InboxMediaView(HomeAssistantView):
    """Stream a voicemail or recording the user may hear."""

    url = URL
    name = "api:wildix:inbox"
    requires_auth = True

    def __init__(self, hass: HomeAssistant) -> None:
        """Initialise the view."""
        self.hass = hass

    async def get(
        self, request: web.Request, entry_id: str, extension: str, item_id: str
    ) -> web.StreamResponse:
        """Fetch the file from the PBX and stream it."""
        entry = self.hass.config_entries.async_get_entry(entry_id)
        if (
            entry is None
            or entry.domain != DOMAIN
            or entry.state is not ConfigEntryState.LOADED
        ):
            return _error(HTTPStatus.NOT_FOUND, "No such Wildix PBX")
        hub: WildixHub = entry.runtime_data
        user = request[KEY_HASS_USER]
        # A system user (a media player's signed path) was let through by resolving.
        if not user.system_generated:
            allowed = visible_extensions(self.hass, entry.options, user)
            if allowed is not None and extension not in allowed:
                return _error(HTTPStatus.FORBIDDEN, "Not your inbox")
        item = hub.inbox.inbox.get(extension, item_id)
        if item is None or item.url is None:
            return _error(HTTPStatus.NOT_FOUND, "No such voicemail or recording")
        return await self._async_stream(request, hub, item)

    async def _async_stream(
        self, request: web.Request, hub: WildixHub, item: InboxItem
    ) -> web.StreamResponse:
        data = hub.entry.data
        api_url = data.get(CONF_PBX_URL)
        token = data.get(CONF_API_TOKEN) if api_url else None
        session = async_get_clientsession(
            self.hass, verify_ssl=data.get(CONF_VERIFY_SSL, True)
        )
        url = item.url
        assert url is not None
        origin = _origin(url)
        if urlsplit(url).scheme not in ("http", "https"):
            return _error(HTTPStatus.BAD_GATEWAY, "The file's address is not HTTP")
        headers = {}
        if token and api_url and _origin(api_url) == origin:
            headers["Authorization"] = f"Bearer {token}"
        try:
            for _ in range(MAX_REDIRECTS + 1):
                answer = await session.get(
                    url, headers=headers, allow_redirects=False, timeout=FETCH_TIMEOUT
                )
                if answer.status not in (301, 302, 303, 307, 308):
                    break
                answer.release()
                url = urljoin(url, answer.headers.get("Location", ""))
                if _origin(url) != origin:
                    _LOGGER.debug("%s: redirect to another host refused", item.id)
                    return _error(
                        HTTPStatus.BAD_GATEWAY, "The PBX redirected to another host"
                    )
            else:
                return _error(HTTPStatus.BAD_GATEWAY, "The PBX redirected too often")
        except (aiohttp.ClientError, TimeoutError) as err:
            _LOGGER.debug("%s: fetching the file failed: %r", item.id, err)
            return _error(HTTPStatus.BAD_GATEWAY, "The PBX could not be reached")
        try:
            return await self._async_pass_on(request, hub, item, answer, headers)
        finally:
            answer.release()

    async def _async_pass_on(
        self,
        request: web.Request,
        hub: WildixHub,
        item: InboxItem,
        answer: aiohttp.ClientResponse,
        headers: dict[str, str],
    ) -> web.StreamResponse:
        if answer.status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            if not headers:
                hub.inbox.async_mark_unplayable(item, NEEDS_API)
            return _error(
                HTTPStatus.BAD_GATEWAY,
                f"The PBX refused the file (HTTP {answer.status})"
                + ("" if headers else f": it {NEEDS_API}"),
            )
        if answer.status != HTTPStatus.OK:
            return _error(
                HTTPStatus.BAD_GATEWAY, f"The PBX answered HTTP {answer.status}"
            )
        if not answer.content_type.startswith("audio/"):
            return _error(
                HTTPStatus.BAD_GATEWAY, "The PBX did not answer with an audio file"
            )
        if (answer.content_length or 0) > MAX_MEDIA_BYTES:
            return _error(HTTPStatus.BAD_GATEWAY, "The file is larger than 20 MB")
        response = web.StreamResponse(
            headers={
                "Content-Type": answer.content_type,
                "Cache-Control": "private, no-store",
            }
        )
        if answer.content_length is not None:
            response.content_length = answer.content_length
        await response.prepare(request)
        sent = 0
        try:
            async for chunk in answer.content.iter_chunked(CHUNK):
                sent += len(chunk)
                if sent > MAX_MEDIA_BYTES:
                    _LOGGER.warning(
                        "%s: the PBX sent more than 20 MB for one file; cut off",
                        hub.entry.title,
                    )
                    break
                await response.write(chunk)
        except (aiohttp.ClientError, TimeoutError) as err:
            _LOGGER.debug("%s: the file's transfer broke off: %r", item.id, err)
        else:
            if item.unplayable is not None and sent <= MAX_MEDIA_BYTES:
                hub.inbox.async_mark_unplayable(item, None)
        await response.write_eof()
        return response


def _error(status: HTTPStatus, text: str) -> web.Response:
    return web.Response(status=status, text=text)
