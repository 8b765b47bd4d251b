"""Wildix PBX REST API: routes, the envelope, paging and errors.

This module knows the PBX's REST API and nothing of Home Assistant. It is handed an
aiohttp session (Home Assistant's shared one in the integration) and a Bearer token
(a Wildix "Simple token" or a Company API key `wsk-v1-...`).

The official OpenAPI reference could not be read, so every shape below names the
source it comes from and its confidence (H official or two clients plus a live test,
M one live-tested client, L one untested source), as compiled in the project's
research notes on the PBX API. Parsing is tolerant where sources disagree: what the
code had to work around is reported through `on_deviation` so that a live check can
print it, and bad values are dropped instead of failing the whole answer.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import logging
import re
import ssl
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import orjson

_LOGGER = logging.getLogger(__name__)

# Clients of the API use 10-15 s per request (research §3); Home Assistant actions must
# not wait longer than 10 s.
DEFAULT_TIMEOUT = 10.0
# Colleagues are fetched in pages of this size, at most MAX_PAGES of them: a PBX that
# keeps answering full pages cannot keep the integration busy forever.
PAGE_SIZE = 100
MAX_PAGES = 50
# Any answer larger than this is not one the integration asked for.
MAX_BODY = 4 * 1024 * 1024
MAX_TEXT = 255
MAX_RECORDS = PAGE_SIZE * MAX_PAGES

# Routes. The documented forms are kept (research §3: "Use the documented forms"),
# including their case and trailing slash.
ROUTE_PERSONAL_INFO = "/api/v1/personal/info"  # H: n8n live test, 10x-media
ROUTE_VERSION = "/api/v1/PBX/version"  # M: n8n live test; the answer's shape is unknown
ROUTE_PING = "/api/v1/PBX/ping"  # M: n8n live test
ROUTE_COLLEAGUES = "/api/v1/PBX/Colleagues"  # H: admin view, paged
ROUTE_REGISTRATIONS = "/api/v1/PBX/Users/Sip/Registrations"  # M: 10x-media, 200 live
ROUTE_SWITCHES = "/api/v1/Dialplan/Switches"  # M/H: canvacanva production, n8n live
ROUTE_SWITCH = "/api/v1/Dialplan/Switches/{id}/"  # M/H: PUT with title and state
ROUTE_USER_PRESENCE = "/api/v1/User/{extension}/Presence"  # M: canvacanva, n8n
ROUTE_OWN_PRESENCE = "/api/v1/Personal/Presence"  # M: n8n live (PUT only; GET is 404)
ROUTE_ORIGINATE = "/api/v1/originate/call"  # M/H: gbcrm, n8n live
ROUTE_MAKE_CALL = (
    "/api/v2/call-control/make-call"  # M: n8n, gbcrm; missing on some tenants
)
ROUTE_LIST_CALLS = "/api/v2/call-control/list-calls/"  # H: Wildix API-key guide (path)
ROUTE_HANGUP = "/api/v2/call-control/hangup"  # M: n8n, gbcrm

# The PBX's format of a presence's end, in UTC (M: canvacanva, n8n 1.1.0).
UNTIL_FORMAT = "%d/%m/%Y %H:%M"

_SEGMENT = re.compile(r"[0-9A-Za-z_.@+-]{1,64}")
_NUMBER_SEPARATORS = re.compile(r"[\s().-]")
_NUMBER = re.compile(r"\+?[0-9*#]{1,40}")
_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")
_TRUE = frozenset({"1", "true", "yes", "on", "online"})


class PbxError(Exception):
    """The PBX API could not do what was asked."""


class PbxAuthError(PbxError):
    """The PBX refused the credential (401) or its rights (403)."""

    def __init__(self, status: int, reason: str) -> None:
        """Keep the HTTP status and the PBX's reason."""
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason


class PbxConnectionError(PbxError):
    """The PBX could not be reached: timeout, TLS, DNS, refused connection or 5xx."""


class PbxNotWildixError(PbxError):
    """Something answered, but not with the Wildix API's envelope."""


class PbxRouteMissingError(PbxError):
    """The route answered 404: this PBX (build, tenant or credential) lacks the feature."""

    def __init__(self, path: str, reason: str) -> None:
        """Keep the route and the PBX's reason."""
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class PbxRefusedError(PbxError):
    """The PBX answered `{type: "error", reason, code}`: it refused the request."""

    def __init__(self, reason: str, code: int | None) -> None:
        """Keep the PBX's reason and code."""
        super().__init__(reason if code is None else f"{reason} (code {code})")
        self.reason = reason
        self.code = code


class PresenceStatus(StrEnum):
    """Presence statuses the PBX accepts when setting one (M: canvacanva, n8n)."""

    AVAILABLE = "available"
    AWAY = "away"
    DND = "dnd"
    # "make up room": a hotel status (n8n's list); the PBX accepts it like the others.
    MUR = "mur"


@dataclass(frozen=True, slots=True)
class PersonalInfo:
    """The user the credential acts as (`GET /api/v1/personal/info`)."""

    id: str | None
    extension: str | None
    name: str | None
    login: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class Colleague:
    """One PBX user from the directory (`GET /api/v1/PBX/Colleagues`).

    Fields as listed by TristanStark/WildixPHPApi (WildixUser.php); `role` and
    `license_type` values per n8n (admin/user/fax/room/park_orbit;
    basic/essential/business/premium/wizyconf). The numeric `id` is not the extension.
    """

    extension: str
    id: str | None
    name: str | None
    login: str | None
    email: str | None
    department: str | None
    role: str | None
    license_type: str | None
    office_phone: str | None
    mobile_phone: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class Directory:
    """All users of the PBX, with what the PBX said about their number."""

    colleagues: tuple[Colleague, ...]
    # The PBX's `total`; None when it gave none.
    total: int | None
    # False when paging stopped at MAX_PAGES before `total` was reached.
    complete: bool


@dataclass(frozen=True, slots=True)
class SipRegistration:
    """One SIP device registered for a user."""

    online: bool
    user_agent: str | None
    contact: str | None
    received: str | None
    instance: str | None


@dataclass(frozen=True, slots=True)
class UserRegistrations:
    """The SIP registrations of one extension."""

    extension: str
    devices: tuple[SipRegistration, ...]

    @property
    def registered(self) -> bool:
        """Return True when at least one device is online."""
        return any(device.online for device in self.devices)

    @property
    def online_count(self) -> int:
        """Return the number of devices online."""
        return sum(device.online for device in self.devices)


@dataclass(frozen=True, slots=True)
class DialplanSwitch:
    """A dialplan switch (day/night, holiday) (`GET /api/v1/Dialplan/Switches`)."""

    id: str
    title: str
    state: int
    # A tree switch may have more than two states; its range is not documented.
    is_tree: bool


@dataclass(frozen=True, slots=True)
class UserPresence:
    """A user's presence as the PBX reports it (`GET /api/v1/User/{ext}/Presence`)."""

    # `result.show`; an empty value means available (M: canvacanva).
    status: str
    message: str | None
    until: datetime | None


@dataclass(frozen=True, slots=True)
class PbxVersion:
    """The PBX's software version (`GET /api/v1/PBX/version`)."""

    version: str


@dataclass(frozen=True, slots=True)
class ActiveCall:
    """A call in progress on a user's devices (v2 `list-calls`)."""

    sip_call_id: str
    state: str | None
    caller_number: str | None
    caller_name: str | None
    callee_number: str | None
    callee_name: str | None
    duration: int | None


def normalize_url(url: str) -> str:
    """Return the PBX's base URL (scheme, host, port), or raise ValueError.

    A missing scheme means https; plain http is allowed for LAN addresses. A trailing
    `/api/v1` or `/api/v2` (people paste routes) is dropped, other paths are kept.
    """
    url = url.strip()
    if not url:
        raise ValueError("empty URL")
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("the URL must not contain credentials, a query or a fragment")
    try:
        _ = parts.port
    except ValueError as err:
        raise ValueError(f"bad port in {url!r}") from err
    path = parts.path.rstrip("/")
    for suffix in ("/api/v1", "/api/v2"):
        if path.lower().endswith(suffix):
            path = path[: -len(suffix)]
    return f"{parts.scheme}://{parts.netloc}{path}"


def format_until(until: datetime) -> str:
    """Return a presence's end in the PBX's format, in UTC; refuse a naive datetime."""
    if until.tzinfo is None:
        raise ValueError("until must carry a time zone")
    return until.astimezone(UTC).strftime(UNTIL_FORMAT)


def parse_until(value: object) -> datetime | None:
    """Return the UTC datetime of a presence's end in the PBX's format, or None."""
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.strptime(text, UNTIL_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _text(value: object, limit: int = MAX_TEXT) -> str | None:
    """Return a string field cut at `limit`; numbers become text; anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] if value else None


def _int(value: object) -> int | None:
    """Return an integer field given as a number or as digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value.strip()):
        return int(value)
    return None


def _flag(value: object) -> bool:
    """Return a boolean field given as true/1/"1"/"true" (the PBX sends `online: "1"`)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in _TRUE


def _segment(value: str, what: str) -> str:
    """Return a value that goes into a route's path, or raise ValueError."""
    if not isinstance(value, str) or not _SEGMENT.fullmatch(value):
        raise ValueError(f"not a valid {what}: {value!r}")
    return quote(value, safe="")


def normalize_number(value: str) -> str:
    """Return a phone number without separators, or raise ValueError.

    Digits with an optional leading `+`, and `*` and `#` for feature codes; spaces,
    dots, dashes and parentheses are separators and dropped. Letters are refused.
    """
    number = _NUMBER_SEPARATORS.sub("", value) if isinstance(value, str) else ""
    if not _NUMBER.fullmatch(number):
        raise ValueError(f"not a phone number: {value!r}")
    return number


def _reason(body: Mapping[str, Any], default: str) -> str:
    """Return the reason of an error answer (`reason`; v2 and OAuth use other keys)."""
    for key in ("reason", "message", "error_description", "error"):
        if reason := _text(body.get(key), 500):
            return reason
    return default


class PbxClient:
    """A client of one PBX's REST API, acting with one Bearer token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        *,
        verify_ssl: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        on_deviation: Callable[[str, str], None] | None = None,
    ) -> None:
        """Prepare a client; raise ValueError for a bad URL or token.

        `on_deviation(path, what)` hears every shape that differed from the documented
        one and was worked around; by default those go to the debug log.
        """
        token = token.strip()
        if not _TOKEN.fullmatch(token):
            raise ValueError("the token must be printable ASCII without spaces")
        self._session = session
        self.url = normalize_url(url)
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
        }
        self._ssl: bool = verify_ssl
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._on_deviation = on_deviation

    def _deviation(self, path: str, what: str) -> None:
        """Report a shape that differed from the documented one."""
        if self._on_deviation is None:
            _LOGGER.debug("%s: %s", path, what)
        else:
            self._on_deviation(path, what)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request; return the answer's JSON or raise a PbxError."""
        try:
            async with self._session.request(
                method,
                self.url + path,
                params=params,
                json=json,
                headers=self._headers,
                ssl=self._ssl,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                body = await self._read(response)
                location = response.headers.get("Location", "")
        except TimeoutError as err:
            raise PbxConnectionError(f"{path}: no answer in time") from err
        except (aiohttp.ClientSSLError, ssl.SSLError) as err:
            raise PbxConnectionError(f"{path}: TLS failed: {err}") from err
        except aiohttp.ClientError as err:
            raise PbxConnectionError(f"{path}: {err}") from err
        return self._decode(path, status, body, location)

    @staticmethod
    async def _read(response: aiohttp.ClientResponse) -> bytes:
        """Read the answer's body, refusing more than MAX_BODY bytes."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > MAX_BODY:
                raise PbxNotWildixError(f"answer larger than {MAX_BODY} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _decode(self, path: str, status: int, body: bytes, location: str) -> Any:
        """Turn an answer into its JSON or the PbxError it stands for."""
        try:
            data: Any = orjson.loads(body) if body.strip() else None
        except orjson.JSONDecodeError:
            data = None
            is_json = False
        else:
            is_json = data is not None
        error = data if isinstance(data, dict) and data.get("type") == "error" else None
        if status in (401, 403):
            reason = _reason(
                error or {}, "unauthorized" if status == 401 else "forbidden"
            )
            raise PbxAuthError(status, reason)
        if status == 404:
            raise PbxRouteMissingError(path, _reason(error or {}, "404 Not Found"))
        if 300 <= status < 400:
            raise PbxNotWildixError(f"{path}: HTTP {status} redirects to {location!r}")
        if status >= 500:
            raise PbxConnectionError(
                f"{path}: HTTP {status}: {_reason(error or {}, 'server error')}"
            )
        if error is not None:
            # The documented error shape (10x-media, H-ish): {type, reason, code}.
            raise PbxRefusedError(_reason(error, "refused"), _int(error.get("code")))
        if not is_json or not isinstance(data, dict):
            raise PbxNotWildixError(f"{path}: HTTP {status}, not a JSON object")
        if status >= 400:
            # A refusal without the error envelope: v2 answers `{message}` (M: n8n).
            if "message" in data or "reason" in data:
                raise PbxRefusedError(_reason(data, "refused"), status)
            raise PbxNotWildixError(f"{path}: HTTP {status} without Wildix's envelope")
        return data

    async def _result(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send one request and return the envelope's `result`.

        The envelope is `{"type": "result", "result": ...}` (H: s2s-client-php README,
        10x-media, others); creates were seen answering `{"result": "Success"}` without
        `type` (M: n8n live), which is accepted and reported.
        """
        data = await self._request(method, path, params=params, json=json)
        if "result" not in data:
            raise PbxNotWildixError(f"{path}: no `result` in the answer")
        kind = data.get("type")
        if kind is None:
            self._deviation(path, "envelope without `type`")
        elif kind != "result":
            raise PbxNotWildixError(f"{path}: envelope of type {kind!r}")
        return data["result"]

    def _records(self, path: str, result: Any) -> tuple[list[Any], int | None]:
        """Return a list answer's records and total (`result.records`, `result.total`)."""
        if isinstance(result, list):
            self._deviation(path, "a bare list instead of {records, total}")
            return result, None
        if not isinstance(result, dict) or not isinstance(result.get("records"), list):
            raise PbxNotWildixError(f"{path}: no `records` list in the result")
        total = _int(result.get("total"))
        if total is None:
            self._deviation(path, "`total` missing or not a number")
        elif not isinstance(result.get("total"), int):
            self._deviation(path, "`total` is text, not a number")
        return result["records"], total

    async def async_get_personal_info(self) -> PersonalInfo:
        """Return the user the token acts as; the check made before a token is saved."""
        result = await self._result("GET", ROUTE_PERSONAL_INFO)
        if not isinstance(result, dict):
            raise PbxNotWildixError(f"{ROUTE_PERSONAL_INFO}: result is not an object")
        for key in ("id", "extension", "name"):
            if _text(result.get(key)) is None:
                self._deviation(ROUTE_PERSONAL_INFO, f"no usable `{key}`")
        return PersonalInfo(
            id=_text(result.get("id")),
            extension=_text(result.get("extension"), 32),
            name=_text(result.get("name")),
            login=_text(result.get("login")),
            email=_text(result.get("email")),
        )

    async def async_get_version(self) -> PbxVersion:
        """Return the PBX's version.

        The answer's shape is not documented (L): a string result or an object with a
        version-like key are both taken.
        """
        result = await self._result("GET", ROUTE_VERSION)
        if version := _text(result, 64):
            return PbxVersion(version)
        if isinstance(result, dict):
            for key in ("version", "pbxVersion", "wmsVersion", "wms", "pbx"):
                if version := _text(result.get(key), 64):
                    if key != "version":
                        self._deviation(ROUTE_VERSION, f"version under `{key}`")
                    return PbxVersion(version)
        raise PbxNotWildixError(f"{ROUTE_VERSION}: no version in the result")

    async def async_ping(self) -> None:
        """Ask the PBX whether it is up; raise a PbxError when it is not."""
        await self._result("GET", ROUTE_PING)

    async def async_get_colleagues(self) -> Directory:
        """Return every user of the PBX, fetching all pages (at most MAX_PAGES).

        Paging with `count` and `start` (H: n8n, 10x-media). The next page starts after
        the records received, so a PBX that caps `count` below PAGE_SIZE still works.
        """
        path = ROUTE_COLLEAGUES
        colleagues: dict[str, Colleague] = {}
        total: int | None = None
        received = 0
        complete = False
        for _ in range(MAX_PAGES):
            result = await self._result(
                "GET", path, params={"count": PAGE_SIZE, "start": received}
            )
            records, page_total = self._records(path, result)
            total = page_total if page_total is not None else total
            received += len(records)
            for record in records[:MAX_RECORDS]:
                colleague = self._colleague(record)
                if colleague is None:
                    continue
                if colleague.extension in colleagues:
                    self._deviation(
                        path, f"extension {colleague.extension} listed twice"
                    )
                    continue
                colleagues[colleague.extension] = colleague
            if (
                isinstance(result, list)
                or not records
                or (total is not None and received >= total)
                or (total is None and len(records) < PAGE_SIZE)
            ):
                complete = True
                break
        else:
            _LOGGER.warning(
                "%s: stopped after %d pages (%d users)", path, MAX_PAGES, received
            )
        return Directory(tuple(colleagues.values()), total, complete)

    def _colleague(self, record: object) -> Colleague | None:
        """Return a directory record as a Colleague, or None without an extension."""
        path = ROUTE_COLLEAGUES
        if not isinstance(record, dict):
            self._deviation(path, "a record that is not an object")
            return None
        extension = _text(record.get("extension"), 32)
        if extension is None or not _SEGMENT.fullmatch(extension):
            self._deviation(path, "a record without a usable `extension`")
            return None
        return Colleague(
            extension=extension,
            id=_text(record.get("id")),
            name=_text(record.get("name")),
            login=_text(record.get("login")),
            email=_text(record.get("email")),
            department=_text(record.get("department")),
            role=_text(record.get("role"), 32),
            license_type=_text(record.get("licenseType"), 32),
            office_phone=_text(record.get("officePhone"), 64),
            mobile_phone=_text(record.get("mobilePhone"), 64),
            language=_text(record.get("language"), 32),
        )

    async def async_get_registrations(self) -> dict[str, UserRegistrations]:
        """Return the SIP registrations of every user, in one request, by extension.

        Shape (M: 10x-media, 200 live): `result{"<ext>": {registrations: [{online: "1",
        contact, received, instance, useragent}]}}`. An extension left out has no
        registered device.
        """
        path = ROUTE_REGISTRATIONS
        result = await self._result("GET", path)
        if isinstance(result, list) and not result:
            # PHP encodes an empty associative array as [].
            return {}
        if not isinstance(result, dict):
            raise PbxNotWildixError(f"{path}: result is not an object")
        users: dict[str, UserRegistrations] = {}
        for extension, entry in list(result.items())[:MAX_RECORDS]:
            if not _SEGMENT.fullmatch(extension):
                self._deviation(path, "a key that is not an extension")
                continue
            if isinstance(entry, dict):
                devices = entry.get("registrations")
            else:
                devices = entry
                self._deviation(path, "registrations not wrapped in {registrations}")
            if not isinstance(devices, list):
                self._deviation(path, f"no registrations list for {extension}")
                devices = []
            users[extension] = UserRegistrations(
                extension,
                tuple(
                    self._registration(device)
                    for device in devices[:64]
                    if isinstance(device, dict)
                ),
            )
        return users

    def _registration(self, device: Mapping[str, Any]) -> SipRegistration:
        """Return one registered device."""
        agent = device.get("useragent")
        if agent is None:
            for key in ("userAgent", "user_agent"):
                if key in device:
                    self._deviation(ROUTE_REGISTRATIONS, f"user agent under `{key}`")
                    agent = device[key]
        if "online" not in device:
            # A device listed without the flag is registered.
            self._deviation(ROUTE_REGISTRATIONS, "a device without `online`")
        return SipRegistration(
            online=_flag(device.get("online", True)),
            user_agent=_text(agent),
            contact=_text(device.get("contact")),
            received=_text(device.get("received")),
            instance=_text(device.get("instance")),
        )

    async def async_get_switches(self) -> tuple[DialplanSwitch, ...]:
        """Return the dialplan switches (`result.records` of `{id, title, state}`)."""
        path = ROUTE_SWITCHES
        records, _ = self._records(path, await self._result("GET", path))
        switches: list[DialplanSwitch] = []
        for record in records[:MAX_RECORDS]:
            if not isinstance(record, dict):
                self._deviation(path, "a record that is not an object")
                continue
            switch_id = _text(record.get("id"), 64)
            state = _int(record.get("state"))
            if switch_id is None or not _SEGMENT.fullmatch(switch_id) or state is None:
                self._deviation(path, "a switch without a usable `id` or `state`")
                continue
            switches.append(
                DialplanSwitch(
                    id=switch_id,
                    title=_text(record.get("title")) or switch_id,
                    state=state,
                    is_tree=_flag(record.get("isTreeType")),
                )
            )
        return tuple(switches)

    async def async_set_switch(self, switch_id: str, title: str, state: int) -> None:
        """Set a dialplan switch's state; the PBX wants its `title` sent too.

        `PUT /api/v1/Dialplan/Switches/{id}/` with `title` and integer `state` (M/H:
        canvacanva production, n8n live, which saw "state must be within valid range").
        """
        if isinstance(state, bool) or not isinstance(state, int) or state < 0:
            raise ValueError(f"a switch state is an integer from 0, not {state!r}")
        if not title:
            raise ValueError("a switch needs its title")
        path = ROUTE_SWITCH.format(id=_segment(switch_id, "switch id"))
        await self._result("PUT", path, json={"title": title, "state": state})

    async def async_get_presence(self, extension: str) -> UserPresence:
        """Return a user's presence (`result.show`; empty means available) (M)."""
        path = ROUTE_USER_PRESENCE.format(extension=_segment(extension, "extension"))
        result = await self._result("GET", path)
        if not isinstance(result, dict):
            raise PbxNotWildixError(f"{path}: result is not an object")
        return UserPresence(
            status=_text(result.get("show"), 32) or PresenceStatus.AVAILABLE.value,
            message=_text(result.get("message")),
            until=parse_until(result.get("until")),
        )

    async def async_set_presence(
        self,
        extension: str,
        status: PresenceStatus,
        message: str | None = None,
        until: datetime | None = None,
    ) -> None:
        """Set a user's presence: `PUT /api/v1/User/{ext}/Presence` (admin or API key).

        Body `{status, message, until?}`, `until` as "DD/MM/YYYY HH:mm" in UTC (M:
        canvacanva with admin Basic, n8n 1.1.0). The message is always sent, so that
        a new status does not keep an old message.
        """
        path = ROUTE_USER_PRESENCE.format(extension=_segment(extension, "extension"))
        body: dict[str, str] = {
            "status": PresenceStatus(status).value,
            "message": (message or "")[:MAX_TEXT],
        }
        if until is not None:
            body["until"] = format_until(until)
        await self._result("PUT", path, json=body)

    async def async_set_own_presence(
        self, status: PresenceStatus, message: str | None = None
    ) -> None:
        """Set the token owner's presence: `PUT /api/v1/Personal/Presence` (M: n8n live)."""
        await self._result(
            "PUT",
            ROUTE_OWN_PRESENCE,
            json={
                "status": PresenceStatus(status).value,
                "message": (message or "")[:MAX_TEXT],
            },
        )

    async def async_originate_call(self, number: str, name: str | None = None) -> None:
        """Ring the token owner's phone, then dial `number` (`POST /api/v1/originate/call`).

        Body `{number, name?}`, answer `{type: "result", result: "Success"}` (M/H).
        """
        body = {"number": normalize_number(number)}
        if name:
            body["name"] = name[:MAX_TEXT]
        await self._result("POST", ROUTE_ORIGINATE, json=body)

    async def _call_control(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send a v2 call-control request and return its answer, unwrapped if wrapped.

        v2 actions answer `{message}` (M: n8n, gbcrm) rather than the v1 envelope; both
        are taken. The whole v2 surface is missing (404) on some tenants.
        """
        params = {"user": _segment(user, "extension")} if user is not None else None
        data = await self._request(method, path, params=params, json=json)
        if data.get("type") == "result" and "result" in data:
            return data["result"]
        return data

    async def async_make_call(
        self, extension: str, destination: str, device: str | None = None
    ) -> str | None:
        """Ring `extension`'s phone, then dial `destination` (v2 call control).

        `POST /api/v2/call-control/make-call?user=<ext>` with `{destination, device?}`
        (M: n8n, gbcrm). Only a root admin (or a key with `callcontrol:*`) may act for
        another user. Returns the PBX's message, if any.
        """
        body = {"destination": normalize_number(destination)}
        if device:
            body["device"] = device[:MAX_TEXT]
        answer = await self._call_control(
            "POST", ROUTE_MAKE_CALL, user=extension, json=body
        )
        return _text(answer.get("message")) if isinstance(answer, dict) else None

    async def async_list_calls(self, extension: str) -> tuple[ActiveCall, ...]:
        """Return `extension`'s calls in progress (v2 `list-calls?user=`).

        The wrapper differs by source (research §2.4): n8n reads `result.calls`, others
        top-level `calls`; a bare list is taken too.
        """
        path = ROUTE_LIST_CALLS
        answer = await self._call_control("GET", path, user=extension)
        if isinstance(answer, dict) and isinstance(answer.get("calls"), list):
            calls: list[Any] = answer["calls"]
        elif isinstance(answer, list):
            self._deviation(path, "a bare list of calls")
            calls = answer
        else:
            raise PbxNotWildixError(f"{path}: no `calls` list in the answer")
        found: list[ActiveCall] = []
        for call in calls[:64]:
            sip_call_id = (
                _text(call.get("sipCallId"), 512) if isinstance(call, dict) else None
            )
            if not isinstance(call, dict) or sip_call_id is None:
                self._deviation(path, "a call without `sipCallId`")
                continue
            found.append(
                ActiveCall(
                    sip_call_id=sip_call_id,
                    state=_text(call.get("state"), 32),
                    caller_number=_text(call.get("callerNumber"), 64),
                    caller_name=_text(call.get("callerName")),
                    callee_number=_text(call.get("calleeNumber"), 64),
                    callee_name=_text(call.get("calleeName")),
                    duration=_int(call.get("duration")),
                )
            )
        return tuple(found)

    async def async_hang_up(
        self,
        sip_call_id: str,
        *,
        extension: str | None = None,
        reason: str | None = None,
    ) -> None:
        """End one call: `POST /api/v2/call-control/hangup {sipCallId, reason?}` (M).

        `extension` adds `?user=` as make-call does, for a credential acting for
        another user (L: only seen on make-call and list-calls).
        """
        if not isinstance(sip_call_id, str) or not 0 < len(sip_call_id) <= 512:
            raise ValueError("a call needs its sipCallId")
        body = {"sipCallId": sip_call_id}
        if reason:
            body["reason"] = reason[:MAX_TEXT]
        await self._call_control("POST", ROUTE_HANGUP, user=extension, json=body)

    async def async_hang_up_user(self, extension: str) -> int:
        """End every call of `extension`; return how many were ended."""
        calls = await self.async_list_calls(extension)
        for call in calls:
            await self.async_hang_up(call.sip_call_id, extension=extension)
        return len(calls)
