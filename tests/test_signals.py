"""The hub tells its entities and call log what changed through the entry's own signals."""

from collections import Counter
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import dispatcher
import pytest

from custom_components.wildix.changes import Aspect

from .common import SECRET, START, WildixSender, hub_of, load_event, user_state
from .workload import Workload

USERS = ["201", "202", "203", "204"]


async def test_a_failing_follower_is_logged_and_the_others_still_hear(
    hass: HomeAssistant, wildix: WildixSender, caplog: pytest.LogCaptureFixture
) -> None:
    """One target of a signal that fails does not stop the ones after it, nor the delivery."""
    await wildix.post("presence_user_dnd")
    hub = hub_of(hass)
    heard: list[str] = []

    @callback
    def fail() -> None:
        raise RuntimeError("a broken follower")

    @callback
    def hear() -> None:
        heard.append("presence")

    signal = hub.signal_user("201", Aspect.PRESENCE)
    hub.signals.connect(signal, fail)
    disconnect = hub.signals.connect(signal, hear)

    await wildix.post("presence_user_available")  # answered 200, as post checks

    assert heard == ["presence"]
    assert user_state(hass, "201", "presence").state == "available"
    assert "a broken follower" in caplog.text
    disconnect()
    disconnect()  # twice is harmless
    away = load_event("presence_user_away")
    away["data"]["extension"] = "201"
    away["time"] += 3_600_000
    await wildix.post(away)
    assert heard == ["presence"]
    assert user_state(hass, "201", "presence").state == "away"


async def test_deliveries_do_not_go_through_home_assistants_dispatcher(
    hass: HomeAssistant, wildix: WildixSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A delivery tells a few entities what changed, most one entity per signal.

    Home Assistant's dispatcher looks the targets up in `hass.data` and checks the
    thread and each target's job at every send, which cost more than most targets;
    before, every one of the hub's signals went through it (about 2.3 a delivery).
    """
    sent: Counter[str] = Counter()
    send = dispatcher.async_dispatcher_send_internal

    @callback
    def counted(hass: HomeAssistant, signal: Any, *args: Any) -> None:
        sent[str(signal)] += 1
        send(hass, signal, *args)

    monkeypatch.setattr(dispatcher, "async_dispatcher_send_internal", counted)
    for extension in USERS:
        payload = load_event("presence_user_dnd")
        payload["data"]["extension"] = extension
        await wildix.post(payload, follow_clock=False)
    workload = Workload(
        SECRET, USERS, seed=15, start_ms=int(START.timestamp() * 1000) + 60_000
    )
    for delivery in workload.mix(300):
        status = await wildix.post_raw(
            delivery.body, {"x-signature": delivery.signature}
        )
        assert status == 200

    # The deliveries were taken and shown (calls ended, logged, a calendar each).
    assert hass.states.async_entity_ids("calendar")
    assert user_state(hass, "201", "calls_today").state != "0"
    assert not [signal for signal in sent if signal.startswith("wildix_")]
