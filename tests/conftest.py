"""Fixtures: a configured Wildix entry, a sender of signed Wildix events, the fake PBX."""

from collections.abc import AsyncGenerator, AsyncIterator, Iterator
import os
from unittest.mock import PropertyMock, patch

import freezegun
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from hypothesis import HealthCheck, settings
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wildix import coordinator, sqs
from custom_components.wildix.const import DOMAIN

from .common import SECRET, START, WEBHOOK_ID, WildixSender, entry_data
from .fake_pbx import FakePbx
from .moto_sqs import SQS_ENTRY_ID, SQS_SECRET, MotoSqs, WildixQueueSender, sqs_data

# aiohttp's access log asks a frozen time.localtime() for a UTC offset it lacks.
freezegun.configure(extend_ignore_list=["aiohttp.web_log"])

# Property tests share Home Assistant between examples (function-scoped fixtures)
# and may take longer than hypothesis' default deadline on a busy machine.
settings.register_profile(
    "dev",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("ci", settings.get_profile("dev"), derandomize=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add --soak, which runs the long soak tests the default run skips."""
    parser.addoption("--soak", action="store_true", help="run the soak tests")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the soak marker."""
    config.addinivalue_line("markers", "soak: long run through the real HTTP path")


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip soak tests unless --soak asks for them."""
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="soak test: run with --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Load this repository's integration in every test that runs Home Assistant."""
    if "recorder_mock" in request.fixturenames:
        # The recorder's database is prepared before Home Assistant starts.
        request.getfixturevalue("recorder_db_url")
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture(autouse=True)
def frozen_start(request: pytest.FixtureRequest) -> None:
    """Start every Home Assistant test at the time the fixtures' calls begin."""
    if "hass" in request.fixturenames:
        freezer: FrozenDateTimeFactory = request.getfixturevalue("freezer")
        freezer.move_to(START)


@pytest.fixture
def config_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Return a Wildix entry with a known secret and webhook id."""
    entry = MockConfigEntry(
        domain=DOMAIN, title="Wildix", data=entry_data(), entry_id="01JWILDIXENTRY"
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def setup_integration(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """Set up the Wildix entry."""
    assert await async_setup_component(hass, "webhook", {})
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    # The PBX API's first polls run in the background.
    await hass.async_block_till_done(wait_background_tasks=True)
    return config_entry


@pytest.fixture
async def wildix(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> WildixSender:
    """Return a sender that posts signed events to the entry's webhook."""
    return WildixSender(hass, await hass_client_no_auth(), freezer, WEBHOOK_ID, SECRET)


@pytest.fixture
async def pbx(socket_enabled: None) -> AsyncIterator[FakePbx]:
    """Serve the fake PBX API on loopback; requests time out after half a second."""
    with patch.object(coordinator, "API_TIMEOUT", 0.5):
        async with FakePbx() as fake:
            yield fake


@pytest.fixture
def moto(socket_enabled: None) -> Iterator[MotoSqs]:
    """Run a real SQS API on loopback; polls return at once.

    moto holds a long poll until its (frozen) clock passes the wait time, so tests
    poll without waiting and step the poller with the frozen clock instead.
    """
    server = MotoSqs()
    with patch.object(sqs, "WAIT_TIME_SECONDS", 0):
        yield server
    server.close()


@pytest.fixture
def queue_url(moto: MotoSqs) -> str:
    """Return the URL of a new queue."""
    return moto.create_queue()


@pytest.fixture
def sqs_entry(hass: HomeAssistant, queue_url: str) -> MockConfigEntry:
    """Return an SQS entry whose secret key is the one of the fixtures' signatures."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Wildix",
        entry_id=SQS_ENTRY_ID,
        unique_id=queue_url,
        data=sqs_data(queue_url),
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
async def setup_sqs(
    hass: HomeAssistant, sqs_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the SQS entry; unload it at the end so its client is closed."""
    assert await hass.config_entries.async_setup(sqs_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    yield sqs_entry
    if sqs_entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(sqs_entry.entry_id)


@pytest.fixture
def queue(
    hass: HomeAssistant, moto: MotoSqs, freezer: FrozenDateTimeFactory, queue_url: str
) -> WildixQueueSender:
    """Return a sender that writes signed events into the queue."""
    return WildixQueueSender(hass, moto, freezer, queue_url, SQS_SECRET)


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Create entities enabled even where they are disabled by default (as core's tests do)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield
