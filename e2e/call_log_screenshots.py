"""Take the call log's screenshots: a week of calls in the calendar, and the callbacks.

A real Home Assistant and its frontend, connected to the demo's fake PBX API, whose call
history holds a week of the office's calls (the calendar fetches it when shown) and whose
phonebook names two callers. Run through `scripts/screenshots call-log`; writes
docs/images/call-log.png and docs/images/callbacks.png.
"""

import argparse
import asyncio
from datetime import datetime, timedelta
from pathlib import Path
import random
import shutil
import tempfile

import aiohttp

from tests.fake_pbx import FakePbx

from .browser import (
    chromium,
    fill_pbx_api,
    finish_flow,
    log_in,
    open_wildix_flow,
    settle,
    submit_secret,
)
from .demo import office_pbx
from .harness import DEMO_SECRET, REPO, Client, HomeAssistantProcess, free_port
from .screenshots import _save

CALLERS = (
    ("+4930555010203", ""),
    ("+4940555777888", ""),
    ("+4989555123456", ""),
    ("+33155500123", ""),
    ("202", "Bob Example"),
    ("203", "Carol Example"),
)
CONTACTS = [
    {"id": "1", "name": "Noor Haddad", "organization": "Haddad Logistik",
     "mobile": "+49 40 555 777888"},
    {"id": "2", "name": "Jonas Weber", "organization": "Weber & Söhne",
     "office": "+49 89 555 123456"},
]  # fmt: skip


def week_of_calls(now: datetime, seed: int = 7) -> list[dict[str, str]]:
    """Return Alice's calls of the past week as CDR rows (strings, local times, offset)."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    offset = now.strftime("%z")
    for days_ago in range(7, -1, -1):
        day = (now - timedelta(days=days_ago)).replace(minute=0, second=0)
        if day.weekday() >= 5:
            continue
        for hour in sorted(rng.sample(range(8, 18), 5)):
            start = day.replace(hour=hour, minute=rng.randrange(0, 50))
            if start >= now - timedelta(hours=1):
                continue
            number, name = rng.choice(CALLERS)
            outgoing = rng.random() < 0.35
            answered = outgoing or rng.random() < 0.5
            talk = rng.randrange(40, 900) if answered else 0
            end = start + timedelta(seconds=talk + rng.randrange(5, 25))
            rows.append(
                {
                    "id": str(10_000 + len(rows)),
                    "start": start.strftime("%Y-%m-%d %H:%M:%S"),
                    "answer": "",
                    "end": end.strftime("%Y-%m-%d %H:%M:%S"),
                    "timezone": offset,
                    "from_number": "201" if outgoing else number,
                    "from_name": "Alice Example" if outgoing else name or number,
                    "to_number": number if outgoing else "201",
                    "to_name": (name or number) if outgoing else "Alice Example",
                    "billsec": str(talk),
                    "duration": str(talk + 10),
                    "disposition": "ANSWERED" if answered else "NO ANSWER",
                    "lastapp": "Dial"
                    if answered or rng.random() < 0.5
                    else "VoiceMail",
                    "userfield": "",
                    "channel": "SIP/201-0001" if outgoing else "SIP/trunk-0001",
                    "type": "call",
                }
            )
    return rows


async def take(out: Path, config_dir: Path) -> None:
    """Take both screenshots into `out`, with a fresh Home Assistant in `config_dir`."""
    hass = HomeAssistantProcess(config_dir, free_port())
    directory: FakePbx = office_pbx()
    directory.history = week_of_calls(datetime.now().astimezone())
    directory.contacts = CONTACTS
    try:
        await directory.start()
        await hass.start()
        async with aiohttp.ClientSession() as session:
            client = Client(session, hass.url)
            await client.onboard()
            await client.tidy()
            async with chromium() as browser:
                page = await log_in(
                    browser, hass.url, viewport={"width": 1280, "height": 900}
                )
                await open_wildix_flow(page, hass.url)
                await submit_secret(page, DEMO_SECRET)
                await settle(page)
                await fill_pbx_api(page, directory.url, directory.token)
                await finish_flow(page)
                await page.close()

                page = await log_in(
                    browser, hass.url, viewport={"width": 1280, "height": 900}
                )
                await page.goto(f"{hass.url}/calendar")
                await settle(page)
                for other in ("Bob Example", "Carol Example", "Dave Example"):
                    await page.get_by_text(f"{other} Call log").first.click()
                await page.get_by_label("Week").first.click()
                await settle(page)
                # The week before this one: a full week of the PBX's history.
                await page.get_by_label("Previous").first.click()
                await page.get_by_text("Call with").first.wait_for()
                await settle(page, 3000)
                await _save(page, out / "call-log.png")

                await page.goto(
                    f"{hass.url}/todo?entity_id=todo.alice_example_callbacks"
                )
                await page.get_by_text("Call back").first.wait_for()
                await settle(page)
                await _save(page, out / "callbacks.png")
    finally:
        await hass.stop()
        await directory.stop()


def main() -> None:
    """Parse arguments and take the screenshots."""
    parser = argparse.ArgumentParser(prog="scripts/screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    config_dir = Path(tempfile.mkdtemp(prefix="wildix-call-log-"))
    try:
        asyncio.run(take(out, config_dir))
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
