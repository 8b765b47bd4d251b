"""AWS SQS transport: long-poll the queue Wildix writes to, verify each message, hand it over, delete it."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
import ipaddress
import logging
import re
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession
from botocore.exceptions import BotoCoreError, ClientError
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.event import async_call_later

from .const import CONF_ACCESS_KEY_ID, CONF_QUEUE_URL, CONF_SECRET_ACCESS_KEY, DOMAIN
from .hub import WildixHub
from .protocol import SQS_SIGNATURE_ATTRIBUTE

if TYPE_CHECKING:
    from types_aiobotocore_sqs import SQSClient
    from types_aiobotocore_sqs.type_defs import MessageTypeDef

_LOGGER = logging.getLogger(__name__)

# Module constants rather than literals so that tests can shorten them.
WAIT_TIME_SECONDS = 20
MAX_MESSAGES: Final = 10
EMPTY_ROUND_INTERVAL = 1.0
BACKOFF_BASE = 2.0
BACKOFF_MAX = 120.0
CONNECT_TIMEOUT: Final = 10
DEFAULT_REGION: Final = "us-east-1"

_QUEUE_PATH = re.compile(r"/(\d{12})/([A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}\.fifo)/?")
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d+")
_AUTH_ERRORS: Final = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "ExpiredToken",
        "IncompleteSignature",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "MissingAuthenticationToken",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
_QUEUE_ERRORS: Final = frozenset(
    {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
)


class SqsError(Exception):
    """The queue cannot be used right now."""


class SqsAuthError(SqsError):
    """AWS refused the access key: unknown, wrong secret or missing permission."""


class SqsQueueNotFoundError(SqsError):
    """The queue does not exist."""


class SqsConnectionError(SqsError):
    """The queue's endpoint could not be reached or answered with an error."""


@dataclass(frozen=True, slots=True)
class SqsQueue:
    """Where a queue is: its URL, the endpoint that serves it and its region."""

    url: str
    endpoint_url: str
    region: str
    name: str


def parse_queue_url(url: str) -> SqsQueue:
    """Read a queue URL as AWS shows it; raise ValueError for anything else.

    The region is the host label that looks like one (sqs.eu-central-1.amazonaws.com);
    a host without one, such as a local test server, gets us-east-1. Plain http is
    accepted only for loopback hosts.
    """
    parts = urlsplit(url.strip())
    host = parts.hostname
    if (
        host is None
        or parts.scheme not in ("https", "http")
        or (parts.scheme == "http" and not _is_loopback(host))
        or parts.username is not None
        or parts.query
        or parts.fragment
        or (match := _QUEUE_PATH.fullmatch(parts.path)) is None
    ):
        raise ValueError("not an SQS queue URL")
    region = next(
        (label for label in host.split(".") if _REGION.fullmatch(label)),
        DEFAULT_REGION,
    )
    endpoint = f"{parts.scheme}://{f'[{host}]' if ':' in host else host}"
    if parts.port is not None:
        endpoint += f":{parts.port}"
    return SqsQueue(
        url=f"{endpoint}/{match[1]}/{match[2]}",
        endpoint_url=endpoint,
        region=region,
        name=match[2],
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def async_open_client(
    hass: HomeAssistant, queue: SqsQueue, access_key_id: str, secret_access_key: str
) -> "SQSClient":
    """Open an SQS client for a queue; close it with `await client.close()`.

    aiobotocore makes its own aiohttp session (it needs auto_decompress off and
    botocore's timeouts on it, and offers no way to pass one in), so Home Assistant's
    shared session is not used.
    """
    session = AioSession()
    await hass.async_add_executor_job(_load_botocore_data, session)
    return await session.create_client(
        "sqs",
        region_name=queue.region,
        endpoint_url=queue.endpoint_url,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=AioConfig(
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=WAIT_TIME_SECONDS + CONNECT_TIMEOUT,
            # The poller backs off by itself; botocore's retries would sleep unseen.
            retries={"total_max_attempts": 1},
        ),
    ).__aenter__()


def _load_botocore_data(session: AioSession) -> None:
    """Read the files botocore needs for an SQS client, which it would read in the event loop."""
    loader: Any = session.get_component("data_loader")
    for name in ("endpoints", "partitions", "_retry", "sdk-default-configuration"):
        loader.load_data(name)
    for type_name in ("service-2", "endpoint-rule-set-1"):
        loader.load_service_model("sqs", type_name)


async def async_check_queue(client: "SQSClient", queue: SqsQueue) -> None:
    """Ask for the queue's attributes: proves the keys, the permission and the queue."""
    with _translate_errors():
        await client.get_queue_attributes(
            QueueUrl=queue.url, AttributeNames=["QueueArn"]
        )


async def async_validate_queue(
    hass: HomeAssistant, queue: SqsQueue, access_key_id: str, secret_access_key: str
) -> None:
    """Check that the keys can use the queue; raise an SqsError if not."""
    client = await async_open_client(hass, queue, access_key_id, secret_access_key)
    try:
        await async_check_queue(client, queue)
    finally:
        await client.close()


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except ClientError as err:
        error = err.response.get("Error", {})
        codes = {error.get("Code"), error.get("QueryErrorCode")}
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if codes & _AUTH_ERRORS or status in (401, 403):
            raise SqsAuthError(f"AWS refused the keys ({error.get('Code')})") from err
        if codes & _QUEUE_ERRORS:
            raise SqsQueueNotFoundError("the queue does not exist") from err
        raise SqsConnectionError(f"AWS answered {error.get('Code')}") from err
    except BotoCoreError as err:
        raise SqsConnectionError(str(err)) from err


async def async_connect(hass: HomeAssistant, hub: WildixHub) -> "SqsPoller":
    """Connect an SQS entry to its queue, or raise why setup cannot go on."""
    data = hub.entry.data
    queue = parse_queue_url(data[CONF_QUEUE_URL])
    client = await async_open_client(
        hass, queue, data[CONF_ACCESS_KEY_ID], data[CONF_SECRET_ACCESS_KEY]
    )
    placeholders = {"queue": queue.name}
    try:
        await async_check_queue(client, queue)
    except BaseException as err:
        await client.close()
        if not isinstance(err, SqsError):
            raise
        if isinstance(err, SqsAuthError):
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="sqs_invalid_auth",
                translation_placeholders=placeholders,
            ) from err
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key=(
                "sqs_queue_not_found"
                if isinstance(err, SqsQueueNotFoundError)
                else "sqs_cannot_connect"
            ),
            translation_placeholders=placeholders,
        ) from err
    return SqsPoller(hass, hub, client, queue)


class SqsPoller:
    """Long-polls an entry's queue and hands each verified message to its hub."""

    def __init__(
        self,
        hass: HomeAssistant,
        hub: WildixHub,
        client: "SQSClient",
        queue: SqsQueue,
    ) -> None:
        """Initialise the poller of a connected queue."""
        self._hass = hass
        self._hub = hub
        self._client = client
        self._queue = queue
        self._failures = 0
        self._task: asyncio.Task[None] | None = None
        self._cancel_timer: CALLBACK_TYPE | None = None
        self._job = HassJob(
            self._async_start_rounds, f"{DOMAIN} SQS poll", cancel_on_shutdown=True
        )

    @callback
    def async_start(self) -> None:
        """Start polling."""
        self._async_start_rounds()

    async def async_stop(self) -> None:
        """Stop polling and close the client."""
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task])
        await self._client.close()

    @callback
    def _async_start_rounds(self, _now: datetime | None = None) -> None:
        self._cancel_timer = None
        self._task = self._hub.entry.async_create_background_task(
            self._hass, self._async_rounds(), f"{DOMAIN} SQS poll {self._queue.name}"
        )

    async def _async_rounds(self) -> None:
        """Receive until a round finds nothing or fails, then wait for the next."""
        while True:
            started = self._hass.loop.time()
            try:
                received = await self._async_round()
            except SqsError as err:
                self._async_failed(err)
                return
            if not received:
                break
        # Long polling makes an empty round last WAIT_TIME_SECONDS; a server that
        # answers at once must not turn this into a busy loop.
        elapsed = self._hass.loop.time() - started
        self._async_schedule(max(0.0, EMPTY_ROUND_INTERVAL - elapsed))

    async def _async_round(self) -> int:
        """Receive, hand over and delete one batch; return how many messages it had."""
        with _translate_errors():
            response = await self._client.receive_message(
                QueueUrl=self._queue.url,
                MaxNumberOfMessages=MAX_MESSAGES,
                WaitTimeSeconds=WAIT_TIME_SECONDS,
                MessageAttributeNames=["All"],
            )
        self._async_reachable()
        if not (messages := response.get("Messages", [])):
            return 0
        for message in messages:
            try:
                self._async_hand_over(message)
            except Exception:
                # A message this code cannot take must neither stop polling nor come back.
                _LOGGER.exception("Dropped an SQS message that could not be processed")
        with _translate_errors():
            result = await self._client.delete_message_batch(
                QueueUrl=self._queue.url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(messages)
                ],
            )
        _LOGGER.debug(
            "Took %s messages from %s; %s could not be deleted and will return as duplicates",
            len(messages),
            self._queue.name,
            len(result.get("Failed", [])),
        )
        return len(messages)

    @callback
    def _async_hand_over(self, message: "MessageTypeDef") -> None:
        attribute = message.get("MessageAttributes", {}).get(SQS_SIGNATURE_ATTRIBUTE)
        self._hub.async_deliver(
            message.get("Body", "").encode(),
            None if attribute is None else attribute.get("StringValue"),
        )

    @callback
    def _async_reachable(self) -> None:
        self._failures = 0
        if not self._hub.available:
            _LOGGER.info("Polling the SQS queue %s works again", self._queue.name)
            self._hub.async_set_available(True)

    @callback
    def _async_failed(self, err: SqsError) -> None:
        self._failures += 1
        delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (self._failures - 1))
        if self._hub.available:
            _LOGGER.warning(
                "Cannot poll the SQS queue %s: %s; retrying with backoff",
                self._queue.name,
                err,
            )
            self._hub.async_set_available(False)
        if isinstance(err, SqsAuthError):
            self._hub.entry.async_start_reauth(self._hass)
        _LOGGER.debug("Polling %s again in %.0f s", self._queue.name, delay)
        self._async_schedule(delay)

    @callback
    def _async_schedule(self, delay: float) -> None:
        self._cancel_timer = async_call_later(self._hass, delay, self._job)
