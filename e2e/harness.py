"""A real Home Assistant in a subprocess, driven through its HTTP and WebSocket APIs.

Used by the end-to-end and browser tests, `scripts/demo` and `scripts/screenshots`.
Everything goes through the public APIs a person's browser uses: onboarding, the login
flow, the config-flow REST API and WebSocket commands.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
import ctypes
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
DEMO_NAME = "Demo"
DEMO_USER = "demo"
DEMO_PASSWORD = "demo1234"
DEMO_SECRET = "DemoSecret0Wildix0Simulator042"
DEMO_USERS = "201:Alice Example,202:Bob Example,203:Carol Example,204:Dave Example"

_CONFIGURATION = """\
# Written by the wildix end-to-end harness for a throwaway Home Assistant.
homeassistant:
  name: Wildix demo
  unit_system: metric
  time_zone: Europe/Berlin
  currency: EUR
  country: DE
  latitude: 52.52
  longitude: 13.40
  elevation: 34
  internal_url: "http://127.0.0.1:{port}"
{external}{integrations}
logger:
  default: warning
  logs:
    custom_components.wildix: debug
"""
# Enough for the UI (frontend pulls in auth, onboarding, config, lovelace, websocket_api...),
# plus history and logbook for the device page, and media_source for the media browser.
MINIMAL = "frontend:\nhistory:\nlogbook:\nwebhook:\nmedia_source:\n"


class HarnessError(Exception):
    """Home Assistant did not do what the harness asked."""


def _die_with_parent() -> None:
    """Have the kernel stop Home Assistant when the process that started it dies."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class HomeAssistantProcess:
    """A `hass` process with its own configuration directory."""

    def __init__(
        self,
        config_dir: Path,
        port: int,
        integrations: str = MINIMAL,
        external_url: str | None = None,
    ) -> None:
        """Prepare a configuration directory that loads this checkout's integration."""
        self.config_dir = config_dir
        self.port = port
        self.external_url = external_url
        self.url = f"http://127.0.0.1:{port}"
        self._integrations = integrations
        self._process: asyncio.subprocess.Process | None = None

    @property
    def log_path(self) -> Path:
        """Return Home Assistant's log file."""
        return self.config_dir / "home-assistant.log"

    def prepare(self) -> None:
        """Write the configuration and link custom_components/wildix, once."""
        self.config_dir.mkdir(parents=True, exist_ok=True)
        configuration = self.config_dir / "configuration.yaml"
        if not configuration.exists():
            external = ""
            if self.external_url:
                external = f'  external_url: "{self.external_url}"\n'
            configuration.write_text(
                _CONFIGURATION.format(
                    port=self.port, external=external, integrations=self._integrations
                )
            )
        http = self.config_dir / ".storage" / "http"
        if not http.exists():
            # Home Assistant 2026 keeps the HTTP settings in storage; a YAML `http:`
            # would be migrated as a trial that reverts (and restarts) after 5 minutes.
            http.parent.mkdir(exist_ok=True)
            http.write_text(json.dumps(_http_storage(self.port), indent=2))
        custom = self.config_dir / "custom_components"
        custom.mkdir(exist_ok=True)
        link = custom / "wildix"
        if not link.exists():
            link.symlink_to(
                REPO / "custom_components" / "wildix", target_is_directory=True
            )

    async def start(self, timeout: float = 120) -> None:
        """Start Home Assistant and wait until its HTTP API answers."""
        self.prepare()
        output = (self.config_dir / "hass.out").open("ab")
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "homeassistant",
            "--config",
            str(self.config_dir),
            "--skip-pip",
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=_die_with_parent,
        )
        output.close()
        async with aiohttp.ClientSession() as session:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                if self._process.returncode is not None:
                    raise HarnessError(
                        f"hass exited with {self._process.returncode}: {self.tail()}"
                    )
                with suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(
                        f"{self.url}/api/onboarding",
                        timeout=aiohttp.ClientTimeout(total=5),
                    ) as response:
                        if response.status == 200:
                            return
                if asyncio.get_running_loop().time() > deadline:
                    raise HarnessError(
                        f"hass did not answer within {timeout} s: {self.tail()}"
                    )
                await asyncio.sleep(0.25)

    async def stop(self) -> None:
        """Stop Home Assistant (SIGTERM, then SIGKILL after 30 s)."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()

    def tail(self, lines: int = 40) -> str:
        """Return the end of Home Assistant's output, for error messages."""
        text = ""
        for path in (self.config_dir / "hass.out", self.log_path):
            if path.exists():
                text += "\n".join(
                    path.read_text(errors="replace").splitlines()[-lines:]
                )
        return text


class WebSocket:
    """Commands and subscriptions over one WebSocket connection."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap an authenticated connection."""
        self._ws = ws
        self._next_id = 0
        self._results: dict[int, asyncio.Future[Any]] = {}
        self._events: dict[int, asyncio.Queue[dict[str, Any]]] = {}

    async def read(self) -> None:
        """Dispatch incoming messages to waiting commands and subscriptions."""
        async for message in self._ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = message.json()
            for item in data if isinstance(data, list) else [data]:
                if item.get("type") == "event" and item["id"] in self._events:
                    self._events[item["id"]].put_nowait(item["event"])
                elif (
                    future := self._results.pop(item.get("id", -1), None)
                ) is not None:
                    future.set_result(item)

    async def command(self, kind: str, **fields: Any) -> Any:
        """Send a command and return its result."""
        self._next_id += 1
        message_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._results[message_id] = future
        await self._ws.send_json({"id": message_id, "type": kind, **fields})
        answer = await asyncio.wait_for(future, 30)
        if not answer.get("success"):
            raise HarnessError(f"{kind} failed: {answer.get('error')}")
        return answer.get("result")

    async def subscribe(self, event_type: str) -> asyncio.Queue[dict[str, Any]]:
        """Subscribe to bus events of a type; return the queue they arrive in."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._next_id += 1
        message_id = self._next_id
        self._events[message_id] = queue
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._results[message_id] = future
        await self._ws.send_json(
            {"id": message_id, "type": "subscribe_events", "event_type": event_type}
        )
        answer = await asyncio.wait_for(future, 30)
        if not answer.get("success"):
            raise HarnessError(
                f"subscribing to {event_type} failed: {answer.get('error')}"
            )
        return queue

    async def wait_running(self, timeout: float = 120) -> None:
        """Wait until Home Assistant has finished starting."""
        deadline = asyncio.get_running_loop().time() + timeout
        while (await self.command("get_config"))["state"] != "RUNNING":
            if asyncio.get_running_loop().time() > deadline:
                raise HarnessError("Home Assistant did not finish starting")
            await asyncio.sleep(0.5)

    async def wildix_entities(self, entry_id: str) -> dict[str, str]:
        """Return the entity ids of an entry by unique id."""
        entries = await self.command("config/entity_registry/list")
        return {
            entity["unique_id"]: entity["entity_id"]
            for entity in entries
            if entity.get("config_entry_id") == entry_id
        }


def _http_storage(port: int) -> dict[str, Any]:
    """Return Home Assistant's stored HTTP settings: 127.0.0.1 on `port`, confirmed."""
    stable = {
        "server_host": ["127.0.0.1"],
        "server_port": port,
        "cors_allowed_origins": ["https://cast.home-assistant.io"],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    return {
        "version": 2,
        "minor_version": 2,
        "key": "http",
        "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
    }


@dataclass(slots=True)
class WildixEntry:
    """A Wildix config entry created through the config flow."""

    entry_id: str
    webhook_url: str
    secret: str


class Client:
    """An authenticated connection to Home Assistant's REST and WebSocket APIs."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        """Talk to the Home Assistant at `url`."""
        self.session = session
        self.url = url
        self.client_id = f"{url}/"
        self.token: str | None = None
        self.refresh_token: str | None = None

    # Authentication

    async def onboard(
        self,
        name: str = DEMO_NAME,
        username: str = DEMO_USER,
        password: str = DEMO_PASSWORD,
    ) -> None:
        """Complete onboarding as a new owner: user, location, analytics, integrations."""
        code = await self._json(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": self.client_id,
                "name": name,
                "username": username,
                "password": password,
                "language": "en",
            },
            auth=False,
        )
        await self._exchange(code["auth_code"])
        await self._json("POST", "/api/onboarding/core_config", {})
        await self._json("POST", "/api/onboarding/analytics", {})
        await self._json(
            "POST",
            "/api/onboarding/integration",
            {
                "client_id": self.client_id,
                "redirect_uri": f"{self.url}/?auth_callback=1",
            },
        )

    async def login(
        self, username: str = DEMO_USER, password: str = DEMO_PASSWORD
    ) -> None:
        """Log in through the login flow, as the frontend does."""
        flow = await self._json(
            "POST",
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": f"{self.url}/?auth_callback=1",
            },
            auth=False,
        )
        result = await self._json(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": username, "password": password},
            auth=False,
        )
        if result.get("type") != "create_entry":
            raise HarnessError(f"login failed: {result}")
        await self._exchange(result["result"])

    async def tidy(self, settle: float = 3, timeout: float = 30) -> None:
        """Wait until Home Assistant runs; drop what onboarding adds and machine notices.

        Onboarding sets up weather, radio, shopping list and text-to-speech integrations,
        and Home Assistant warns about a core installation and about libraries missing
        here. None of it concerns Wildix; it would only clutter the demo and screenshots.
        """
        extras = {"google_translate", "met", "radio_browser", "shopping_list"}
        loop = asyncio.get_running_loop()
        async with self.websocket() as ws:
            await ws.wait_running()
            began = loop.time()
            while loop.time() < began + timeout:
                busy = any(
                    flow["handler"] in extras
                    for flow in await ws.command("config_entries/flow/progress")
                )
                entries = [
                    entry
                    for entry in await self.rest(
                        "GET", "/api/config/config_entries/entry"
                    )
                    if entry["domain"] in extras
                ]
                for entry in entries:
                    await self.rest(
                        "DELETE",
                        f"/api/config/config_entries/entry/{entry['entry_id']}",
                    )
                if not busy and not entries and loop.time() > began + settle:
                    break
                await asyncio.sleep(0.5)
            for issue in (await ws.command("repairs/list_issues"))["issues"]:
                if issue["issue_id"] == "deprecated_method":
                    await ws.command(
                        "repairs/ignore_issue",
                        domain=issue["domain"],
                        issue_id=issue["issue_id"],
                        ignore=True,
                    )
            await ws.command(
                "call_service", domain="persistent_notification", service="dismiss_all"
            )

    async def onboarded(self) -> bool:
        """Tell whether the owner has been created already."""
        steps = await self._json("GET", "/api/onboarding", auth=False)
        return any(step["step"] == "user" and step["done"] for step in steps)

    async def _exchange(self, code: str) -> None:
        async with self.session.post(
            f"{self.url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
        ) as response:
            if response.status != 200:
                raise HarnessError(
                    f"/auth/token answered {response.status}: {await response.text()}"
                )
            tokens = await response.json()
        self.token = tokens["access_token"]
        self.refresh_token = tokens.get("refresh_token")

    # REST

    async def _json(
        self, method: str, path: str, payload: Any = None, *, auth: bool = True
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        async with self.session.request(
            method, f"{self.url}{path}", json=payload, headers=headers
        ) as response:
            if response.status >= 300:
                raise HarnessError(
                    f"{method} {path} answered {response.status}: {await response.text()}"
                )
            return await response.json()

    async def rest(self, method: str, path: str, payload: Any = None) -> Any:
        """Call the REST API with the token; return the decoded answer."""
        return await self._json(method, path, payload)

    async def states(self) -> dict[str, dict[str, Any]]:
        """Return every state by entity id (REST /api/states)."""
        return {
            state["entity_id"]: state for state in await self.rest("GET", "/api/states")
        }

    async def add_wildix(
        self,
        secret: str,
        name: str | None = None,
        pbx_api: dict[str, Any] | None = None,
    ) -> WildixEntry:
        """Add the integration through the config-flow REST API, as the UI does.

        `pbx_api` fills the form's PBX API section (url, token, verify_ssl).
        """
        form = await self.rest(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": "wildix", "show_advanced_options": False},
        )
        if form.get("type") != "form":
            raise HarnessError(f"the Wildix flow did not show a form: {form}")
        url = form["description_placeholders"]["webhook_url"]
        answer: dict[str, Any] = {"transport": "webhook", "secret": secret}
        if name:
            answer["name"] = name
        if pbx_api:
            answer["pbx_api"] = pbx_api
        result = await self.rest(
            "POST", f"/api/config/config_entries/flow/{form['flow_id']}", answer
        )
        if result.get("step_id") == "pbx_capabilities":
            # The PBX API connection's capability table: read, then confirmed.
            result = await self.rest(
                "POST", f"/api/config/config_entries/flow/{form['flow_id']}", {}
            )
        if result.get("type") != "create_entry":
            raise HarnessError(f"the Wildix flow did not create an entry: {result}")
        return WildixEntry(result["result"]["entry_id"], url, secret)

    # WebSocket

    @asynccontextmanager
    async def websocket(self) -> AsyncIterator[WebSocket]:
        """Open an authenticated WebSocket connection."""
        async with self.session.ws_connect(f"{self.url}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.token})
            answer = await ws.receive_json()
            if answer.get("type") != "auth_ok":
                raise HarnessError(f"WebSocket authentication failed: {answer}")
            connection = WebSocket(ws)
            reader = asyncio.create_task(connection.read())
            try:
                yield connection
            finally:
                reader.cancel()
                with suppress(asyncio.CancelledError):
                    await reader


async def save_team_dashboard(
    ws: WebSocket, entry_id: str, extensions: list[str]
) -> str:
    """Create a "Team" dashboard of the users' presence and phones; return its URL path."""
    registry = {
        entity["unique_id"]: entity
        for entity in await ws.command("config/entity_registry/list")
        if entity.get("config_entry_id") == entry_id
    }
    names = {
        device["id"]: device["name_by_user"] or device["name"]
        for device in await ws.command("config/device_registry/list")
    }
    dashboards = await ws.command("lovelace/dashboards/list")
    if not any(board["url_path"] == "wildix-team" for board in dashboards):
        await ws.command(
            "lovelace/dashboards/create",
            url_path="wildix-team",
            title="Team",
            icon="mdi:phone-in-talk",
            show_in_sidebar=True,
            require_admin=False,
            mode="storage",
        )

    def section(
        title: str, icon: str, key: str, extra: dict[str, str]
    ) -> dict[str, Any]:
        """Return a section: a heading, then one tile per user named after them."""
        cards: list[dict[str, Any]] = [
            {"type": "heading", "heading": title, "icon": icon}
        ]
        tiles = [(f"{entry_id}_{ext}_{key}", None) for ext in extensions]
        for unique_id, name in [*tiles, *extra.items()]:
            if (entity := registry.get(unique_id)) is not None:
                label = name or names.get(entity["device_id"])
                cards.append(
                    {"type": "tile", "entity": entity["entity_id"], "name": label}
                )
        return {"type": "grid", "cards": cards}

    config = {
        "views": [
            {
                "title": "Team",
                "path": "team",
                "type": "sections",
                "max_columns": 3,
                "sections": [
                    section("Presence", "mdi:account-group", "presence", {}),
                    section(
                        "Phones",
                        "mdi:phone",
                        "phone",
                        {f"{entry_id}_active_calls": "Active calls"},
                    ),
                    section("Missed calls", "mdi:phone-missed", "missed_calls", {}),
                ],
            }
        ]
    }
    await ws.command("lovelace/config/save", url_path="wildix-team", config=config)
    return "wildix-team"


async def simulate(*arguments: str) -> tuple[int, str]:
    """Run `scripts/simulate` with arguments; return its exit status and output."""
    process = await asyncio.create_subprocess_exec(
        str(REPO / "scripts" / "simulate"),
        *arguments,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()
