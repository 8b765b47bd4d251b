"""The Wildix simulator speaks the protocol: signed compact JSON the integration models."""

from collections import Counter
from datetime import UTC, datetime
from http import HTTPStatus
import io
import json
import random

from homeassistant.core import HomeAssistant
import pytest

from custom_components.wildix.protocol import (
    CallEvent,
    EventType,
    UserPresence,
    UserTelephony,
    parse_event,
    verify_signature,
)
from wildix_simulator import cli
from wildix_simulator.office import Family, Office, parse_users
from wildix_simulator.scenarios import SCENARIOS, busy_office, everything
from wildix_simulator.simulation import Delivery, Simulation, VirtualClock

from .common import SECRET, START, WEBHOOK_ID, WildixSender, compact, user_entity

USERS = "201:Alice Example,202:Bob Example,203:Carol Example,204:Dave Example"
LEGACY_ORDER = ["id", "pbx", "time", "company", "type", "integrationId", "data"]
NEWER_ORDER = ["id", "pbx", "company", "time", "type", "integrationId", "data"]
LEGACY = ("call:start", "call:update", "call:end")
BODIES = {
    EventType.PRESENCE_USER: UserPresence,
    EventType.PRESENCE_TELEPHONY: UserTelephony,
}


def run(
    scenario: str,
    *,
    families: tuple[Family, ...] = (Family.LEGACY, Family.LIVE),
    duplicates: float = 0.0,
    seed: int = 1,
) -> list[Delivery]:
    """Return what a scenario delivers, on a virtual clock starting at START."""
    deliveries: list[Delivery] = []
    office = Office(parse_users(USERS), random.Random(seed), families=families)
    sim = Simulation(
        office,
        VirtualClock(int(START.timestamp() * 1000)),
        SECRET,
        deliveries.append,
        duplicates=duplicates,
    )
    (everything if scenario == "all" else SCENARIOS[scenario])(sim, 0.0)
    sim.run()
    return deliveries


@pytest.mark.parametrize("scenario", [*SCENARIOS, "all"])
@pytest.mark.parametrize(
    "families", [(Family.LEGACY,), (Family.LIVE,), (Family.LEGACY, Family.LIVE)]
)
def test_events_are_signed_compact_wildix_events(
    scenario: str, families: tuple[Family, ...]
) -> None:
    """Every body is compact JSON signed with the secret, and parses as its family."""
    deliveries = run(scenario, families=families)
    assert deliveries
    for delivery in deliveries:
        payload = json.loads(delivery.body)
        assert delivery.body == compact(payload)
        assert verify_signature(SECRET, delivery.body, delivery.signature)
        assert not verify_signature("another secret", delivery.body, delivery.signature)
        legacy = payload["type"] in LEGACY
        assert list(payload) == (LEGACY_ORDER if legacy else NEWER_ORDER)
        event = parse_event(payload)
        assert event.problem is None
        assert isinstance(event.body, BODIES.get(EventType(event.type), CallEvent))
    families_sent = {
        "legacy" if d.payload["type"] in LEGACY else "live"
        for d in deliveries
        if d.payload["type"].startswith("call:")
    }
    if scenario != "presence":
        assert families_sent == {family.value for family in families}


def test_times_only_move_forward_within_a_call() -> None:
    """Each call's events of one family are sent in time order, ending the call last."""
    last: dict[tuple[str, str], tuple[int, str]] = {}
    for delivery in run("all"):
        payload = delivery.payload
        if not payload["type"].startswith("call:"):
            continue
        family = "legacy" if payload["type"] in LEGACY else "live"
        key = (payload["id"], family)
        if key in last:
            assert payload["time"] > last[key][0]
            assert last[key][1] not in ("call:end", "call:completed")
        last[key] = (payload["time"], payload["type"])


def test_busy_office_keeps_to_its_rate_and_hangs_up_at_the_end() -> None:
    """The busy office sends about the asked rate and ends every call when it stops."""
    deliveries: list[Delivery] = []
    office = Office(parse_users(USERS), random.Random(5))
    sim = Simulation(office, VirtualClock(0), SECRET, deliveries.append)
    busy_office(sim, 0.0, rate=3.0)
    sim.run(until_s=600)
    assert 0.7 * 1800 < len(deliveries) < 1.3 * 1800
    assert not office.calls
    kinds = Counter(d.payload["type"] for d in deliveries)
    assert kinds["presence:user"] > 0
    assert kinds["call:live:interrupted"] + kinds["call:live:completed"] > 0
    telephony = Counter(
        d.payload["data"]["status"]
        for d in deliveries
        if d.payload["type"] == "presence:telephony"
    )
    assert set(telephony) == {"registered", "ringing", "talking", "rt"}


def test_duplicates_resend_the_same_bytes() -> None:
    """A duplicate is the exact body and signature of an event sent before."""
    deliveries = run("all", duplicates=0.5)
    first = {d.body: d.signature for d in deliveries if not d.duplicate}
    again = [d for d in deliveries if d.duplicate]
    assert again
    assert all(first[d.body] == d.signature for d in again)


async def test_simulated_office_through_home_assistant(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """The integration turns every scenario, with duplicates, into the right states."""
    deliveries = run("all", duplicates=0.3)
    phone: str | None = None
    seen: list[str] = []
    last_presence: dict[str, dict[str, str]] = {}
    for delivery in deliveries:
        wildix.freezer.move_to(
            datetime.fromtimestamp(delivery.payload["time"] / 1000 + 0.1, UTC)
        )
        status = await wildix.post_raw(
            delivery.body,
            {"x-signature": delivery.signature, "content-type": "application/json"},
        )
        assert status == HTTPStatus.OK
        if delivery.payload["type"] == "presence:user":
            data = delivery.payload["data"]
            last_presence[data["extension"]] = data
        if phone is None and (state := _state(hass, "201", "phone")) is not None:
            phone = state
        if phone is not None and (state := hass.states.get(phone)) is not None:
            seen.append(state.state)
    assert _in_order(seen, ["ringing", "talking", "idle"])
    for extension, data in last_presence.items():
        presence = hass.states.get(user_entity(hass, "sensor", extension, "presence"))
        assert presence is not None
        assert presence.state == data["status"]
        assert presence.attributes["message"] == (data["message"] or None)
    for extension in ("201", "202", "203", "204"):
        state = hass.states.get(user_entity(hass, "sensor", extension, "phone"))
        assert state is not None
        assert state.state == "idle"
    missed = hass.states.get(user_entity(hass, "sensor", "202", "missed_calls"))
    assert missed is not None
    assert missed.state == "1"


async def test_wrong_secret_stops_with_a_clear_message(
    hass: HomeAssistant, wildix: WildixSender, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong secret is refused with 401; the simulator says what to check."""
    url = str(wildix.client.make_url(f"/api/webhook/{WEBHOOK_ID}"))
    out = io.StringIO()
    argv = [
        "--url",
        url,
        "--secret",
        "wrong",
        "--scenario",
        "presence",
        "--speed",
        "1000",
    ]
    status = await hass.async_add_executor_job(cli.main, argv, out)
    assert status == 1
    assert " 401 " in out.getvalue()
    assert "the signature did not verify" in capsys.readouterr().err
    assert WEBHOOK_ID not in out.getvalue()


async def test_right_secret_is_accepted(
    hass: HomeAssistant, wildix: WildixSender
) -> None:
    """With the entry's secret every delivery is accepted and the exit status is 0."""
    url = str(wildix.client.make_url(f"/api/webhook/{WEBHOOK_ID}"))
    out = io.StringIO()
    argv = ["--url", url, "--secret", SECRET, "--scenario", "missed", "--speed", "1000"]
    assert await hass.async_add_executor_job(cli.main, argv, out) == 0
    assert "missed" in out.getvalue()
    assert "x 200" in out.getvalue()


def test_dry_run_prints_signed_bodies() -> None:
    """--dry-run prints each body with its signature instead of sending it."""
    out = io.StringIO()
    assert (
        cli.main(["--secret", SECRET, "--dry-run", "--scenario", "presence"], out) == 0
    )
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines
    for line in lines:
        assert verify_signature(SECRET, line["body"].encode(), line["signature"])


def test_dry_run_without_a_secret_signs_with_a_placeholder() -> None:
    """`scripts/simulate --dry-run` alone shows the bodies, signed with a named placeholder."""
    out = io.StringIO()
    assert cli.main(["--dry-run"], out) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines
    for line in lines:
        assert verify_signature(
            cli.DRY_RUN_SECRET, line["body"].encode(), line["signature"]
        )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--url", "http://127.0.0.1:8123/api/webhook/x"], "--secret"),
        (["--secret", "s"], "--url"),
        (["--secret", "s", "--dry-run", "--users", "Alice"], "--users"),
        (
            [
                "--secret",
                "s",
                "--dry-run",
                "--users",
                "201:A",
                "--scenario",
                "internal",
            ],
            "needs 2 users",
        ),
        (["--secret", "s", "--url", "ftp://example.com"], "not an http(s) URL"),
    ],
)
def test_bad_arguments_are_explained(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Wrong arguments end with usage status 2 and say what is wrong."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv, io.StringIO())
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def _state(hass: HomeAssistant, extension: str, key: str) -> str | None:
    try:
        return user_entity(hass, "sensor", extension, key)
    except AssertionError:
        return None


def _in_order(seen: list[str], wanted: list[str]) -> bool:
    remaining = iter(seen)
    return all(any(item == want for item in remaining) for want in wanted)
