"""One voicemail, one item and one `voicemail` moment: call event and list, any order."""

from datetime import UTC, datetime

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wildix.const import EVENT_CALL
from custom_components.wildix.inbox_api import POLL_INTERVAL

from .common import (
    ENTRY_ID,
    SECRET,
    WEBHOOK_ID,
    WildixSender,
    add_entry,
    entry_data,
    user_state,
)
from .fake_pbx import FakePbx
from .inbox_events import voicemail_call_end, voicemail_completed
from .test_inbox import voicemail_sensor, voicemails

pytestmark = pytest.mark.usefixtures("socket_enabled")

LEFT = 1741082545  # when the caller left the message (epoch s); the call began at …520
CALLER = "+4940555777888"
# The list's styles: epoch seconds, Asterisk's text fields, and a date as text in UTC
# or in PBX-local time an hour ahead (no zone given).
STYLES = [("plain", 0), ("asterisk", 0), ("dated", 0), ("dated", 1)]


async def setup(
    hass: HomeAssistant,
    pbx: FakePbx,
    client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> tuple[WildixSender, list[Event]]:
    """Set up the entry with the PBX API connection; return the sender and the moments."""
    assert await async_setup_component(hass, "media_source", {})
    await add_entry(hass, pbx, entry_id=ENTRY_ID, **entry_data())
    await hass.async_block_till_done(wait_background_tasks=True)
    moments: list[Event] = []
    hass.bus.async_listen(EVENT_CALL, moments.append)
    return WildixSender(hass, await client(), freezer, WEBHOOK_ID, SECRET), moments


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the 5-minute poll of the voicemail list run."""
    freezer.tick(POLL_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def restart(hass: HomeAssistant) -> None:
    """Reload the entry (its inbox is saved and restored)."""
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done(wait_background_tasks=True)


def announced(moments: list[Event]) -> list[dict[str, object]]:
    """Return the data of the voicemail moments fired."""
    return [event.data for event in moments if event.data["type"] == "voicemail"]


def style(pbx: FakePbx, name: str, offset: int) -> None:
    """Make the fake PBX list voicemails in a style (and a zone for dated text)."""
    pbx.inbox.record_style, pbx.inbox.date_offset_hours = name, offset


@pytest.mark.parametrize(("name", "offset"), STYLES)
async def test_listed_before_its_call_event_is_one_message_announced_once(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    *,
    name: str,
    offset: int,
) -> None:
    """The poll names the message, then call:end (flag only) and call:completed come."""
    style(pbx, name, offset)
    wildix, moments = await setup(hass, pbx, hass_client_no_auth, freezer)
    _, url = pbx.inbox.add_voicemail("201", CALLER, LEFT, duration=7)
    freezer.move_to(datetime.fromtimestamp(LEFT, UTC))
    await poll(hass, freezer)
    (listed,) = await voicemails(hass)
    assert announced(moments) == []  # the list alone does not announce

    await wildix.post(voicemail_call_end(["voicemail"]))
    (item,) = await voicemails(hass)
    assert item.media_content_id == listed.media_content_id
    (moment,) = announced(moments)
    assert moment["media_content_id"] == listed.media_content_id
    assert moment["remote_number"] == CALLER

    await wildix.post(voicemail_completed(url))
    await restart(hass)
    await poll(hass, freezer)
    await wildix.post(voicemail_completed(url, time_ms=1741082600000))

    (item,) = await voicemails(hass)
    assert item.media_content_id == listed.media_content_id
    assert item.title.endswith("· 0:07")
    assert len(announced(moments)) == 1
    assert voicemail_sensor(hass).state == "1"
    # The call's own file points at the same message.
    (attachment,) = user_state(hass, "201", "last_call").attributes["attachments"]
    assert attachment["media_content_id"] == listed.media_content_id


@pytest.mark.parametrize(("name", "offset"), STYLES)
async def test_listed_between_the_flag_and_the_file_is_one_message(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    *,
    name: str,
    offset: int,
) -> None:
    """call:end says voicemail without a file; the poll lists it; call:completed brings the file."""
    style(pbx, name, offset)
    wildix, moments = await setup(hass, pbx, hass_client_no_auth, freezer)
    _, url = pbx.inbox.add_voicemail("201", CALLER, LEFT, duration=7)

    await wildix.post(voicemail_call_end(["voicemail"]))
    (flagged,) = await voicemails(hass)
    await poll(hass, freezer)
    (item,) = await voicemails(hass)
    assert item.title.endswith("· 0:07")  # the listed record's length: merged
    await wildix.post(voicemail_completed(url))
    await restart(hass)
    await poll(hass, freezer)

    (item,) = await voicemails(hass)
    assert item.media_content_id == flagged.media_content_id
    assert item.can_play
    (moment,) = announced(moments)
    assert moment["media_content_id"] == flagged.media_content_id
    assert voicemail_sensor(hass).state == "1"


async def test_a_message_only_the_list_names_never_fires(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Left while Home Assistant was down: it is in the inbox and counts, unannounced."""
    pbx.inbox.add_voicemail("201", CALLER, LEFT)
    _, moments = await setup(hass, pbx, hass_client_no_auth, freezer)
    assert len(await voicemails(hass)) == 1
    await restart(hass)
    await poll(hass, freezer)

    assert len(await voicemails(hass)) == 1
    assert voicemail_sensor(hass).state == "1"
    assert announced(moments) == []


async def test_two_messages_of_one_caller_stay_two(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two calls, a minute apart, each leave a message: two items, two moments."""
    wildix, moments = await setup(hass, pbx, hass_client_no_auth, freezer)
    await wildix.post(voicemail_completed(None, shape="flag"))
    await wildix.post(
        voicemail_completed(
            None,
            shape="flag",
            call_id="de_w204518_1741082580.3190",
            time_ms=1741082640000,
        )
    )
    pbx.inbox.add_voicemail("201", CALLER, LEFT, duration=7)
    pbx.inbox.add_voicemail("201", CALLER, LEFT + 60, duration=9)
    await poll(hass, freezer)
    # Each listing joined one of the two messages, in one poll.
    lengths = sorted(item.title[-4:] for item in await voicemails(hass))
    assert lengths == ["0:07", "0:09"]
    await restart(hass)
    await poll(hass, freezer)

    assert len(await voicemails(hass)) == 2
    assert len(announced(moments)) == 2
    assert voicemail_sensor(hass).state == "2"
