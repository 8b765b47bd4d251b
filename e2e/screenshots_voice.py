"""Take docs/images/voice.png: the Assist dialog answering "Who is on the phone?".

A fresh Home Assistant (latest lane) with the real frontend and the built-in conversation
agent, Wildix added through its dialog with the demo's fake PBX API, then Alice talking and
Bob's phone ringing; headless Chromium opens Assist and asks. Run through
`scripts/screenshots voice`; `--out DIR` writes elsewhere.
"""

import argparse
import asyncio
from pathlib import Path
import shutil
import sys
import tempfile
from urllib.parse import urlsplit

import aiohttp

from .browser import (
    chromium,
    fill_pbx_api,
    finish_flow,
    log_in,
    open_wildix_flow,
    settle,
    shown_webhook_url,
    submit_secret,
)
from .demo import office_pbx
from .harness import DEMO_SECRET, MINIMAL, REPO, Client, HomeAssistantProcess, free_port
from .pbx import Pbx

QUESTION = "Who is on the phone?"


async def take(out: Path, config_dir: Path) -> None:
    """Ask Assist who is on the phone and save the dialog's answer as voice.png."""
    hass = HomeAssistantProcess(
        config_dir, free_port(), integrations=MINIMAL + "conversation:\n"
    )
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
                    browser, hass.url, viewport={"width": 1000, "height": 700}
                )
                await open_wildix_flow(page, hass.url)
                shown = await shown_webhook_url(page)
                await submit_secret(page, DEMO_SECRET)
                await fill_pbx_api(page, directory.url, directory.token)
                await finish_flow(page)

                pbx = Pbx(f"{hass.url}{urlsplit(shown).path}", DEMO_SECRET)
                await pbx.live_office()

                await page.goto(f"{hass.url}/lovelace/0")
                await settle(page)
                # The frontend's shortcut for Assist.
                await page.keyboard.press("a")
                dialog = page.locator("ha-voice-command-dialog")
                field = dialog.get_by_role("textbox")
                await field.fill(QUESTION)
                await field.press("Enter")
                await dialog.get_by_text("is on a call").wait_for()
                await settle(page)
                path = out / "voice.png"
                await page.screenshot(path=path)
                sys.stdout.write(f"saved {path}\n")
    finally:
        await hass.stop()
        await directory.stop()


def main() -> None:
    """Parse arguments and take the screenshot."""
    parser = argparse.ArgumentParser(
        prog="scripts/screenshots voice", description=__doc__
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    config_dir = Path(tempfile.mkdtemp(prefix="wildix-voice-"))
    try:
        asyncio.run(take(out, config_dir))
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
