"""Retake the documentation screenshots: a real Home Assistant, its frontend, simulated calls.

Run through `scripts/screenshots`; writes docs/images/*.png.
"""

import argparse
import asyncio
from pathlib import Path
import shutil
import sys
import tempfile
from urllib.parse import urlsplit

import aiohttp
from playwright.async_api import Page

from .browser import (
    chromium,
    finish_flow,
    log_in,
    open_wildix_flow,
    settle,
    shown_webhook_url,
    submit_secret,
)
from .harness import (
    DEMO_SECRET,
    DEMO_USERS,
    REPO,
    Client,
    HomeAssistantProcess,
    free_port,
    save_team_dashboard,
    simulate,
)
from .pbx import Pbx

EXTERNAL_URL = "https://home.example.com"


async def take(out: Path, config_dir: Path) -> None:
    """Take every screenshot into `out`, with a fresh Home Assistant in `config_dir`."""
    hass = HomeAssistantProcess(config_dir, free_port(), external_url=EXTERNAL_URL)
    try:
        await hass.start()
        async with aiohttp.ClientSession() as session:
            client = Client(session, hass.url)
            await client.onboard()
            await client.tidy()
            async with chromium() as browser:
                page = await log_in(
                    browser, hass.url, viewport={"width": 1280, "height": 1000}
                )
                await open_wildix_flow(page, hass.url)
                shown = await shown_webhook_url(page)
                await submit_secret(page, DEMO_SECRET)
                await settle(page)
                await _save(page, out / "config-flow.png")
                await finish_flow(page)
                await page.close()

                webhook = f"{hass.url}{urlsplit(shown).path}"
                entries = await client.rest("GET", "/api/config/config_entries/entry")
                entry_id = next(
                    e["entry_id"] for e in entries if e["domain"] == "wildix"
                )
                # A morning's history first: every scenario, quickly.
                status, output = await simulate(
                    "--url", webhook, "--secret", DEMO_SECRET, "--users", DEMO_USERS,
                    "--scenario", "all", "--speed", "25", "--seed", "4", "--quiet",
                )  # fmt: skip
                if status != 0:
                    raise RuntimeError(output)
                pbx = Pbx(webhook, DEMO_SECRET)
                await pbx.live_office()

                async with client.websocket() as ws:
                    devices = await ws.command("config/device_registry/list")
                    alice = next(d for d in devices if d["name"] == "Alice Example")
                    await save_team_dashboard(ws, entry_id, list(pbx.users))

                page = await log_in(browser, hass.url)
                await page.goto(f"{hass.url}/config/devices/device/{alice['id']}")
                await page.get_by_text("Talking").first.wait_for()
                await settle(page)
                await _save(page, out / "device-during-call.png")

                await page.get_by_text("Phone", exact=True).first.click()
                dialog = page.locator("ha-more-info-dialog")
                await settle(page)
                await dialog.get_by_role("button", name="Menu").click()
                await page.get_by_role("menuitem", name="Details").click()
                await dialog.get_by_text("Remote name").wait_for()
                await settle(page)
                await _save(page, out / "call-details.png")

                await page.goto(f"{hass.url}/wildix-team/team")
                await page.get_by_text("Ringing").first.wait_for()
                await settle(page)
                await _save(page, out / "team-dashboard.png")
    finally:
        await hass.stop()


async def _save(page: Page, path: Path) -> None:
    await page.screenshot(path=path)
    sys.stdout.write(
        f"saved {path.relative_to(REPO) if path.is_relative_to(REPO) else path}\n"
    )


def main() -> None:
    """Parse arguments and take the screenshots."""
    parser = argparse.ArgumentParser(prog="scripts/screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    config_dir = Path(tempfile.mkdtemp(prefix="wildix-screenshots-"))
    try:
        asyncio.run(take(out, config_dir))
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
