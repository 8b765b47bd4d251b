"""The demo: a real Home Assistant with Wildix added and a simulated busy office feeding it.

Run through `scripts/demo`.
"""

import argparse
import asyncio
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import tempfile

import aiohttp

from tests.fake_pbx import UNTIL_FORMAT, FakePbx, FakeUser
from wildix_simulator.office import Payload

from .harness import (
    DEMO_PASSWORD,
    DEMO_SECRET,
    DEMO_USER,
    DEMO_USERS,
    REPO,
    Client,
    HomeAssistantProcess,
    WildixEntry,
    save_team_dashboard,
)
from .pbx import Pbx


async def _wildix(client: Client, pbx: FakePbx) -> WildixEntry:
    """Add the Wildix entry (a kept --config cannot be reused: the API hides its URL).

    The entry connects to a fake PBX API, so that the office's users are devices with
    their names and phone registration before the first call.
    """
    for entry in await client.rest("GET", "/api/config/config_entries/entry"):
        if entry["domain"] == "wildix":
            raise SystemExit(
                "This configuration directory already has a Wildix entry: delete the "
                "directory or give a new --config."
            )
    return await client.add_wildix(
        DEMO_SECRET, pbx_api={"url": pbx.url, "token": pbx.token, "verify_ssl": True}
    )


def office_pbx() -> FakePbx:
    """Return a fake PBX whose directory is the simulated office's users.

    It keeps the fake's dialplan switches (a night service and a three-state office
    mode), and its token acts as an admin: every user's do not disturb works.
    """
    pbx = FakePbx()
    pbx.users.clear()
    for number, user in enumerate(DEMO_USERS.split(",")):
        extension, name = user.split(":")
        pbx.add_user(extension, name, department="Sales" if number < 2 else "Support")
        if number != 3:
            pbx.register(extension)
    return pbx


def echo_presence(pbx: FakePbx, webhook_url: str) -> set[asyncio.Task[None]]:
    """Send a `presence:user` event whenever Home Assistant changes a presence on the fake.

    A real PBX does so, and only that event moves the Presence sensor; do not disturb
    shows the new state at once either way. Returns the sends still under way.
    """
    events = Pbx(webhook_url, DEMO_SECRET)
    sending: set[asyncio.Task[None]] = set()

    async def send(payloads: list[Payload]) -> None:
        try:
            await events.send(payloads)
        except (OSError, RuntimeError) as err:
            sys.stderr.write(f"presence event not delivered: {err}\n")

    def changed(user: FakeUser) -> None:
        if (simulated := events.users.get(user.extension)) is None:
            return
        until_minutes = None
        if user.until:
            until = datetime.strptime(user.until, UNTIL_FORMAT).replace(tzinfo=UTC)
            until_minutes = max(
                1, round((until - datetime.now(UTC)).total_seconds() / 60)
            )
        payloads = events.office.presence(
            simulated,
            events.now(),
            user.presence or "available",
            message=user.message,
            until_minutes=until_minutes,
        )
        task = asyncio.create_task(send(payloads))
        sending.add(task)
        task.add_done_callback(sending.discard)

    pbx.presence_changed = changed
    return sending


async def run(args: argparse.Namespace, config_dir: Path) -> None:
    """Start Home Assistant, set it up, feed it until interrupted."""
    # Ctrl-C and SIGTERM end the demo cleanly (stop the simulator and Home Assistant).
    main_task = asyncio.current_task()
    assert main_task is not None
    for stop in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(stop, main_task.cancel)
    hass = HomeAssistantProcess(config_dir, args.port)
    out = sys.stdout
    out.write(f"Starting Home Assistant in {config_dir} ...\n")
    pbx = office_pbx()
    await pbx.start()
    await hass.start()
    simulator: asyncio.subprocess.Process | None = None
    sending: set[asyncio.Task[None]] = set()
    try:
        async with aiohttp.ClientSession() as session:
            client = Client(session, hass.url)
            if await client.onboarded():
                await client.login()
            else:
                await client.onboard()
            await client.tidy()
            entry = await _wildix(client, pbx)
            sending = echo_presence(pbx, entry.webhook_url)
            async with client.websocket() as ws:
                token = await ws.command(
                    "auth/long_lived_access_token",
                    client_name=f"Wildix demo {datetime.now(UTC):%H:%M:%S}",
                    lifespan=1,
                )
            out.write(
                "\n"
                f"  Home Assistant  {hass.url}\n"
                f"  log in as       user {DEMO_USER}, password {DEMO_PASSWORD}\n"
                f"  REST token      {token}\n"
                f"                  (valid for a day; try: curl -H 'Authorization: Bearer"
                f" <token>' {hass.url}/api/states)\n"
                "                  More: your profile -> Security -> Long-lived access"
                " tokens -> Create token\n"
                f"  webhook URL     {entry.webhook_url}\n"
                f"  secret          {DEMO_SECRET}\n"
                f"  PBX API (fake)  {pbx.url} (token {pbx.token})\n"
                "\n"
                "  Wildix is connected to a fake PBX API that this demo runs on loopback:\n"
                "  the office's four users are devices under Settings -> Devices & services\n"
                "  -> Wildix at once, named and with their phones' registration from it;\n"
                "  the Team dashboard shows who is where. The PBX device has the fake PBX's\n"
                "  dialplan switches (NightService, and OfficeMode as a select), every user\n"
                "  a Do not disturb switch: they change the fake PBX, and the actions\n"
                "  wildix.call, wildix.hang_up and wildix.set_presence act on it.\n"
                "  Ctrl-C stops the demo.\n\n"
            )
            out.flush()
            base = [
                str(REPO / "scripts" / "simulate"),
                "--url", entry.webhook_url, "--secret", DEMO_SECRET,
                "--users", DEMO_USERS, "--families", args.families,
            ]  # fmt: skip
            # Every scenario once, quickly: each user makes a call (so devices get their
            # names) and sets a presence; then the office gets busy.
            warm_up = await asyncio.create_subprocess_exec(
                *base, "--scenario", "all", "--speed", "8", "--quiet"
            )
            await warm_up.wait()
            async with client.websocket() as ws:
                extensions = [user.split(":")[0] for user in DEMO_USERS.split(",")]
                await save_team_dashboard(ws, entry.entry_id, extensions)
            out.write(f"  Team dashboard  {hass.url}/wildix-team/team\n\n")
            out.flush()
            simulator = await asyncio.create_subprocess_exec(
                *base, "--scenario", "busy-office", "--duration", "0", "--rate", str(args.rate),
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            await simulator.wait()
    finally:
        if simulator is not None and simulator.returncode is None:
            simulator.terminate()
            with suppress(ProcessLookupError):
                await simulator.wait()
        for task in sending:
            task.cancel()
        await hass.stop()
        await pbx.stop()


def main() -> None:
    """Parse arguments and run the demo until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--rate", type=float, default=1.0, help="events per second")
    parser.add_argument(
        "--families", choices=["legacy", "live", "both"], default="both"
    )
    parser.add_argument(
        "--config", type=Path, help="a new directory for the instance, kept afterwards"
    )
    args = parser.parse_args()
    config_dir = args.config or Path(tempfile.mkdtemp(prefix="wildix-demo-"))
    try:
        asyncio.run(run(args, config_dir.resolve()))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.stdout.write("\nDemo stopped.\n")
    finally:
        if args.config is None:
            shutil.rmtree(config_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
