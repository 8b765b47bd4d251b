"""Repairs: rejected signatures and an entry that never got an event, raised and cleared."""

from datetime import timedelta
from http import HTTPStatus
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wildix.const import DOMAIN
from custom_components.wildix.issues import TRANSPORT_ISSUES, Issue, async_raise_issue

from .common import ENTRY_ID, WildixSender, compact, load_event, sign

NEW_SECRET = "Pp7Rr1Tt5Vv9Xx3Zz8Bb2Dd6Ff0Hh4"
REJECTED = f"signature_rejected_{ENTRY_ID}"
NO_EVENTS = f"no_events_{ENTRY_ID}"
STRINGS = json.loads(
    (Path(__file__).parents[1] / "custom_components/wildix/strings.json").read_text()
)


def _issue(hass: HomeAssistant, issue_id: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


async def _reject(wildix: WildixSender, times: int, step: timedelta) -> None:
    """Post events signed with a secret the entry does not have."""
    secret, wildix.secret = wildix.secret, NEW_SECRET
    for _ in range(times):
        wildix.freezer.tick(step)
        await wildix.post(
            load_event("presence_user_away", time=_now_ms()),
            follow_clock=False,
            expect=HTTPStatus.UNAUTHORIZED,
        )
    wildix.secret = secret


def _now_ms() -> int:
    return int(dt_util.utcnow().timestamp() * 1000)


async def _accept(wildix: WildixSender, expect: int = HTTPStatus.OK) -> None:
    """Post a fresh event signed with the sender's secret."""
    await wildix.post(
        load_event("presence_user_away", time=_now_ms()),
        follow_clock=False,
        expect=expect,
    )


@pytest.fixture(autouse=True)
async def repairs(hass: HomeAssistant) -> None:
    """Set up Repairs before any HTTP client freezes the routes."""
    assert await async_setup_component(hass, "repairs", {})


@pytest.fixture
async def repairs_client(hass_client: ClientSessionGenerator) -> TestClient:
    """Return a client of the repairs HTTP API."""
    return await hass_client()


async def _fix(client: TestClient, issue_id: str) -> dict[str, Any]:
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    assert response.status == HTTPStatus.OK
    return await response.json()


async def _submit(
    client: TestClient, flow_id: str, data: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(f"/api/repairs/issues/fix/{flow_id}", json=data)
    assert response.status == HTTPStatus.OK
    return await response.json()


async def test_five_rejections_raise_and_a_valid_event_clears(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Five bad signatures in a row raise a fixable issue; the next good event clears it."""
    await _reject(wildix, 4, timedelta(minutes=2))
    assert _issue(hass, REJECTED) is None

    await _reject(wildix, 1, timedelta(minutes=2))
    issue = _issue(hass, REJECTED)
    assert issue is not None
    assert issue.is_fixable
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "signature_rejected"
    assert issue.translation_placeholders == {"title": "Wildix"}

    await _accept(wildix)
    assert _issue(hass, REJECTED) is None


async def test_rejections_spread_over_more_than_ten_minutes(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """Five rejections spread over more than ten minutes are not a streak yet."""
    await _reject(wildix, 5, timedelta(minutes=2, seconds=31))
    assert _issue(hass, REJECTED) is None

    await _reject(wildix, 1, timedelta(seconds=1))
    assert _issue(hass, REJECTED) is not None


async def test_valid_event_breaks_the_streak(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A valid event between rejections starts the count again."""
    await _reject(wildix, 4, timedelta(seconds=10))
    await _accept(wildix)
    await _reject(wildix, 4, timedelta(seconds=10))
    assert _issue(hass, REJECTED) is None


async def test_signed_but_unusable_delivery_breaks_the_streak(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """A delivery with a good signature proves the secret right, even if it is not an event."""
    await _reject(wildix, 4, timedelta(seconds=10))
    body = compact(["not", "an", "event"])
    assert (
        await wildix.post_raw(body, {"x-signature": sign(body)})
        == HTTPStatus.BAD_REQUEST
    )
    await _reject(wildix, 4, timedelta(seconds=10))
    assert _issue(hass, REJECTED) is None


async def test_fix_flow_takes_the_new_secret(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    repairs_client: TestClient,
) -> None:
    """The fix flow checks the secret, saves it, and events signed with it are accepted."""
    hub = setup_integration.runtime_data
    await _reject(wildix, 5, timedelta(seconds=10))

    flow = await _fix(repairs_client, REJECTED)
    assert flow["type"] == "form"
    assert flow["step_id"] == "secret"
    assert flow["description_placeholders"] == {"title": "Wildix"}

    flow = await _submit(repairs_client, flow["flow_id"], {})
    assert flow["errors"] == {"secret": "secret_required"}
    flow = await _submit(repairs_client, flow["flow_id"], {"secret": "a b"})
    assert flow["errors"] == {"secret": "invalid_secret"}
    flow = await _submit(repairs_client, flow["flow_id"], {"secret": NEW_SECRET})
    assert flow["type"] == "create_entry"
    await hass.async_block_till_done()

    assert _issue(hass, REJECTED) is None
    assert setup_integration.data["secret"] == NEW_SECRET
    assert setup_integration.runtime_data is hub
    await _accept(wildix, expect=HTTPStatus.UNAUTHORIZED)
    wildix.secret = NEW_SECRET
    await _accept(wildix)


async def test_fix_flow_refuses_another_entrys_secret(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    repairs_client: TestClient,
) -> None:
    """Two entries cannot share a secret: the fix flow refuses it as adding and reconfiguring do."""
    MockConfigEntry(
        domain=DOMAIN,
        data={"webhook_id": "b" * 64, "secret": NEW_SECRET, "cloudhook": False},
    ).add_to_hass(hass)
    await _reject(wildix, 5, timedelta(seconds=10))

    flow = await _fix(repairs_client, REJECTED)
    flow = await _submit(repairs_client, flow["flow_id"], {"secret": NEW_SECRET})
    assert flow["type"] == "form"
    assert flow["errors"] == {"secret": "secret_in_use"}
    assert setup_integration.data["secret"] != NEW_SECRET
    assert _issue(hass, REJECTED) is not None

    own = setup_integration.data["secret"]
    flow = await _submit(repairs_client, flow["flow_id"], {"secret": own})
    assert flow["type"] == "create_entry"


async def test_new_secret_starts_a_new_count(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    repairs_client: TestClient,
) -> None:
    """After a fix, a still-wrong secret needs a whole new streak before the issue returns."""
    await _reject(wildix, 5, timedelta(seconds=10))
    flow = await _fix(repairs_client, REJECTED)
    await _submit(repairs_client, flow["flow_id"], {"secret": "StillNotTheRightOne"})
    await hass.async_block_till_done()

    await _reject(wildix, 4, timedelta(seconds=10))
    assert _issue(hass, REJECTED) is None
    await _reject(wildix, 1, timedelta(seconds=10))
    assert _issue(hass, REJECTED) is not None


async def test_fix_flow_for_a_removed_entry(
    hass: HomeAssistant, setup_integration: MockConfigEntry, repairs_client: TestClient
) -> None:
    """An issue left behind by a removed entry cannot change anything."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        "signature_rejected_gone",
        is_fixable=True,
        severity=ir.IssueSeverity.ERROR,
        translation_key="signature_rejected",
        data={"entry_id": "gone"},
    )
    flow = await _fix(repairs_client, "signature_rejected_gone")
    assert flow["type"] == "abort"
    assert flow["reason"] == "entry_removed"


async def test_no_events_for_a_day_raises_and_first_event_clears(
    hass: HomeAssistant, wildix: WildixSender, freezer: FrozenDateTimeFactory
) -> None:
    """A day without a single event raises an issue; the first event clears it."""
    freezer.tick(timedelta(hours=23, minutes=59))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _issue(hass, NO_EVENTS) is None

    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue = _issue(hass, NO_EVENTS)
    assert issue is not None
    assert not issue.is_fixable
    assert issue.translation_key == "no_events"
    assert issue.translation_placeholders == {"title": "Wildix"}

    await _accept(wildix)
    assert _issue(hass, NO_EVENTS) is None


async def test_no_events_not_raised_when_an_event_came_in_time(
    hass: HomeAssistant, wildix: WildixSender, freezer: FrozenDateTimeFactory
) -> None:
    """An entry whose first event came within the day is not flagged."""
    freezer.tick(timedelta(hours=20))
    await _accept(wildix)
    freezer.tick(timedelta(hours=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _issue(hass, NO_EVENTS) is None


async def test_no_events_not_raised_once_an_event_arrived(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    wildix: WildixSender,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An entry that got an event before a restart is not flagged after it."""
    await _accept(wildix)
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    assert await hass.config_entries.async_setup(setup_integration.entry_id)
    freezer.tick(timedelta(days=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _issue(hass, NO_EVENTS) is None


async def test_no_events_raised_at_once_when_overdue(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An entry restarted after its first day, still without events, is flagged at once."""
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    freezer.tick(timedelta(days=3))
    assert await hass.config_entries.async_setup(setup_integration.entry_id)
    await hass.async_block_till_done()
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _issue(hass, NO_EVENTS) is not None


async def test_removing_the_entry_removes_its_issues(
    hass: HomeAssistant, setup_integration: MockConfigEntry, wildix: WildixSender
) -> None:
    """The issues of a removed entry leave Repairs with it."""
    await _reject(wildix, 5, timedelta(seconds=10))
    assert _issue(hass, REJECTED) is not None
    await hass.config_entries.async_remove(setup_integration.entry_id)
    await hass.async_block_till_done()
    assert _issue(hass, REJECTED) is None


@pytest.mark.parametrize("issue", sorted(TRANSPORT_ISSUES))
async def test_sqs_entries_get_their_own_words(
    hass: HomeAssistant, issue: Issue
) -> None:
    """SQS entries' issues explain the queue, and none offers the webhook secret fix."""
    entry = MockConfigEntry(domain=DOMAIN, title="PBX", data={"transport": "sqs"})
    entry.add_to_hass(hass)
    async_raise_issue(hass, entry, issue)
    raised = _issue(hass, f"{issue}_{entry.entry_id}")
    assert raised is not None
    assert not raised.is_fixable
    assert raised.translation_key == f"{issue}_sqs"
    assert "description" in STRINGS["issues"][raised.translation_key]
