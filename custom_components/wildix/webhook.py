"""HTTP transport: Wildix POSTs signed events to a Home Assistant webhook."""

from functools import partial
from http import HTTPStatus
import logging

from aiohttp.web import Request, RequestPayloadError, Response
from homeassistant.components import webhook
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .const import DOMAIN, MAX_BODY_BYTES
from .hub import Outcome, Rejection, WildixHub
from .protocol import SIGNATURE_HEADER

_LOGGER = logging.getLogger(__name__)

_CHUNK = 64 * 1024
_STATUS = {
    Outcome.ACCEPTED: HTTPStatus.OK,
    Outcome.DUPLICATE: HTTPStatus.OK,
    Rejection.SIGNATURE: HTTPStatus.UNAUTHORIZED,
    Rejection.MALFORMED: HTTPStatus.BAD_REQUEST,
}


@callback
def async_register_webhook(
    hass: HomeAssistant, hub: WildixHub, webhook_id: str
) -> CALLBACK_TYPE:
    """Route POSTs to the entry's webhook to its hub; return how to stop."""

    async def handle(
        hass: HomeAssistant, webhook_id: str, request: Request
    ) -> Response:
        return await async_handle_request(hub, request)

    webhook.async_register(
        hass,
        DOMAIN,
        hub.entry.title,
        webhook_id,
        handle,
        local_only=False,
        allowed_methods=("POST",),
    )
    return partial(webhook.async_unregister, hass, webhook_id)


async def async_handle_request(hub: WildixHub, request: Request) -> Response:
    """Verify, decode and hand over one delivery; answer with an HTTP status."""
    try:
        body = await _read_body(request)
    except RequestPayloadError:
        # aiohttp decompresses as it reads: a body that does not match its
        # Content-Encoding fails here, before anyone has checked a signature.
        hub.async_reject(Rejection.UNDECODABLE)
        _LOGGER.debug("Rejected a Wildix delivery whose body does not decode")
        # aiohttp would read the rest of the body after the answer, hit the same
        # error and log it with a traceback: end the body and the connection instead.
        request.content.feed_eof()
        response = Response(status=HTTPStatus.BAD_REQUEST)
        response.force_close()
        return response
    if body is None:
        hub.async_reject(Rejection.TOO_LARGE)
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
