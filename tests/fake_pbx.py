"""A fake Wildix PBX REST API on loopback: the documented subset, with state that changes.

For the tests, the simulator and the demo. Start it with `async with FakePbx() as pbx:`
(or `await pbx.start()` / `await pbx.stop()`); `pbx.url` is its base URL on 127.0.0.1
with an ephemeral port, `pbx.token` the Bearer token it accepts.

Where each shape comes from (see the research notes on the PBX API; H official or two
clients plus a live test, M one live-tested client, L one untested source; "assumed"
where no source shows it):
- envelope `{type: "result", result}`; lists as `result.records` + `result.total`,
  paged with `count` and `start` (H: s2s-client-php README, 10x-media, n8n);
- errors `{type: "error", reason, code}` with the matching HTTP status (10x-media, M);
  a missing route is `reason: "404 Not Found"` (10x-media, M);
- Bearer check: 401 on a missing or wrong token (assumed body);
- paths: mixed case and a trailing slash appear across working clients (research §3),
  so routes match without regard to either.

Profiles (`FakePbx(profile=...)`), one per kind of credential (PBX-API.md §1):
- `admin`: an admin's Simple token (`access_…`, M): every route, for every user.
- `user`: a user's Simple token: the user-level routes only (`/api/v1/Colleagues/`, M:
  canvacanva), its own presence and calls; the admin routes (`/api/v1/PBX/…`,
  `/api/v1/Dialplan/…`) answer 403 and acting for another user 403 ("only a root
  admin may act for another user", PBX-API.md §2.4, M). Which status a real PBX
  gives a user on an admin route is assumed.
- `company_key`: a Company API key (`wsk-v1-` + 93 characters, H) with `scopes`:
  GET needs `{scope}:read` or `{scope}:*`, other methods `{scope}:*`; `pbx:read` /
  `pbx:*` cover everything (H: API-key guide). Scopes by route: `callcontrol` for
  v2 call control and `colleagues` for the directory (H); `dialplan`, `presence`,
  `originate` assumed (the guide's map was not readable); routes without a known
  scope (registrations, version, ping) need `pbx:read`. A missing scope answers
  `scope_refusal` (403 by default; a live probe saw 401 for keys before WMS 7.09).
- `legacy`: an admin's token on an older PBX: ids and totals as strings (the CDR
  manual's example, PBX-API-HISTORY.md §2, H for CDR, assumed for colleagues) and no
  v2 call control (the whole `/api/v2` surface 404, PBX-API.md §2.4 caveat 1, M).
`version_shape` picks the version route's answer (its shape is unknown, L): `object`
(`{version}`), `string`, `build` (`{build}`), `null`, `html`.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
import json
import re
import ssl
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import web

from .fake_inbox import FakeInbox

TOKEN = "access_fakepbx0123456789abcdef"
# A Company API key is `wsk-v1-` and 93 characters (H: API-key guide).
COMPANY_KEY = "wsk-v1-" + "k" * 93
PROFILES = ("admin", "user", "company_key", "legacy")
# The scope of a route for Company API keys, by path prefix (see the docstring).
SCOPES = (
    ("/api/v1/pbx/colleagues", "colleagues"),
    ("/api/v1/colleagues", "colleagues"),
    ("/api/v1/dialplan", "dialplan"),
    ("/api/v1/user/", "presence"),
    ("/api/v1/personal/presence", "presence"),
    ("/api/v1/originate", "originate"),
    ("/api/v2/call-control", "callcontrol"),
    # Reported for contacts (PBX-API-HISTORY.md §4, L); the history has no own scope.
    ("/api/v1/contacts", "phonebooks"),
)
# Routes a user's token may not use (assumed: the admin views, and the voicemail
# list, seen only with an admin's token, PBX-API-HISTORY.md §2).
ADMIN_ROUTES = ("/api/v1/pbx/", "/api/v1/dialplan", "/api/v1/voicemail")
# The PBX's format of a presence's end, in UTC (M: canvacanva, n8n 1.1.0).
UNTIL_FORMAT = "%d/%m/%Y %H:%M"
PRESENCE_STATUSES = frozenset({"available", "away", "dnd", "mur"})
# A real PBX's page cap is unknown: this one caps pages at 50 and defaults to 25
# (assumed), so that clients must follow `total` rather than trust `count`.
MAX_PAGE = 50
DEFAULT_PAGE = 25

type Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.Response]]


@dataclass
class FakeSwitch:
    """A dialplan switch; `states` is how many states it has (2 unless a tree)."""

    id: int
    title: str
    state: int = 0
    states: int = 2

    @property
    def record(self) -> dict[str, Any]:
        """Return the switch as `GET /api/v1/Dialplan/Switches` lists it (M/H)."""
        return {
            "id": self.id,
            "title": self.title,
            "state": self.state,
            "isTreeType": self.states > 2,
        }


@dataclass
class FakeCall:
    """A call in progress as v2 `list-calls` reports it (M: n8n, gbcrm)."""

    sip_call_id: str
    caller_number: str
    callee_number: str
    state: str = "ringing"

    @property
    def record(self) -> dict[str, Any]:
        """Return the call as v2 `list-calls` lists it."""
        return {
            "sipCallId": self.sip_call_id,
            "callerNumber": self.caller_number,
            "callerName": "",
            "calleeNumber": self.callee_number,
            "calleeName": "",
            "state": self.state,
            "duration": 0,
        }


@dataclass
class FakeUser:
    """A PBX user; `record` is its directory entry."""

    extension: str
    name: str
    id: int
    email: str = ""
    department: str = ""
    role: str = "user"
    license_type: str = "business"
    # SIP devices: user agent -> online.
    devices: dict[str, bool] = field(default_factory=dict)
    presence: str = ""
    message: str = ""
    until: str = ""

    @property
    def record(self) -> dict[str, Any]:
        """Return the colleague record (fields: TristanStark WildixUser.php; values: n8n)."""
        return {
            "id": self.id,
            "dn": f"uid={self.id},ou=users",
            "name": self.name,
            "login": self.extension,
            "extension": self.extension,
            "officePhone": "",
            "mobilePhone": "",
            "email": self.email,
            "role": self.role,
            "department": self.department,
            "language": "en",
            "licenseType": self.license_type,
            "jid": f"{self.extension}@pbx.example.invalid",
        }


def _users() -> dict[str, FakeUser]:
    """Return the four users of the demo office."""
    users = (
        FakeUser("201", "Alice Martin", 11, "alice@example.invalid", "Sales", "admin"),
        FakeUser("202", "Bruno Keller", 12, "bruno@example.invalid", "Sales"),
        FakeUser("203", "Chiara Rossi", 13, "chiara@example.invalid", "Support"),
        FakeUser("204", "Reception", 14, "", "Front desk", license_type="basic"),
    )
    for user in users[:3]:
        user.devices["Wildix WP480G 3.10.2"] = True
    return {user.extension: user for user in users}


def _switches() -> dict[int, FakeSwitch]:
    """Return a day/night switch and a three-state tree switch."""
    return {
        1: FakeSwitch(1, "NightService"),
        2: FakeSwitch(2, "OfficeMode", states=3),
    }


def _error(status: int, reason: str) -> web.Response:
    """Return the documented error answer `{type: "error", reason, code}`."""
    return web.json_response(
        {"type": "error", "reason": reason, "code": status}, status=status
    )


def _result(result: Any) -> web.Response:
    """Return the documented envelope `{type: "result", result}`."""
    return web.json_response({"type": "result", "result": result})


def _normal(path: str) -> str:
    """Return a path lower-cased and without its trailing slash."""
    return path.rstrip("/").lower() or "/"


class FakePbx:
    """The fake PBX: its state, its switches for failures, and its HTTP server.

    State (mutate freely, also while it runs): `users` (extension -> FakeUser; its
    `devices` are the SIP registrations), `switches` (id -> FakeSwitch), `calls`
    (extension -> FakeCall list), `version`, `token`, `own_extension` (whom the token
    acts as), `admin` (whether it may act for other users). Failures, each by path
    prefix (any case, with or without trailing slash): `missing` (404 route missing),
    `failing` (prefix -> HTTP status, answered with the error envelope), `slow` (the
    answer waits until the server stops), `raw` (prefix -> (status, body, content type)
    sent as is). `requests` logs what was asked: (method, path, query, body).
    `presence_changed` is called with each user whose presence a request changed, as
    a real PBX then sends a `presence:user` event (the demo forwards it to its webhook).
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        profile: str = "admin",
        scopes: frozenset[str] = frozenset(),
    ) -> None:
        """Prepare the demo office; call start() (or use `async with`) to serve it."""
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}")
        self.profile = profile
        self.scopes = set(scopes)
        self.scope_refusal = 403
        self.token = token or (COMPANY_KEY if profile == "company_key" else TOKEN)
        self.own_extension = "201"
        # Whether it may act for other users (a key: as far as its scopes go).
        self.admin = profile != "user"
        self.version = "7.09.20260515.1"
        self.version_shape = "object"
        self.users = _users()
        self.switches = _switches()
        self.calls: dict[str, list[FakeCall]] = {}
        self.missing: set[str] = set()
        self.failing: dict[str, int] = {}
        self.slow: set[str] = set()
        self.raw: dict[str, tuple[int, bytes, str]] = {}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.presence_changed: Callable[[FakeUser], None] | None = None
        # Voicemail and recordings, with their open questions as knobs (fake_inbox.py).
        self.inbox = FakeInbox()
        # Call history rows and phonebook contacts as PBX-API-HISTORY.md §1.3 and §4
        # show them: every value a string, PBX-local times with a separate offset.
        # Knobs: `history_page` (the most rows one page holds; the manual's default
        # count is 100), `history_filters` (whether the PBX applies filter[start]),
        # `total_as_number` (the Phonebooks example's numeric total).
        self.history: list[dict[str, str]] = []
        self.contacts: list[dict[str, str]] = []
        self.history_page = 100
        self.history_filters = True
        self.total_as_number = False
        self._next_id = 100
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""
        # Hostile answers (knobs for what the sources leave open, or a PBX gone odd):
        # `numbers_as_text`: every number in a read's answer sent as text (ids, totals,
        # states: the manual's CDR example, L for other routes); `write_reply`: what a
        # write that succeeded answers instead of the envelope, (status, body);
        # `exact_missing`: exact paths (case and trailing slash count) that answer 404;
        # `ignore_start`: the directory always answers its first page; `total_extra`:
        # added to the directory's `total`; `throttle`: prefix -> (status, Retry-After
        # or None); `held`: prefix -> an event a read's answer, made at once, waits for
        # before it is sent (`arrived` logs the paths held).
        self.numbers_as_text = False
        self.write_reply: tuple[int, bytes] | None = None
        self.exact_missing: set[str] = set()
        self.ignore_start = False
        self.total_extra = 0
        self.throttle: dict[str, tuple[int, str | None]] = {}
        self.held: dict[str, asyncio.Event] = {}
        self.arrived: list[str] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/api/v1/personal/info"), self._personal_info),
            ("GET", re.compile(r"/api/v1/pbx/version"), self._version),
            ("GET", re.compile(r"/api/v1/pbx/ping"), self._ping),
            ("GET", re.compile(r"/api/v1/pbx/colleagues"), self._colleagues),
            ("GET", re.compile(r"/api/v1/colleagues"), self._colleagues),
            (
                "GET",
                re.compile(r"/api/v1/pbx/users/sip/registrations"),
                self._registrations,
            ),
            ("GET", re.compile(r"/api/v1/dialplan/switches"), self._switches),
            (
                "PUT",
                re.compile(r"/api/v1/dialplan/switches/(?P<id>[^/]+)"),
                self._set_switch,
            ),
            (
                "GET",
                re.compile(r"/api/v1/user/(?P<ext>[^/]+)/presence"),
                self._presence,
            ),
            (
                "PUT",
                re.compile(r"/api/v1/user/(?P<ext>[^/]+)/presence"),
                self._set_presence,
            ),
            ("PUT", re.compile(r"/api/v1/personal/presence"), self._set_own_presence),
            ("POST", re.compile(r"/api/v1/originate/call"), self._originate),
            ("POST", re.compile(r"/api/v2/call-control/make-call"), self._make_call),
            ("GET", re.compile(r"/api/v2/call-control/list-calls"), self._list_calls),
            ("POST", re.compile(r"/api/v2/call-control/hangup"), self._hangup),
            *(
                (method, re.compile(pattern), handler)
                for method, pattern, handler in self.inbox.routes()
            ),
            ("GET", re.compile(r"/api/v1/pbx/callhistory"), self._call_history),
            (
                "GET",
                re.compile(r"/api/v1/user/(?P<ext>[^/]+)/callhistory"),
                self._user_call_history,
            ),
            ("GET", re.compile(r"/api/v1/contacts"), self._contacts),
        ]

    # State changes, for tests that play an office.

    def add_user(self, extension: str, name: str, **fields: Any) -> FakeUser:
        """Add a user to the directory and return it."""
        self._next_id += 1
        user = FakeUser(extension, name, self._next_id, **fields)
        self.users[extension] = user
        return user

    def remove_user(self, extension: str) -> None:
        """Remove a user from the directory."""
        del self.users[extension]
        self.calls.pop(extension, None)

    def register(self, extension: str, agent: str = "Wildix WP480G 3.10.2") -> None:
        """Register a SIP device of a user."""
        self.users[extension].devices[agent] = True

    def unregister(self, extension: str, agent: str | None = None) -> None:
        """Unregister one device of a user, or all of them."""
        devices = self.users[extension].devices
        if agent is None:
            devices.clear()
        else:
            devices.pop(agent, None)

    def add_switch(self, title: str, state: int = 0, states: int = 2) -> FakeSwitch:
        """Add a dialplan switch and return it."""
        self._next_id += 1
        switch = FakeSwitch(self._next_id, title, state, states)
        self.switches[switch.id] = switch
        return switch

    def heal(self) -> None:
        """Answer every route normally again."""
        self.missing.clear()
        self.failing.clear()
        self.slow.clear()
        self.raw.clear()
        self.throttle.clear()
        self.exact_missing.clear()

    # The server.

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> None:
        """Serve on 127.0.0.1 with an ephemeral port (https with `ssl_context`)."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
        self.inbox.url = self.url

    async def stop(self) -> None:
        """Let slow answers go, then stop serving."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start serving."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop serving."""
        await self.stop()

    def _matches(self, prefixes: set[str] | dict[str, Any], path: str) -> str | None:
        """Return the first prefix that `path` starts with, if any."""
        for prefix in prefixes:
            if path.startswith(_normal(prefix)):
                return prefix
        return None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        """Check the failure switches and the token, then route the request."""
        path = _normal(request.path)
        body = request["body"] = await self._body(request)
        self.requests.append((request.method, request.path, dict(request.query), body))
        if (prefix := self._matches(self.raw, path)) is not None:
            status, raw, content_type = self.raw[prefix]
            return web.Response(status=status, body=raw, content_type=content_type)
        if self._matches(self.slow, path) is not None:
            await self._release.wait()
        if (hostile := await self._hostile(request, path)) is not None:
            return hostile
        if (prefix := self._matches(self.failing, path)) is not None:
            status = self.failing[prefix]
            return _error(status, HTTPStatus(status).phrase)
        if self._matches(self.missing, path) is not None:
            return _error(404, "404 Not Found")
        authorized = request.headers.get("Authorization") == f"Bearer {self.token}"
        if (file := await self.inbox.serve_file(request, authorized)) is not None:
            return file
        if not authorized:
            return _error(401, "Unauthorized")
        if (refusal := self._refusal(request.method, path)) is not None:
            return refusal
        for method, pattern, handler in self._routes:
            if match := pattern.fullmatch(path):
                if request.method != method:
                    continue
                response = await handler(request, match.groupdict())
                await self._hold(request, path)
                return self._reshaped(request, response)
        return _error(404, "404 Not Found")

    async def _hostile(self, request: web.Request, path: str) -> web.Response | None:
        """Answer as the hostile knobs say, or return None to answer normally."""
        if (prefix := self._matches(self.throttle, path)) is not None:
            status, retry_after = self.throttle[prefix]
            response = _error(status, HTTPStatus(status).phrase)
            if retry_after is not None:
                response.headers["Retry-After"] = retry_after
            return response
        if request.path in self.exact_missing:
            return _error(404, "404 Not Found")
        return None

    async def _hold(self, request: web.Request, path: str) -> None:
        """Hold a read's answer, already made, while `held` says so."""
        if request.method == "GET" and self._matches(self.held, path) is not None:
            self.arrived.append(request.path)
            await self.held[self._matches(self.held, path) or ""].wait()

    def _reshaped(self, request: web.Request, response: web.Response) -> web.Response:
        """Apply `write_reply` and `numbers_as_text` to a handler's answer."""
        if request.method != "GET":
            if self.write_reply is not None and response.status < 300:
                status, body = self.write_reply
                return web.Response(
                    status=status, body=body, content_type="application/json"
                )
            return response
        if self.numbers_as_text and response.status < 300 and response.body:
            assert isinstance(response.body, bytes)
            return web.json_response(_as_text(json.loads(response.body)))
        return response

    @staticmethod
    async def _body(request: web.Request) -> Any:
        """Return a write's body: JSON, or a form (canvacanva sends `title=…&state=1`)."""
        if not request.can_read_body:
            return None
        text = await request.text()
        if request.content_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(text))
        try:
            return json.loads(text)
        except ValueError:
            return text

    def _refusal(self, method: str, path: str) -> web.Response | None:
        """Return the refusal of a route the profile's credential may not use."""
        if self.profile == "legacy" and path.startswith("/api/v2"):
            return _error(404, "404 Not Found")
        if self.profile == "user" and path.startswith(ADMIN_ROUTES):
            return _error(403, "Forbidden")
        if self.profile != "company_key" or path == "/api/v1/personal/info":
            return None
        scope = next((s for prefix, s in SCOPES if path.startswith(prefix)), None)
        write = method not in ("GET", "HEAD")
        granted = {"pbx:*"} if write else {"pbx:*", "pbx:read"}
        if scope is not None:
            granted |= {f"{scope}:*"} if write else {f"{scope}:*", f"{scope}:read"}
        if granted & self.scopes:
            return None
        status = self.scope_refusal
        return _error(status, HTTPStatus(status).phrase)

    def _may_act_for(self, extension: str) -> bool:
        """Return whether the token may act for `extension` (root admin only, M)."""
        return self.admin or extension == self.own_extension

    # Reads.

    async def _personal_info(
        self, request: web.Request, _: dict[str, str]
    ) -> web.Response:
        """`GET /api/v1/personal/info`: `{id, extension, login, email, name}` (H)."""
        user = self.users[self.own_extension]
        record = user.record
        return _result(
            {key: record[key] for key in ("id", "extension", "login", "email", "name")}
        )

    async def _version(self, request: web.Request, _: dict[str, str]) -> web.Response:
        """`GET /api/v1/PBX/version` (M route; answer shape unknown: `version_shape`)."""
        shape = self.version_shape
        if shape == "html":
            return web.Response(body=b"<html>Wildix</html>", content_type="text/html")
        return _result(
            {
                "object": {"version": self.version},
                "string": self.version,
                "build": {"build": self.version},
                "null": None,
            }[shape]
        )

    async def _ping(self, request: web.Request, _: dict[str, str]) -> web.Response:
        """`GET /api/v1/PBX/ping` (M route; answer shape assumed)."""
        return _result("pong")

    async def _colleagues(
        self, request: web.Request, _: dict[str, str]
    ) -> web.Response:
        """`GET /api/v1/PBX/Colleagues`: paged `{records, total}` (H)."""
        try:
            count = int(request.query.get("count", DEFAULT_PAGE))
            start = int(request.query.get("start", 0))
        except ValueError:
            return _error(400, "count and start must be integers")
        if count < 0 or start < 0:
            return _error(400, "count and start must not be negative")
        records = [user.record for user in self.users.values()]
        start = 0 if self.ignore_start else start
        page = records[start : start + min(count, MAX_PAGE)]
        total = len(records) + self.total_extra
        if self.profile == "legacy":
            page = [record | {"id": str(record["id"])} for record in page]
            return _result({"records": page, "total": str(total)})
        return _result({"records": page, "total": total})

    def _paged(self, request: web.Request, records: list[Any]) -> web.Response:
        """Answer one page of `records` as `{records, total}`, total a string (§1.3)."""
        try:
            count = int(request.query.get("count", DEFAULT_PAGE))
            start = int(request.query.get("start", 0))
        except ValueError:
            return _error(400, "count and start must be integers")
        page = records[start : start + min(count, self.history_page)]
        total = len(records) if self.total_as_number else str(len(records))
        return _result({"records": page, "total": total})

    async def _call_history(
        self, request: web.Request, _: dict[str, str]
    ) -> web.Response:
        """`GET /api/v1/PBX/CallHistory/`: CDR rows, filtered on local `start` (§1.2)."""
        rows = self.history
        return self._paged(request, self._filtered(request, rows))

    def _filtered(
        self, request: web.Request, rows: list[dict[str, str]]
    ) -> list[dict[str, str]]:
        """Return the rows whose local `start` is in the query's filter, if applied."""
        since = request.query.get("filter[start][from]")
        until = request.query.get("filter[start][to]")
        if not self.history_filters:
            return rows
        return [
            row
            for row in rows
            if (since is None or row["start"] >= since)
            and (until is None or row["start"] <= until)
        ]

    async def _user_call_history(
        self, request: web.Request, match: dict[str, str]
    ) -> web.Response:
        """`GET /api/v1/User/{ext}/CallHistory/`: that user's CDR rows (§1.1, M).

        Same shape and filter as the PBX's history. Assumed (§6 item 6, open): a
        user's token reads its own user's history and gets 403 for another's.
        """
        extension = match["ext"]
        if not self._may_act_for(extension):
            return _error(403, "Forbidden")
        rows = [
            row
            for row in self.history
            if extension in (row.get("from_number"), row.get("to_number"))
            or row.get("channel", "").startswith(f"SIP/{extension}-")
        ]
        return self._paged(request, self._filtered(request, rows))

    async def _contacts(self, request: web.Request, _: dict[str, str]) -> web.Response:
        """`GET /api/v1/Contacts/`: every phonebook's contacts, values strings (§4)."""
        return self._paged(request, self.contacts)

    async def _registrations(
        self, request: web.Request, _: dict[str, str]
    ) -> web.Response:
        """`GET /api/v1/PBX/Users/Sip/Registrations` (M: 10x-media).

        Every user is listed, with an empty list when nothing is registered (assumed).
        """
        return _result(
            {
                user.extension: {
                    "registrations": [
                        {
                            "online": "1" if online else "0",
                            "contact": f"sip:{user.extension}@192.0.2.{user.id}:5060",
                            "received": f"192.0.2.{user.id}:5060",
                            "instance": f"<urn:uuid:fake-{user.extension}-{n}>",
                            "useragent": agent,
                        }
                        for n, (agent, online) in enumerate(user.devices.items())
                    ]
                }
                for user in self.users.values()
            }
        )

    async def _switches(self, request: web.Request, _: dict[str, str]) -> web.Response:
        """`GET /api/v1/Dialplan/Switches`: `records` of `{id, title, state, …}` (M/H)."""
        records = [switch.record for switch in self.switches.values()]
        if self.profile == "legacy":
            records = [record | {"id": str(record["id"])} for record in records]
            return _result({"records": records, "total": str(len(records))})
        return _result({"records": records, "total": len(records)})

    async def _presence(
        self, request: web.Request, match: dict[str, str]
    ) -> web.Response:
        """`GET /api/v1/User/{ext}/Presence`: `result.show`, empty when available (M)."""
        if (user := self.users.get(match["ext"])) is None:
            return _error(404, "User not found")
        return _result(
            {"show": user.presence, "message": user.message, "until": user.until}
        )

    async def _list_calls(
        self, request: web.Request, _: dict[str, str]
    ) -> web.Response:
        """v2 `GET list-calls?user=`: `result.calls` as n8n reads it (M)."""
        extension = request.query.get("user", self.own_extension)
        if not self._may_act_for(extension):
            return _error(403, "Forbidden")
        calls = [call.record for call in self.calls.get(extension, [])]
        return _result({"calls": calls})

    # Writes, checked the way the research says the PBX checks them.

    async def _set_switch(
        self, request: web.Request, match: dict[str, str]
    ) -> web.Response:
        """`PUT /api/v1/Dialplan/Switches/{id}/` with `title` and `state` (M/H)."""
        body = request["body"]
        switch = self.switches.get(int(match["id"])) if match["id"].isdigit() else None
        if switch is None:
            return _error(404, "Switch not found")
        if not isinstance(body, dict):
            return _error(400, "title and state are required")
        title, state = body.get("title"), body.get("state")
        if not isinstance(title, str) or not title:
            return _error(400, "title is required")
        if isinstance(state, str) and state.isdigit():  # form-encoded
            state = int(state)
        # n8n's live test saw "state must be within valid range" (M).
        if (
            not isinstance(state, int)
            or isinstance(state, bool)
            or not 0 <= state < switch.states
        ):
            return _error(400, "state must be within valid range")
        switch.title, switch.state = title, state
        return _result("Success")

    def _presence_error(self, body: Any) -> web.Response | None:
        """Return the refusal of a bad presence body, or None when it is good."""
        if not isinstance(body, dict) or body.get("status") not in PRESENCE_STATUSES:
            return _error(400, "status must be one of available, away, dnd, mur")
        if not isinstance(body.get("message", ""), str):
            return _error(400, "message must be a string")
        until = body.get("until")
        if until is not None:
            try:
                datetime.strptime(until, UNTIL_FORMAT)
            except (TypeError, ValueError):
                return _error(400, "until must be DD/MM/YYYY HH:mm")
        return None

    def _apply_presence(self, user: FakeUser, body: dict[str, Any]) -> None:
        """Set a user's presence from a checked body."""
        user.presence = "" if body["status"] == "available" else body["status"]
        user.message = body.get("message", "")
        user.until = body.get("until") or ""
        if self.presence_changed is not None:
            self.presence_changed(user)

    async def _set_presence(
        self, request: web.Request, match: dict[str, str]
    ) -> web.Response:
        """`PUT /api/v1/User/{ext}/Presence` with `{status, message, until?}` (M)."""
        body = request["body"]
        if (user := self.users.get(match["ext"])) is None:
            return _error(404, "User not found")
        if not self._may_act_for(user.extension):
            return _error(403, "Forbidden")
        if (refusal := self._presence_error(body)) is not None:
            return refusal
        self._apply_presence(user, body)
        return _result("Success")

    async def _set_own_presence(
        self, request: web.Request, _: dict[str, str]
    ) -> web.Response:
        """`PUT /api/v1/Personal/Presence` with `{status, message?}` (M: n8n live)."""
        body = request["body"]
        if (refusal := self._presence_error(body)) is not None:
            return refusal
        self._apply_presence(self.users[self.own_extension], body)
        return _result("Success")

    def _dial(self, extension: str, number: str) -> FakeCall:
        """Start a call from `extension` to `number`."""
        self._next_id += 1
        call = FakeCall(f"fake-{self._next_id}@127.0.0.1", extension, number)
        self.calls.setdefault(extension, []).append(call)
        return call

    async def _originate(self, request: web.Request, _: dict[str, str]) -> web.Response:
        """`POST /api/v1/originate/call` with `{number, name?}` → "Success" (M/H)."""
        body = request["body"]
        number = body.get("number") if isinstance(body, dict) else None
        if not isinstance(number, str) or not re.fullmatch(r"\+?[0-9*#]{1,40}", number):
            return _error(400, "number is required")  # refusal text assumed
        self._dial(self.own_extension, number)
        return _result("Success")

    async def _make_call(self, request: web.Request, _: dict[str, str]) -> web.Response:
        """v2 `POST make-call?user=` with `{destination, device?}` → `{message}` (M)."""
        body = request["body"]
        extension = request.query.get("user", self.own_extension)
        if extension not in self.users:
            return _error(404, "User not found")
        if not self._may_act_for(extension):
            return _error(403, "Forbidden")
        destination = body.get("destination") if isinstance(body, dict) else None
        if not isinstance(destination, str) or not destination:
            return _error(400, "destination is required")
        self._dial(extension, destination)
        return web.json_response({"message": "Call initiated"})

    async def _hangup(self, request: web.Request, _: dict[str, str]) -> web.Response:
        """v2 `POST hangup` with `{sipCallId, reason?}` → `{message}` (M)."""
        body = request["body"]
        sip_call_id = body.get("sipCallId") if isinstance(body, dict) else None
        if not isinstance(sip_call_id, str) or not sip_call_id:
            return _error(400, "sipCallId is required")
        for extension, calls in self.calls.items():
            for call in calls:
                if call.sip_call_id == sip_call_id:
                    if not self._may_act_for(extension):
                        return _error(403, "Forbidden")
                    calls.remove(call)
                    return web.json_response({"message": "Call hung up"})
        # A missing call is a 404 too (10x-media, M).
        return _error(404, "Call not found")


def _as_text(value: Any) -> Any:
    """Return a JSON value with every number in it as text (`numbers_as_text`)."""
    if isinstance(value, dict):
        return {key: _as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def until_text(moment: datetime) -> str:
    """Return `moment` in the PBX's presence format, in UTC."""
    return moment.astimezone(UTC).strftime(UNTIL_FORMAT)
