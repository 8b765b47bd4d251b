"""Fixtures: one real Home Assistant per test module, onboarded, with Wildix added."""

from collections.abc import AsyncIterator
from pathlib import Path
import shutil
import tempfile

import aiohttp
import pytest

from e2e.harness import (
    DEMO_SECRET,
    Client,
    HomeAssistantProcess,
    WildixEntry,
    free_port,
)


@pytest.fixture(scope="module")
async def hass_process() -> AsyncIterator[HomeAssistantProcess]:
    """Start Home Assistant with a fresh configuration directory."""
    config_dir = Path(tempfile.mkdtemp(prefix="wildix-e2e-"))
    process = HomeAssistantProcess(config_dir, free_port())
    try:
        await process.start()
        yield process
    finally:
        await process.stop()
        if (config_dir / "home-assistant.log").exists():
            errors = [
                line
                for line in (config_dir / "home-assistant.log").read_text().splitlines()
                if "custom_components.wildix" in line
                and ("ERROR" in line or "Traceback" in line)
            ]
            assert not errors, "\n".join(errors)
        shutil.rmtree(config_dir, ignore_errors=True)


@pytest.fixture(scope="module")
async def client(hass_process: HomeAssistantProcess) -> AsyncIterator[Client]:
    """Return a client logged in as the owner created by onboarding."""
    async with aiohttp.ClientSession() as session:
        client = Client(session, hass_process.url)
        await client.onboard()
        async with client.websocket() as ws:
            await ws.wait_running()
        yield client


@pytest.fixture(scope="module")
async def wildix(client: Client) -> WildixEntry:
    """Add the Wildix integration through the config-flow REST API."""
    return await client.add_wildix(DEMO_SECRET)
