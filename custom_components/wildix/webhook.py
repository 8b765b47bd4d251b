"""HTTP transport: Wildix POSTs signed events to a Home Assistant webhook."""

from http import HTTPStatus
import logging

from aiohttp.web import Request, RequestPayloadError, Response
from homeassistant.components import webhook
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN, MAX_BODY_BYTES
from .deliveries import Outcome, Rejection
from .hub import WildixHub
from .protocol import SIGNATURE_HEADER

_LOGGER = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_STATUS = {
    Outcome.ACCEPTED: HTTPStatus.OK,
    Outcome.DUPLICATE: HTTPStatus.OK,
    Rejection.SIGNATURE: HTTPStatus.UNAUTHORIZED,
    Rejection.MALFORMED: HTTPStatus.BAD_REQUEST,
}


async def async_connect(hass: HomeAssistant, hub: WildixHub) -> "WebhookConnection":
    """Return the entry's webhook, ready to start; a webhook has nothing to connect to."""
    return WebhookConnection(hass, hub)


class WebhookConnection:
    """Routes POSTs to the entry's webhook to its hub while started."""

    def __init__(self, hass: HomeAssistant, hub: WildixHub) -> None:
        """Initialise the webhook of an entry."""
        self._hass = hass
        self._hub = hub
        self._webhook_id: str = hub.entry.data[CONF_WEBHOOK_ID]
        self._registered = False

    @callback
    def async_start(self) -> None:
        """Start taking POSTs."""
        hub = self._hub

        async def handle(
            hass: HomeAssistant, webhook_id: str, request: Request
        ) -> Response:
            return await async_handle_request(hub, request)

        webhook.async_register(
            self._hass,
            DOMAIN,
            hub.entry.title,
            self._webhook_id,
            handle,
            local_only=False,
            allowed_methods=("POST",),
        )
        self._registered = True

    async def async_stop(self) -> None:
        """Stop taking POSTs."""
        if self._registered:
            self._registered = False
            webhook.async_unregister(self._hass, self._webhook_id)


async def async_handle_request(hub: WildixHub, request: Request) -> Response:
    """Verify, decode and hand over one delivery; answer with an HTTP status."""
    try:
        body = await _read_body(request)
    except RequestPayloadError:
        # aiohttp decompresses as it reads: a body that does not match its
        # Content-Encoding fails here, before anyone has checked a signature.
        hub.deliveries.async_rejected(Rejection.UNDECODABLE)
        _LOGGER.debug("Rejected a Wildix delivery whose body does not decode")
        # aiohttp would read the rest of the body after the answer, hit the same
        # error and log it with a traceback: end the body and the connection instead.
        request.content.feed_eof()
        response = Response(status=HTTPStatus.BAD_REQUEST)
        response.force_close()
        return response
    if body is None:
        hub.deliveries.async_rejected(Rejection.TOO_LARGE)
        # Unverified bytes from anyone: debug only, like a bad signature.
        _LOGGER.debug("Rejected a Wildix delivery larger than %s bytes", MAX_BODY_BYTES)
        return Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    outcome = hub.async_deliver(body, request.headers.get(SIGNATURE_HEADER))
    return Response(status=_STATUS[outcome])


async def _read_body(request: Request) -> bytes | None:
    """Read the body, or return None as soon as it exceeds the size limit."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
