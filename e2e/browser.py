"""Drive Home Assistant's real frontend with Playwright and Debian's Chromium.

Never downloads a browser: Chromium comes from the distribution (`apt-get install chromium`)
and Playwright only drives it.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import os
from pathlib import Path
import re

from playwright.async_api import Browser, Locator, Page, async_playwright

from .harness import DEMO_PASSWORD, DEMO_USER

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


def _check_chromium() -> None:
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: apt-get install chromium")


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Start headless Chromium."""
    _check_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


async def log_in(
    browser: Browser,
    url: str,
    *,
    viewport: dict[str, int] | None = None,
    username: str = DEMO_USER,
    password: str = DEMO_PASSWORD,
) -> Page:
    """Open Home Assistant's login page and log in; return the page."""
    page = await browser.new_page(viewport=viewport or VIEWPORT)  # type: ignore[arg-type]
    await page.goto(f"{url}/")
    await page.get_by_role("textbox", name="Username").fill(username)
    await page.get_by_role("textbox", name="Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(re.compile(r".*/(home|lovelace)(/.*)?$"), timeout=60_000)
    return page


async def open_wildix_flow(page: Page, url: str) -> None:
    """Open Settings -> Devices & services -> Add integration -> Wildix (its first form)."""
    await page.goto(f"{url}/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    await page.get_by_text("Select brand").wait_for()
    await page.keyboard.type("Wildix")
    await page.get_by_text("Wildix", exact=True).click()
    await page.get_by_text("Connect a Wildix PBX").wait_for()


async def shown_webhook_url(page: Page) -> str:
    """Return the webhook URL the open flow shows."""
    shown = page.locator("dialog-data-entry-flow").get_by_text("/api/webhook/").first
    text = await shown.inner_text()
    match = re.search(r"https?://\S+/api/webhook/[0-9a-f]+", text)
    if match is None:
        raise AssertionError(f"no webhook URL in the dialog: {text}")
    return match[0]


async def submit_secret(page: Page, secret: str) -> None:
    """Fill in the secret on the open flow."""
    await page.get_by_role("textbox", name="Secret").fill(secret)


async def fill_pbx_api(page: Page, url: str, token: str) -> None:
    """Open the flow's "Wildix PBX API" section and fill in the address and token."""
    dialog = page.locator("dialog-data-entry-flow")
    await dialog.get_by_text("Wildix PBX API (optional)").click()
    await dialog.get_by_role("textbox", name="PBX address").fill(url)
    await dialog.get_by_role("textbox", name="API token").fill(token)


async def finish_flow(page: Page) -> str:
    """Submit the flow and close its success dialog; return the success text."""
    dialog = page.locator("dialog-data-entry-flow")
    await dialog.get_by_role("button", name="Submit").click()
    success = dialog.get_by_text("now reach Home Assistant")
    # With a PBX API connection, the capability table comes first.
    capabilities = dialog.get_by_text("What the PBX API connection can do")
    await success.or_(capabilities).wait_for()
    if await capabilities.is_visible():
        await dialog.get_by_role("button", name="Submit").click()
        await success.wait_for()
    text = await success.inner_text()
    await dialog.get_by_role("button", name="Finish").click()
    await dialog.wait_for(state="hidden")
    return text


async def settle(page: Page, delay_ms: int = 1500) -> None:
    """Wait for the network to go quiet and spinners and animations to finish."""
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(delay_ms)


async def wait_for_aria(locator: Locator, text: str, timeout: float = 30) -> str:
    """Wait until what assistive technology reads of `locator` includes `text`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        snapshot = await locator.aria_snapshot()
        if text in snapshot:
            return snapshot
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{text!r} never appeared in:\n{snapshot}")
        await asyncio.sleep(0.25)
