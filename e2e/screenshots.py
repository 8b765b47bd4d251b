"""Retake the documentation screenshots: a real Home Assistant, its frontend, simulated calls.

Home Assistant is connected to the demo's fake PBX API (the office's users named from its
directory, every phone but Dave's registered). Run through `scripts/screenshots`; writes
docs/images/*.png. The PBX device's page shows whatever entities the PBX device has, and
user-dnd.png is taken only when a user's device has a do-not-disturb switch.
"""

from pathlib import Path
import sys
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from playwright.async_api import Page

from .browser import (
    chromium,
    fill_pbx_api,
    finish_flow,
    log_in,
    open_wildix_flow,
    screenshots_main,
    settle,
    shown_webhook_url,
    submit_secret,
)
from .demo import office_pbx
from .harness import (
    DEMO_SECRET,
    DEMO_USERS,
    REPO,
    Client,
    HomeAssistantProcess,
    WebSocket,
    free_port,
    save_team_dashboard,
    simulate,
)
from .pbx import Pbx

EXTERNAL_URL = "https://home.example.com"


async def take(out: Path, config_dir: Path) -> None:
    """Take every screenshot into `out`, with a fresh Home Assistant in `config_dir`."""
    hass = HomeAssistantProcess(config_dir, free_port(), external_url=EXTERNAL_URL)
    directory = office_pbx()
    try:
        await directory.start()
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
                await fill_pbx_api(page, directory.url, directory.token)
                await finish_flow(page)
                await page.close()

                webhook = f"{hass.url}{urlsplit(shown).path}"
                entries = await client.rest("GET", "/api/config/config_entries/entry")
                entry_id = next(
                    e["entry_id"] for e in entries if e["domain"] == "wildix"
                )
                async with client.websocket() as ws:
                    devices = await _devices(ws, entry_id)
                carol = devices["Carol Example"]

                # Before any event: the directory's name and the phone's registration.
                page = await log_in(browser, hass.url)
                await page.goto(f"{hass.url}/config/devices/device/{carol['id']}")
                await page.get_by_text("Phone registered").first.wait_for()
                await settle(page)
                await _save(page, out / "user-device-directory.png")
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
                    await save_team_dashboard(ws, entry_id, list(pbx.users))
                    entities = await ws.command("config/entity_registry/list")

                alice = devices["Alice Example"]
                await page.goto(f"{hass.url}/config/devices/device/{alice['id']}")
                await page.get_by_text("Talking").first.wait_for()
                await settle(page)
                await _save(page, out / "device-during-call.png")

                await page.get_by_text("Phone", exact=True).first.click()
                dialog = page.locator("ha-more-info-dialog")
                await settle(page)
                await dialog.get_by_role("button", name="Menu").click()
                await page.get_by_role("menuitem", name="Details").click()
                await dialog.get_by_text("Remote name", exact=True).wait_for()
                await settle(page)
                await _save(page, out / "call-details.png")

                await page.goto(f"{hass.url}/wildix-team/team")
                await page.get_by_text("Ringing").first.wait_for()
                await settle(page)
                await _save(page, out / "team-dashboard.png")

                # The PBX device, with whatever the PBX API gives it (version, switches).
                await page.set_viewport_size({"width": 1280, "height": 1000})
                pbx_device = next(
                    device
                    for device in devices.values()
                    if ["wildix", entry_id] in device["identifiers"]
                )
                await page.goto(f"{hass.url}/config/devices/device/{pbx_device['id']}")
                await page.get_by_text(directory.version).first.wait_for()
                await settle(page)
                await _save(page, out / "pbx-device.png")

                # Carol is in Do not disturb: her switch shows it, once there is one.
                dnd = [
                    entity
                    for entity in entities
                    if entity["device_id"] == carol["id"]
                    and entity["entity_id"].startswith("switch.")
                    and entity["unique_id"].endswith("_dnd")
                ]
                if dnd:
                    await page.goto(f"{hass.url}/config/devices/device/{carol['id']}")
                    await page.get_by_text("Controls", exact=True).first.wait_for()
                    await settle(page)
                    await _save(page, out / "user-dnd.png")
                else:
                    sys.stdout.write(
                        "skipped user-dnd.png: Carol Example's device has no "
                        "do-not-disturb switch yet\n"
                    )
    finally:
        await hass.stop()
        await directory.stop()


async def _devices(ws: WebSocket, entry_id: str) -> dict[str, dict[str, Any]]:
    """Return the entry's devices (the PBX and its users) by name."""
    return {
        device["name"]: device
        for device in await ws.command("config/device_registry/list")
        if entry_id in device["config_entries"]
    }


async def _save(page: Page, path: Path) -> None:
    await page.screenshot(path=path)
    sys.stdout.write(
        f"saved {path.relative_to(REPO) if path.is_relative_to(REPO) else path}\n"
    )


def main() -> None:
    """Take the screenshots."""
    screenshots_main(take, "scripts/screenshots", __doc__ or "")


if __name__ == "__main__":
    main()
