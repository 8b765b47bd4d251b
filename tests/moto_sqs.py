"""A real SQS API on loopback (moto in server mode) and a sender that writes to it as Wildix does."""

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
import json
from threading import Thread
from typing import Any
import urllib.request

from botocore.client import BaseClient
from botocore.session import Session
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from werkzeug.serving import ThreadedWSGIServer

from .common import FIXTURES, compact, entity_id, event_time, load_event, sign

# The fixture message, its body signed with the sqs vector of signature_vectors.json.
SQS_MESSAGE: dict[str, Any] = json.loads(
    (FIXTURES / "sqs_message_presence_telephony_ringing.json").read_text()
)
SQS_SECRET = next(
    vector["secret"]
    for vector in json.loads((FIXTURES / "signature_vectors.json").read_text())[
        "vectors"
    ]
    if vector["transport"] == "sqs"
)
SQS_KEY_ID = "AKIAEXAMPLEWILDIX01"
SQS_ENTRY_ID = "01JWILDIXSQSENTRY"
REGION = "us-east-1"
QUEUE_NAME = "wildix"
# What the README asks for. AWS authorises DeleteMessageBatch with sqs:DeleteMessage;
# moto checks the batch action under its own name, so it is granted too.
# One botocore session for every test: it keeps the service models it has read.
_BOTOCORE = Session()
READ_PERMISSIONS = [
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:DeleteMessageBatch",
    "sqs:GetQueueAttributes",
]


def sqs_data(
    url: str, key_id: str = SQS_KEY_ID, secret: str = SQS_SECRET
) -> dict[str, str]:
    """Return the data of an SQS config entry."""
    return {
        "transport": "sqs",
        "queue_url": url,
        "access_key_id": key_id,
        "secret_access_key": secret,
    }


def sqs_entity(hass: HomeAssistant, platform: str, extension: str, key: str) -> str:
    """Return the entity id of a user's entity of the SQS entry."""
    return entity_id(hass, platform, f"{SQS_ENTRY_ID}_{extension}_{key}")


class _OneRequestPerConnection(MotoRequestHandler):
    """Without keep-alive, a stopped server is really gone for every client."""

    protocol_version = "HTTP/1.0"
    # A connection that never sends its request cannot hold a thread (and stop()) for long.
    timeout = 10


class _JoinedThreadsServer(ThreadedWSGIServer):
    """Request threads are joined when the server closes.

    werkzeug's daemon request threads outlive server_close(); under load one was
    still finishing its response when Home Assistant's test harness looked for
    lingering threads at teardown, and failed the test.
    """

    daemon_threads = False
    block_on_close = True
    # socketserver's default backlog of 5 drops connections when the accepting thread
    # is starved on a busy machine; the client then waits out its connect timeout.
    request_queue_size = 128


class MotoSqs:
    """moto's SQS and IAM on a free loopback port, counting the SQS actions it serves.

    It is moto's ThreadedMotoServer made of the same parts, with a server that stops in
    50 ms instead of 500 and closes each connection, so it can go away and come back.
    """

    def __init__(self) -> None:
        """Start the server."""
        self._app = DomainDispatcherApplication(create_backend_app)
        self.actions: Counter[str] = Counter()
        self.outage = False  # True: every SQS action gets AWS's 500 InternalError
        self.port = 0
        self._admin = ("testing", "testing")
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def _count(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Count SQS actions by name (the JSON protocol names them in X-Amz-Target)."""
        target: str = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.startswith("AmazonSQS."):
            self.actions[target.removeprefix("AmazonSQS.")] += 1
            if self.outage:
                environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                body = b'{"__type":"com.amazonaws.sqs#InternalError","message":"oops"}'
                start_response(
                    "500 Internal Server Error",
                    [
                        ("Content-Type", "application/x-amz-json-1.0"),
                        ("Content-Length", str(len(body))),
                        ("x-amzn-query-error", "InternalError;Receiver"),
                    ],
                )
                return [body]
        response: Iterable[bytes] = self._app(environ, start_response)
        return response

    def start(self) -> None:
        """Serve, on the same port as before if there was one."""
        self._server = _JoinedThreadsServer(
            "127.0.0.1", self.port, self._count, handler=_OneRequestPerConnection
        )
        self.port = self._server.server_port
        self._thread = Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()
        self.running = True

    def stop(self) -> None:
        """Take the server away; queues and messages stay in moto's memory."""
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()  # joins the request threads
        self.running = False

    def close(self) -> None:
        """Forget every queue and key, turn authentication off, stop."""
        if not self.running:
            self.start()
        self._moto_api("reset-auth", b"inf")
        self._moto_api("reset", b"")
        self.stop()

    def client(self, service: str) -> BaseClient:
        """Return a plain (blocking) botocore client with the admin keys."""
        if (client := self._clients.get((service, self._admin[0]))) is None:
            client = self._clients[service, self._admin[0]] = _BOTOCORE.create_client(
                service,
                region_name=REGION,
                endpoint_url=self.endpoint,
                aws_access_key_id=self._admin[0],
                aws_secret_access_key=self._admin[1],
            )
        return client

    def create_queue(self, name: str = QUEUE_NAME) -> str:
        """Create a queue; return its URL."""
        url: str = self.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        return url

    def create_key(self, user: str, actions: list[str]) -> tuple[str, str]:
        """Create an IAM user allowed `actions` on every queue; return its key id and secret."""
        iam = self.client("iam")
        iam.create_user(UserName=user)
        if actions:
            iam.put_user_policy(
                UserName=user,
                PolicyName="sqs",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": actions, "Resource": "*"}
                        ],
                    }
                ),
            )
        key = iam.create_access_key(UserName=user)["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def delete_key(self, user: str, key_id: str) -> None:
        """Delete an access key, as an admin rotating keys would."""
        self.client("iam").delete_access_key(UserName=user, AccessKeyId=key_id)

    def require_auth(self) -> None:
        """Make moto check keys, signatures and IAM policies from now on.

        The admin keys become a real IAM user first, since moto then refuses unknown keys.
        """
        self._admin = self.create_key("admin", ["sqs:*", "iam:*"])
        self._moto_api("reset-auth", b"0")

    def send(self, url: str, body: str, signature: str | None) -> None:
        """Put a message into a queue, with an X-SIGNATURE attribute unless None."""
        attributes = (
            {}
            if signature is None
            else {"X-SIGNATURE": {"DataType": "String", "StringValue": signature}}
        )
        self.client("sqs").send_message(
            QueueUrl=url, MessageBody=body, MessageAttributes=attributes
        )

    def counts(self, url: str) -> tuple[int, int]:
        """Return how many messages wait in a queue and how many are being processed."""
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )

    def _moto_api(self, action: str, data: bytes) -> None:
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/{action}",
            data=data,
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass


class WildixQueueSender:
    """Writes signed events into an SQS queue as Wildix does, moving the frozen clock along."""

    def __init__(
        self,
        hass: HomeAssistant,
        moto: MotoSqs,
        freezer: FrozenDateTimeFactory,
        url: str,
        secret: str,
    ) -> None:
        """Initialise the sender."""
        self.hass = hass
        self.moto = moto
        self.freezer = freezer
        self.url = url
        self.secret = secret

    async def send_raw(self, body: str, signature: str | None) -> None:
        """Put a message with exactly this body and signature into the queue."""
        await self.hass.async_add_executor_job(
            self.moto.send, self.url, body, signature
        )

    async def send(
        self, event: str | dict[str, Any], *, follow_clock: bool = True, **changes: Any
    ) -> dict[str, Any]:
        """Sign and send an event (a fixture name or a payload).

        The clock moves to the event's time only once the message is queued, so the
        poller's round that takes it runs when the test polls, not while sending.
        """
        payload = load_event(event, **changes) if isinstance(event, str) else event
        body = compact(payload).decode()
        await self.send_raw(body, sign(body.encode(), self.secret))
        if follow_clock:
            moment = event_time(payload) + timedelta(milliseconds=150)
            if moment > datetime.now(UTC):
                self.freezer.move_to(moment)
        return payload

    async def counts(self) -> tuple[int, int]:
        """Return (waiting, being processed) for the queue."""
        return await self.hass.async_add_executor_job(self.moto.counts, self.url)


async def poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 1.0
) -> None:
    """Move the frozen clock, fire what is due (the poller's next round) and let it finish."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
