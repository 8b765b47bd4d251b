"""Headless Chromium in Home Assistant's real frontend: add Wildix, watch a call live."""

from pathlib import Path

from e2e.browser import (
    chromium,
    finish_flow,
    log_in,
    open_wildix_flow,
    settle,
    shown_webhook_url,
    submit_secret,
    wait_for_aria,
)
from e2e.harness import DEMO_SECRET, Client, HomeAssistantProcess
from e2e.pbx import Pbx
from wildix_simulator.office import Remote


async def test_add_wildix_in_the_ui_and_watch_a_call(
    hass_process: HomeAssistantProcess, client: Client, tmp_path: Path
) -> None:
    """Log in, add Wildix through its dialog, then see a call on the user's device page."""
    async with chromium() as browser:
        page = await log_in(browser, hass_process.url)
        await open_wildix_flow(page, hass_process.url)
        url = await shown_webhook_url(page)
        assert url.startswith(f"{hass_process.url}/api/webhook/")
        await submit_secret(page, DEMO_SECRET)
        await page.screenshot(path=tmp_path / "flow.png")
        success = await finish_flow(page)
        assert "now reach Home Assistant" in success

        entries = await client.rest("GET", "/api/config/config_entries/entry")
        wildix = [entry for entry in entries if entry["domain"] == "wildix"]
        assert [entry["state"] for entry in wildix] == ["loaded"]

        pbx = Pbx(url, DEMO_SECRET)
        call = await pbx.incoming_call(
            "201", Remote("+4930555012345", "Maria Rossi"), answer=True
        )
        async with client.websocket() as ws:
            devices = await ws.command("config/device_registry/list")
        alice = next(device for device in devices if device["name"] == "Alice Example")

        await page.goto(f"{hass_process.url}/config/devices/device/{alice['id']}")
        await page.get_by_text("Talking").first.wait_for()
        await settle(page, 500)
        await page.screenshot(path=tmp_path / "device.png")

        await page.get_by_text("Phone", exact=True).first.click()
        dialog = page.locator("ha-more-info-dialog")
        await dialog.get_by_role("button", name="Menu").click()
        await page.get_by_role("menuitem", name="Details").click()
        details = await wait_for_aria(dialog, "Remote name Maria Rossi")
        assert "Remote number +4930555012345" in details
        assert "State Talking" in details

        # The page follows the call live: hanging up shows the phone idle again.
        await pbx.hang_up(call)
        await wait_for_aria(dialog, "State Idle")
        await page.screenshot(path=tmp_path / "idle.png")
