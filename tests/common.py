"""Helpers shared by the tests: fixtures on disk and a sender of signed events."""

from copy import deepcopy
from datetime import UTC, datetime, timedelta
import hashlib
import hmac
from http import HTTPStatus
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wildix.const import DOMAIN
from custom_components.wildix.hub import WildixHub

from .fake_pbx import FakePbx

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "Zq4Wm8Tr2Yx6Np0Lk3Hs7Vb1Dc5Fg9"
WEBHOOK_ID = "a" * 64
ENTRY_ID = "01JWILDIXENTRY"
START = datetime(2025, 3, 4, 9, 14, 0, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def in_time_order(*names: str) -> list[dict[str, Any]]:
    """Return fixture events sorted by their envelope time."""
    return sorted((load_event(name) for name in names), key=lambda p: p["time"])


def entry_data(**overrides: Any) -> dict[str, Any]:
    """Return the data of a webhook config entry."""
    return {
        "transport": "webhook",
        "webhook_id": WEBHOOK_ID,
        "secret": SECRET,
        "cloudhook": False,
    } | overrides


async def add_entry(
    hass: HomeAssistant,
    pbx: FakePbx | None,
    entry_id: str = ENTRY_ID,
    title: str = "Office",
    **data: Any,
) -> MockConfigEntry:
    """Set up a webhook entry, connected to `pbx` unless it is None."""
    if pbx is not None:
        data |= {"pbx_url": pbx.url, "api_token": pbx.token, "verify_ssl": True}
    entry = MockConfigEntry(domain=DOMAIN, title=title, entry_id=entry_id, data=data)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    # The PBX API's first polls run in the background.
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


def load_event(name: str, **changes: Any) -> dict[str, Any]:
    """Return a fixture event, with top-level keys replaced."""
    payload: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    payload = deepcopy(payload)
    payload.update(changes)
    return payload


def compact(payload: Any) -> bytes:
    """Encode an event the way Wildix sends it: compact JSON, raw UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def sign(body: bytes, secret: str = SECRET) -> str:
    """Return the x-signature Wildix sends for a body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event_time(payload: dict[str, Any]) -> datetime:
    """Return the envelope time of an event."""
    return EPOCH + timedelta(milliseconds=payload["time"])


class WildixSender:
    """Posts events to a webhook as Wildix does, moving the frozen clock along."""

    def __init__(
        self,
        hass: HomeAssistant,
        client: TestClient,
        freezer: FrozenDateTimeFactory,
        webhook_id: str,
        secret: str,
    ) -> None:
        """Initialise the sender."""
        self.hass = hass
        self.client = client
        self.freezer = freezer
        self.webhook_id = webhook_id
        self.secret = secret

    async def post_raw(self, body: bytes, headers: dict[str, str] | None = None) -> int:
        """Post bytes with the given headers; return the HTTP status."""
        response = await self.client.post(
            f"/api/webhook/{self.webhook_id}", data=body, headers=headers or {}
        )
        await self.hass.async_block_till_done()
        return response.status

    async def post(
        self,
        event: str | dict[str, Any],
        *,
        follow_clock: bool = True,
        expect: int = HTTPStatus.OK,
        **changes: Any,
    ) -> dict[str, Any]:
        """Sign and post an event (a fixture name or a payload)."""
        payload = load_event(event, **changes) if isinstance(event, str) else event
        if follow_clock:
            # The next whole second: exact in any float or rounding of it.
            moment = EPOCH + timedelta(seconds=payload["time"] // 1000 + 1)
            if moment > datetime.now(UTC):
                self.freezer.move_to(moment)
        body = compact(payload)
        status = await self.post_raw(
            body,
            {
                "x-signature": sign(body, self.secret),
                "content-type": "application/json",
            },
        )
        assert status == expect, f"{payload['type']} answered {status}"
        return payload

    async def post_all(self, *events: str | dict[str, Any]) -> None:
        """Sign and post events (fixture names or payloads) one after the other."""
        for event in events:
            await self.post(event)


def entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """Return the entity id registered for a unique id."""
    found = er.async_get(hass).async_get_entity_id(platform, "wildix", unique_id)
    assert found is not None, f"no {platform} entity {unique_id}"
    return found


def user_entity(hass: HomeAssistant, platform: str, extension: str, key: str) -> str:
    """Return the entity id of a user's entity."""
    return entity_id(hass, platform, f"{ENTRY_ID}_{extension}_{key}")


def user_state(hass: HomeAssistant, extension: str, key: str) -> Any:
    """Return the state object of a user's entity by key."""
    platform = "binary_sensor" if key in ("ringing", "on_call") else "sensor"
    if key == "calls":
        platform = "event"
    state = hass.states.get(user_entity(hass, platform, extension, key))
    assert state is not None
    return state


def line(hass: HomeAssistant, extension: str) -> tuple[str, str, str]:
    """Return a user's phone state and the ringing and on-call sensors."""
    return (
        user_state(hass, extension, "phone").state,
        user_state(hass, extension, "ringing").state,
        user_state(hass, extension, "on_call").state,
    )


def hub_of(hass: HomeAssistant) -> WildixHub:
    """Return the hub of the test entry."""
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    hub: WildixHub = entry.runtime_data
    return hub
