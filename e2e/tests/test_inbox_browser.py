"""Headless Chromium in Home Assistant's media browser: a voicemail plays through Home Assistant."""

import os
from pathlib import Path
from urllib.parse import quote

from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from e2e.browser import chromium, log_in, settle
from e2e.harness import DEMO_SECRET, REPO, Client, HomeAssistantProcess
from e2e.pbx import Pbx
from tests.fake_pbx import FakePbx
from wildix_simulator.office import COMPANY_NUMBER, NORMAL_CLEARING, Remote

# Counts every media element that reports `playing`, in or out of the page's DOM (the
# frontend plays in the browser with a detached `Audio`).
RECORD_PLAYING = """
window.wildixPlaying = [];
window.wildixProblems = [];
const watch = (media) => {
  media.addEventListener("playing", () => window.wildixPlaying.push(media.currentSrc));
  media.addEventListener("error", () =>
    window.wildixProblems.push(`${media.currentSrc}: ${media.error && media.error.code}`));
  return media;
};
const NativeAudio = window.Audio;
window.Audio = function (...args) { return watch(new NativeAudio(...args)); };
window.Audio.prototype = NativeAudio.prototype;
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function (...args) {
  watch(this);
  return play.apply(this, args);
};
"""
# Where the test also writes the documentation's picture, when asked:
# `scripts/screenshots inbox`.
SCREENSHOT = os.environ.get("WILDIX_INBOX_SCREENSHOT")


def folder_path(entry_id: str, extension: str) -> str:
    """Return the media browser's path to a user's Voicemail folder."""
    ids = ["app,media-source://wildix"]
    media_id = "media-source://wildix"
    for part in (entry_id, extension, "voicemail"):
        media_id += f"/{part}"
        ids.append(f"directory,{media_id}")
    return "/media-browser/browser/" + "/".join(quote(i, safe="") for i in ids)


async def leave_voicemail(pbx: Pbx, extension: str, caller: Remote) -> None:
    """Ring a user from outside; nobody answers; the caller leaves a voicemail."""
    office = pbx.office
    now = pbx.now()
    call = office.new_call(now, caller, COMPANY_NUMBER, "INBOUND", caller.phone)
    await pbx.send(office.start(call, now))
    await pbx.send(office.ring(call, now + 500, pbx.users[extension]))
    await pbx.send(office.hang_up(call, now + 30_000, NORMAL_CLEARING))
    await pbx.send(
        office.completed(call, now + 33_000, NORMAL_CLEARING, voicemail=True)
    )


async def test_play_a_voicemail_in_the_media_browser(
    hass_process: HomeAssistantProcess, client: Client, tmp_path: Path
) -> None:
    """Media → Wildix → the PBX → Alice → Voicemail: the message plays in the browser."""
    files = FakePbx()
    files.inbox.file_auth = "open"  # no PBX API connection in this test
    files.inbox.any_file = True
    await files.start()
    try:
        entry = await client.add_wildix(DEMO_SECRET, name="Office")
        pbx = Pbx(entry.webhook_url, DEMO_SECRET)
        pbx.office.media_url = files.url
        await leave_voicemail(pbx, "201", Remote("+4989555765432", "Jonas Weber"))
        await leave_voicemail(pbx, "201", Remote("+4930555012345", "Maria Rossi"))
        states = await client.states()
        assert states["sensor.alice_example_voicemail"]["state"] == "2"

        async with chromium() as browser:
            page = await log_in(browser, hass_process.url)
            await page.add_init_script(RECORD_PLAYING)
            await page.goto(hass_process.url + folder_path(entry.entry_id, "201"))
            item = page.get_by_text("Maria Rossi").first
            await item.wait_for()
            await settle(page, 500)
            await item.click()
            try:
                await page.wait_for_function("window.wildixPlaying.length > 0")
            except PlaywrightTimeoutError:
                await page.screenshot(path=tmp_path / "not-playing.png")
                problems = await page.evaluate("window.wildixProblems")
                raise AssertionError(
                    f"not playing: {problems}, see {tmp_path}"
                ) from None
            played = await page.evaluate("window.wildixPlaying[0]")
            # Home Assistant's own address, never the PBX's.
            assert played.startswith(f"{hass_process.url}/api/wildix/inbox/")
            assert files.url not in played
            await settle(page, 1000)
            await page.screenshot(path=tmp_path / "inbox.png")
            if SCREENSHOT:
                await page.screenshot(path=REPO / SCREENSHOT)
    finally:
        await files.stop()
