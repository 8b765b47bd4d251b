"""Wildix PBX REST API: the transport every resource module builds on.

This module knows the PBX's REST API and nothing of Home Assistant. It is handed an
aiohttp session (Home Assistant's shared one in the integration) and a Bearer token
(a Wildix "Simple token" or a Company API key `wsk-v1-...`). It owns the auth header,
the envelope, paging, error mapping and the tolerant field readers; the routes live in
one module per resource (`pbx_info`, `pbx_directory`, `pbx_registrations`,
`pbx_presence`, `pbx_switches`, `pbx_calls`, ...), each a subclass of `PbxTransport`,
and `pbx_client.PbxClient` combines them. Which features a credential may use is
declared in `pbx_capabilities`.

The official OpenAPI reference could not be read, so every shape names the source it
comes from and its confidence (H official or two clients plus a live test, M one
live-tested client, L one untested source), as compiled in the project's research notes
on the PBX API. Parsing is tolerant where sources disagree: what the code had to work
around is reported through `on_deviation` so that a live check can print it, and bad
values are dropped instead of failing the whole answer.

Adding a resource (e.g. `pbx_voicemail.py`):

    ROUTE_VOICEMAILS = "/api/v1/..."  # source and confidence

    class PbxVoicemail(PbxTransport):
        async def async_get_voicemails(self, extension: str) -> tuple[Voicemail, ...]:
            path = ROUTE_VOICEMAILS.format(extension=path_segment(extension, "extension"))
            # GET with query parameters; returns the envelope's `result`:
            result = await self._result("GET", path, params={"user": extension})
            # a list answer's records and total (`result.records`, `result.total`):
            records, total = self._records(path, result)
            # or every page of a `count`/`start` paged list:
            async for page in self._pages(path, params={"filter": "x"}):
                ...  # page.records, page.total, page.last
            ...

then add the class to `PbxClient`'s bases and declare its feature in
`pbx_capabilities.FEATURES` (one line: key, what it needs, the probe to call).

- `_result(method, path, params=, json=)` sends one request and returns the v1
  envelope's `result`; `_request(...)` returns the whole JSON object (v2 answers have
  no envelope). Read fields with `text_field`, `int_field`, `flag_field`; put values
  into a path only through `path_segment`.
- `_pages(path, params=, page_size=, max_pages=)` yields `Page(records, total, last)`
  until a short page, `total` reached, an empty page or a bare list (then `last` is
  True); after `max_pages` it logs a warning and stops (the last page's `last` False).
- `_deviation(path, what)` reports a shape that was worked around.
- Errors, all `PbxError`: `PbxAuthError` (401/403; `.status` tells which: 401 is the
  token, 403 the rights for this route), `PbxRouteMissingError` (404: the route does
  not exist for this PBX/credential), `PbxRefusedError` (the error envelope, or a 4xx
  with `{message}`), `PbxConnectionError` (no answer, TLS, DNS, 5xx),
  `PbxNotWildixError` (an answer we cannot read: not JSON, no envelope, redirect,
  too large; resource modules raise it for a `result` of the wrong shape).
"""

from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
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
# The longest wait a PBX's `Retry-After` may ask for, in seconds.
MAX_RETRY_AFTER = 3600.0
# Statuses that mean "busy, ask again later" (with `Retry-After`, when it says when).
_BUSY = frozenset({429, 503})
# What a PBX's error text may carry that the debug log must not: tokens, keys.
_SECRETS = re.compile(r"(access_|wsk-v1-|Bearer\s+)[\x21-\x7e]+", re.IGNORECASE)

SEGMENT = re.compile(r"[0-9A-Za-z_.@+-]{1,64}")
_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")
_TRUE = frozenset({"1", "true", "yes", "on", "online"})


class PbxError(Exception):
    """The PBX API could not do what was asked.

    `status` is the HTTP status the PBX answered (None without an answer). The PBX's
    own error text is never part of the message: it went to the debug log, redacted.
    """

    status: int | None = None


class PbxAuthError(PbxError):
    """The PBX refused the credential (401) or its rights (403)."""

    def __init__(self, status: int, reason: str) -> None:
        """Keep the HTTP status and the PBX's reason."""
        super().__init__(f"HTTP {status}")
        self.status = status
        self.reason = reason


class PbxConnectionError(PbxError):
    """The PBX could not be reached: timeout, TLS, DNS, refused connection or 5xx."""


class PbxBusyError(PbxConnectionError):
    """The PBX answered 429 or 503: ask again later, after `retry_after` s if it said."""

    def __init__(self, path: str, status: int, retry_after: float | None) -> None:
        """Keep the status and how long the PBX asked to wait."""
        super().__init__(f"{path}: HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class PbxNotWildixError(PbxError):
    """Something answered, but not with the Wildix API's envelope."""


class PbxRouteMissingError(PbxError):
    """The route answered 404: this PBX (build, tenant or credential) lacks the feature."""

    def __init__(self, path: str, reason: str) -> None:
        """Keep the route and the PBX's reason."""
        super().__init__(f"{path}: HTTP 404")
        self.status = 404
        self.path = path
        self.reason = reason


class PbxRefusedError(PbxError):
    """The PBX answered `{type: "error", reason, code}`: it refused the request."""

    def __init__(
        self, reason: str, code: int | None, status: int | None = None
    ) -> None:
        """Keep the PBX's reason and code, and the HTTP status."""
        super().__init__(f"HTTP {status}" + ("" if code is None else f" (code {code})"))
        self.reason = reason
        self.code = code
        self.status = status


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paged list answer."""

    records: list[Any]
    # The PBX's `total`, or None when this page gave none.
    total: int | None
    # True on the page that ends the list (nothing more to fetch).
    last: bool


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


def text_field(value: object, limit: int = MAX_TEXT) -> str | None:
    """Return a string field cut at `limit`; numbers become text; anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:limit] if value else None


def int_field(value: object) -> int | None:
    """Return an integer field given as a number or as digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,18}", value.strip()):
        return int(value)
    return None


def flag_field(value: object) -> bool:
    """Return a boolean field given as true/1/"1"/"true" (the PBX sends `online: "1"`)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in _TRUE


def path_segment(value: str, what: str) -> str:
    """Return a value that goes into a route's path, or raise ValueError."""
    if not isinstance(value, str) or not SEGMENT.fullmatch(value):
        raise ValueError(f"not a valid {what}: {value!r}")
    return quote(value, safe="")


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Return the wait a `Retry-After` header asks for (seconds or a date), capped."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,10}", value):
        seconds = float(value)
    else:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def redact(text: str, token: str = "") -> str:
    """Return a PBX's error text fit for the debug log: no token, no key, short."""
    if token:
        text = text.replace(token, "***")
    return repr(_SECRETS.sub(r"\1***", text)[:200])


def _reason(body: Mapping[str, Any], default: str) -> str:
    """Return the reason of an error answer (`reason`; v2 and OAuth use other keys)."""
    for key in ("reason", "message", "error_description", "error"):
        if reason := text_field(body.get(key), 500):
            return reason
    return default


def _with_status[ErrorT: PbxError](err: ErrorT, status: int) -> ErrorT:
    """Return an error that carries the HTTP status the PBX answered."""
    err.status = status
    return err


async def _read_body(response: aiohttp.ClientResponse) -> bytes:
    """Read an answer's body, refusing more than MAX_BODY bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(65536):
        size += len(chunk)
        if size > MAX_BODY:
            raise PbxNotWildixError(f"answer larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_answer(path: str, status: int, body: bytes, *, write: bool) -> Any:
    """Turn an answer into its JSON or the PbxError it stands for.

    A `write` succeeds on any 2xx answer without the error envelope (an empty body,
    `"Success"`, `{}`: clients saw each); it then returns `{}` for a body that is not
    an object. The PBX's own text stays out of every error's message.
    """
    try:
        data: Any = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError:
        data = None
        is_json = False
    else:
        is_json = data is not None
    error = data if isinstance(data, dict) and data.get("type") == "error" else None
    if status in (401, 403):
        reason = _reason(error or {}, "unauthorized" if status == 401 else "forbidden")
        raise PbxAuthError(status, reason)
    if status == 404:
        raise PbxRouteMissingError(path, _reason(error or {}, "404 Not Found"))
    if 300 <= status < 400:
        raise _with_status(
            PbxNotWildixError(f"{path}: HTTP {status} redirects elsewhere"), status
        )
    if status >= 500:
        raise _with_status(PbxConnectionError(f"{path}: HTTP {status}"), status)
    if error is not None:
        # The documented error shape (10x-media, H-ish): {type, reason, code}.
        raise PbxRefusedError(
            _reason(error, "refused"), int_field(error.get("code")), status
        )
    if write and 200 <= status < 300:
        return data if isinstance(data, dict) else {}
    if not is_json or not isinstance(data, dict):
        raise _with_status(
            PbxNotWildixError(f"{path}: HTTP {status}, not a JSON object"), status
        )
    if status >= 400:
        # A refusal without the error envelope: v2 answers `{message}` (M: n8n).
        if "message" in data or "reason" in data:
            raise PbxRefusedError(_reason(data, "refused"), status, status)
        raise _with_status(
            PbxNotWildixError(f"{path}: HTTP {status} without Wildix's envelope"),
            status,
        )
    return data


class PbxTransport:
    """One PBX's REST API, reached with one Bearer token: the base of every resource."""

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
        self._token = token
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
        write: bool = False,
    ) -> Any:
        """Send one request; return the answer's JSON or raise a PbxError.

        A `write` succeeds on any 2xx answer without the error envelope (an empty
        body, `"Success"`, `{}`: clients saw each); it then returns `{}` for a body
        that is not an object.
        """
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
                body = await _read_body(response)
                retry_after = response.headers.get("Retry-After")
        except TimeoutError as err:
            raise PbxConnectionError(f"{path}: no answer in time") from err
        except (aiohttp.ClientSSLError, ssl.SSLError) as err:
            raise PbxConnectionError(f"{path}: TLS failed: {err}") from err
        except aiohttp.ClientError as err:
            raise PbxConnectionError(f"{path}: {err}") from err
        try:
            if status in _BUSY:
                raise PbxBusyError(path, status, retry_after_seconds(retry_after))
            return decode_answer(path, status, body, write=write)
        except PbxError:
            self._debug_reason(path, status, body)
            raise

    def _debug_reason(self, path: str, status: int, body: bytes) -> None:
        """Log what the PBX said of a failure, redacted, at debug level only."""
        if _LOGGER.isEnabledFor(logging.DEBUG):
            text = body[:1000].decode("utf-8", "replace")
            _LOGGER.debug("%s: HTTP %s: %s", path, status, redact(text, self._token))

    async def _write(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send a write; return its answer (`result` when wrapped), or raise.

        Any 2xx without the error envelope is success: the PBX answers writes with
        the envelope and `"Success"` (M/H), `{message}` (v2, M), `{}` or nothing.
        """
        data = await self._request(method, path, params=params, json=json, write=True)
        if data.get("type") == "result" and "result" in data:
            return data["result"]
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
        total = int_field(result.get("total"))
        if total is None:
            self._deviation(path, "`total` missing or not a number")
        elif not isinstance(result.get("total"), int):
            self._deviation(path, "`total` is text, not a number")
        return result["records"], total

    async def _pages(
        self,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        page_size: int | None = None,
        max_pages: int | None = None,
    ) -> AsyncGenerator[Page]:
        """Yield every page of a list paged with `count` and `start` (H: n8n, 10x-media).

        The next page starts after the records received, so a PBX that caps `count`
        below the page size still works. A bare list answer is one whole page.
        """
        size = PAGE_SIZE if page_size is None else page_size
        pages = MAX_PAGES if max_pages is None else max_pages
        total: int | None = None
        received = 0
        for _ in range(pages):
            result = await self._result(
                "GET", path, params={**(params or {}), "count": size, "start": received}
            )
            records, page_total = self._records(path, result)
            total = page_total if page_total is not None else total
            received += len(records)
            last = (
                isinstance(result, list)
                or not records
                or (total is not None and received >= total)
                or (total is None and len(records) < size)
            )
            yield Page(records, total, last)
            if last:
                return
        _LOGGER.warning(
            "%s: stopped after %d pages (%d records)", path, pages, received
        )
