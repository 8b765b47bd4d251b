"""The inbox: voicemails and recordings from call events, in the media browser, played through Home Assistant."""

from datetime import timedelta
from http import HTTPStatus
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components import media_source
from homeassistant.components.media_player.browse_media import (
    async_process_play_media_url,
)
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.wildix.const import DOMAIN, EVENT_CALL
from custom_components.wildix.media_source import OUTSIDE_CALLER

from .common import (
    ENTRY_ID,
    SECRET,
    WEBHOOK_ID,
    WildixSender,
    add_entry,
    entry_data,
    user_entity,
)
from .fake_inbox import mp3_bytes, wav_bytes
from .fake_pbx import FakePbx
from .inbox_events import recorded_completed, voicemail_call_end, voicemail_completed

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = f"media-source://{DOMAIN}"
START_MS = 1741079706274
MINUTE = 60_000
RECORDING = "2025.03.04-09.15.06-201-4930555010203-1741079700.3101-0.wav"


@pytest.fixture
async def office(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> WildixSender:
    """Set up an entry without the PBX API connection; the PBX serves files openly."""
    pbx.inbox.file_auth = "open"
    for component in ("media_source", "websocket_api"):
        assert await async_setup_component(hass, component, {})
    await add_entry(hass, None, entry_id=ENTRY_ID, **entry_data())
    return WildixSender(hass, await hass_client_no_auth(), freezer, WEBHOOK_ID, SECRET)


@pytest.fixture
async def connected(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> WildixSender:
    """Set up an entry with the PBX API connection (files need the token)."""
    for component in ("media_source", "websocket_api"):
        assert await async_setup_component(hass, component, {})
    await add_entry(hass, pbx, entry_id=ENTRY_ID, **entry_data())
    await hass.async_block_till_done(wait_background_tasks=True)
    return WildixSender(hass, await hass_client_no_auth(), freezer, WEBHOOK_ID, SECRET)


def voicemail_sensor(hass: HomeAssistant, extension: str = "201") -> Any:
    """Return the state of a user's voicemail sensor."""
    state = hass.states.get(user_entity(hass, "sensor", extension, "voicemail"))
    assert state is not None
    return state


async def browse(hass: HomeAssistant, path: str = "") -> Any:
    """Browse the Wildix media source (as an automation: everything)."""
    return await media_source.async_browse_media(
        hass, f"{ROOT}/{path}" if path else ROOT
    )


async def voicemails(hass: HomeAssistant, extension: str = "201") -> list[Any]:
    """Return the items of a user's Voicemail folder."""
    return (await browse(hass, f"{ENTRY_ID}/{extension}/voicemail")).children


async def token(hass: HomeAssistant, user: User) -> str:
    """Return an access token of a user valid now (the tests' clock moves on)."""
    refresh = await hass.auth.async_create_refresh_token(user, "https://example.com/")
    return hass.auth.async_create_access_token(refresh)


@pytest.fixture
def admin_client(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, hass_admin_user: User
) -> Any:
    """Return a maker of an HTTP client logged in as an administrator, now."""

    async def make() -> Any:
        return await hass_client(await token(hass, hass_admin_user))

    return make


async def play(
    hass: HomeAssistant, client: Any, media_content_id: str
) -> tuple[int, bytes, str]:
    """Resolve a media id and fetch its URL; return status, body and content type."""
    resolved = await media_source.async_resolve_media(hass, media_content_id, None)
    assert resolved.url.startswith("/api/wildix/")
    response = await client.get(resolved.url)
    return response.status, await response.read(), response.headers["Content-Type"]


@pytest.mark.parametrize("shape", ["nested", "deprecated", "flat"])
async def test_a_voicemail_shows_plays_and_counts(
    hass: HomeAssistant,
    office: WildixSender,
    pbx: FakePbx,
    admin_client: Any,
    shape: str,
) -> None:
    """Every attachment shape of a voicemail gives one unread, playable message."""
    _, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await office.post(voicemail_completed(url, shape=shape))

    sensor = voicemail_sensor(hass)
    assert sensor.state == "1"
    assert sensor.attributes["last_caller"] == "+4940555777888"
    root = await browse(hass)
    assert [child.title for child in root.children] == ["Office"]
    user = await browse(hass, f"{ENTRY_ID}/201")
    assert user.title == "Alice Example (1)"
    assert [folder.title for folder in user.children] == ["Voicemail", "Recordings"]
    (item,) = await voicemails(hass)
    assert item.can_play
    assert "+4940555777888" in item.title
    assert item.media_content_id.startswith(f"{ROOT}/{ENTRY_ID}/201/voicemail/")

    status, body, content_type = await play(
        hass, await admin_client(), item.media_content_id
    )
    assert (status, content_type) == (HTTPStatus.OK, "audio/mpeg")
    assert body == mp3_bytes()
    # Neither the PBX's address nor its token reach the browser.
    assert pbx.url not in str(
        (await browse(hass, f"{ENTRY_ID}/201/voicemail")).as_dict()
    )


async def test_a_voicemail_flag_without_file_counts_but_does_not_play(
    hass: HomeAssistant, office: WildixSender
) -> None:
    """`flags: [voicemail]` alone is a voicemail without a file to play."""
    await office.post(voicemail_completed(None, shape="flag"))
    assert voicemail_sensor(hass).state == "1"
    (item,) = await voicemails(hass)
    assert not item.can_play
    assert item.title.endswith("(no file)")
    with pytest.raises(media_source.Unresolvable):
        await media_source.async_resolve_media(hass, item.media_content_id, None)


async def test_voicemail_is_announced_once_on_every_surface(
    hass: HomeAssistant,
    office: WildixSender,
    pbx: FakePbx,
) -> None:
    """The flag on call:end, then the file on call:completed, a restart, a repeat: one moment."""
    events: list[Event] = []
    hass.bus.async_listen(EVENT_CALL, events.append)
    _, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)

    await office.post(voicemail_call_end(["voicemail"]))
    await office.post(voicemail_completed(url))
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    # Wildix repeats the stored call later (a new delivery, same call).
    repeat = voicemail_completed(url, time_ms=1741082600000)
    await office.post(repeat)

    announced = [event.data for event in events if event.data["type"] == "voicemail"]
    assert len(announced) == 1
    assert announced[0]["extension"] == "201"
    assert announced[0]["remote_number"] == "+4940555777888"
    assert announced[0]["media_content_id"].startswith(f"{ROOT}/{ENTRY_ID}/201/")
    calls = hass.states.get(user_entity(hass, "event", "201", "calls"))
    assert calls is not None
    assert calls.attributes["event_type"] == "voicemail"
    assert voicemail_sensor(hass).state == "1"
    assert len(await voicemails(hass)) == 1


async def test_hidden_outside_callers_stay_hidden(
    hass: HomeAssistant, office: WildixSender, pbx: FakePbx
) -> None:
    """With outside parties hidden, a voicemail is from "Outside caller"."""
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    hass.config_entries.async_update_entry(entry, options={"show_remote": False})
    await hass.async_block_till_done()
    _, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await office.post(voicemail_completed(url))

    (item,) = await voicemails(hass)
    assert OUTSIDE_CALLER in item.title
    assert "+4940555777888" not in item.title
    assert voicemail_sensor(hass).attributes["last_caller"] is None


async def test_a_recording_is_in_both_parties_recordings(
    hass: HomeAssistant,
    office: WildixSender,
    pbx: FakePbx,
    admin_client: Any,
) -> None:
    """A nested `recording` attachment is a playable WAV in the user's Recordings."""
    url = pbx.inbox.add_recording(RECORDING, seconds=0.5)
    await office.post(recorded_completed(url, RECORDING))

    (item,) = (await browse(hass, f"{ENTRY_ID}/201/recording")).children
    assert item.title.endswith("0:56")  # start and end of the recording
    status, body, content_type = await play(
        hass, await admin_client(), item.media_content_id
    )
    assert (status, content_type, body) == (HTTPStatus.OK, "audio/wav", wav_bytes(0.5))
    assert voicemail_sensor(hass).state == "0"


async def link(hass: HomeAssistant, user: User, extension: str) -> None:
    """Link a Home Assistant user's person to a Wildix user (the `people` option)."""
    hass.states.async_set(
        "person.noor", "home", {"user_id": user.id, "friendly_name": "Noor"}
    )
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, "people": {"person.noor": extension}}
    )
    await hass.async_block_till_done()


async def test_non_admins_see_and_hear_only_their_own_inbox(
    hass: HomeAssistant,
    office: WildixSender,
    pbx: FakePbx,
    admin_client: Any,
    *,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: User,
) -> None:
    """Admins every inbox; a linked non-admin only theirs; an unlinked one nothing."""
    _, alice = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    _, bob = pbx.inbox.add_voicemail("202", "+4940555777889", 1741082546)
    await office.post(voicemail_completed(alice))
    await office.post(
        voicemail_completed(bob, call_id="de_w204518_1741082600.1", callee="202")
    )
    admin_items = {
        ext: (await voicemails(hass, ext))[0].media_content_id for ext in ("201", "202")
    }
    reader_token = await token(hass, hass_read_only_user)
    reader = await hass_client(reader_token)
    socket = await hass_ws_client(hass, reader_token)

    async def browse_as_reader(path: str) -> dict[str, Any]:
        await socket.send_json_auto_id(
            {"type": "media_source/browse_media", "media_content_id": path}
        )
        return await socket.receive_json()

    answer = await browse_as_reader(f"{ROOT}/{ENTRY_ID}")
    assert answer["result"]["children"] == []
    status, _, _ = await play(hass, reader, admin_items["201"])
    assert status == HTTPStatus.FORBIDDEN

    await link(hass, hass_read_only_user, "201")
    answer = await browse_as_reader(f"{ROOT}/{ENTRY_ID}")
    assert [child["title"] for child in answer["result"]["children"]] == [
        "Alice Example (1)"
    ]
    answer = await browse_as_reader(f"{ROOT}/{ENTRY_ID}/202/voicemail")
    assert not answer["success"]
    assert (await play(hass, reader, admin_items["201"]))[0] == HTTPStatus.OK
    assert (await play(hass, reader, admin_items["202"]))[0] == HTTPStatus.FORBIDDEN
    admin = await admin_client()
    assert (await play(hass, admin, admin_items["202"]))[0] == HTTPStatus.OK


async def test_a_file_that_needs_the_token_shows_why_it_does_not_play(
    hass: HomeAssistant,
    office: WildixSender,
    pbx: FakePbx,
    admin_client: Any,
) -> None:
    """Without the API connection a refused file answers 502 and turns not playable."""
    pbx.inbox.file_auth = "bearer"
    _, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await office.post(voicemail_completed(url))
    (item,) = await voicemails(hass)

    resolved = await media_source.async_resolve_media(hass, item.media_content_id, None)
    response = await (await admin_client()).get(resolved.url)
    assert response.status == HTTPStatus.BAD_GATEWAY
    assert "PBX API connection" in await response.text()
    (item,) = await voicemails(hass)
    assert not item.can_play
    assert item.title.endswith("(needs the PBX API connection)")


@pytest.mark.parametrize(
    ("knobs", "status"),
    [
        ({}, HTTPStatus.OK),
        ({"redirect": "same"}, HTTPStatus.OK),
        ({"file_prefix": "/api/spoolview"}, HTTPStatus.OK),
        ({"redirect": "other"}, HTTPStatus.BAD_GATEWAY),
        ({"content_type": "text/html"}, HTTPStatus.BAD_GATEWAY),
    ],
)
async def test_with_the_api_token_files_play_only_as_audio_from_the_pbx(
    hass: HomeAssistant,
    connected: WildixSender,
    pbx: FakePbx,
    admin_client: Any,
    *,
    knobs: dict[str, Any],
    status: HTTPStatus,
) -> None:
    """The token goes to the PBX's host only; other hosts and non-audio answers fail."""
    for knob, value in knobs.items():
        setattr(pbx.inbox, knob, value)
    _, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await connected.post(voicemail_completed(url))
    (item,) = [
        item for item in await voicemails(hass) if item.title.find("+494055577") >= 0
    ]
    answer, body, _ = await play(hass, await admin_client(), item.media_content_id)
    assert answer == status
    if status == HTTPStatus.OK:
        assert body == mp3_bytes()


async def test_more_than_20_mb_is_refused(
    hass: HomeAssistant,
    connected: WildixSender,
    pbx: FakePbx,
    admin_client: Any,
) -> None:
    """A file larger than 20 MB (by its Content-Length) is not passed on."""
    message_id, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    path = pbx.inbox.voicemails[message_id]["path"]
    pbx.inbox.files[path].body = bytes(20 * 1024 * 1024 + 1)
    await connected.post(voicemail_completed(url))
    (item,) = await voicemails(hass)
    status, _, _ = await play(hass, await admin_client(), item.media_content_id)
    assert status == HTTPStatus.BAD_GATEWAY


async def test_inbox_persists_and_leaves_with_its_user_and_entry(
    hass: HomeAssistant,
    office: WildixSender,
    pbx: FakePbx,
    hass_storage: dict[str, Any],
) -> None:
    """The inbox survives a restart; deleting the user's device or the entry removes it."""
    _, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await office.post(voicemail_completed(url))
    assert await hass.config_entries.async_reload(ENTRY_ID)
    await hass.async_block_till_done()
    assert voicemail_sensor(hass).state == "1"
    assert len(await voicemails(hass)) == 1

    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    # Only Bob gets a device now: Alice, and her inbox, go.
    hass.config_entries.async_update_entry(entry, options={"extensions": ["202"]})
    await hass.async_block_till_done()
    with pytest.raises(BrowseError):
        await voicemails(hass)
    await hass.async_block_till_done()
    hass.config_entries.async_update_entry(entry, options={"extensions": []})
    await hass.async_block_till_done()
    await office.post(voicemail_completed(None, shape="flag", call_id="x_1.1"))
    assert voicemail_sensor(hass).state == "1"  # only the new one
    assert f"{DOMAIN}.{ENTRY_ID}.inbox" in hass_storage
    assert await hass.config_entries.async_remove(ENTRY_ID)
    await hass.async_block_till_done()
    assert f"{DOMAIN}.{ENTRY_ID}.inbox" not in hass_storage


async def test_at_most_100_voicemails_per_user(
    hass: HomeAssistant, office: WildixSender, pbx: FakePbx
) -> None:
    """The 101st voicemail pushes the oldest out."""
    for number in range(101):
        await office.post(
            voicemail_completed(
                None,
                shape="flag",
                call_id=f"de_w204518_1741082520.{number}",
                time_ms=1741082571093 + number,
            )
        )
    assert voicemail_sensor(hass).state == "100"


async def test_messages_older_than_the_retention_go(
    hass: HomeAssistant, office: WildixSender, freezer: FrozenDateTimeFactory
) -> None:
    """After the option's days (30 by default) a voicemail leaves the inbox."""
    await office.post(voicemail_completed(None, shape="flag"))
    freezer.tick(timedelta(days=29))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert voicemail_sensor(hass).state == "1"
    freezer.tick(timedelta(days=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert voicemail_sensor(hass).state == "0"
    assert await voicemails(hass) == []


async def test_a_media_player_plays_through_a_signed_path(
    hass: HomeAssistant,
    office: WildixSender,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A media player gets the path signed for Home Assistant's content user: it plays."""
    _, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await office.post(voicemail_completed(url))
    (item,) = await voicemails(hass)
    resolved = await media_source.async_resolve_media(
        hass, item.media_content_id, "media_player.kitchen"
    )
    signed = async_process_play_media_url(hass, resolved.url, allow_relative_url=True)
    assert "authSig=" in signed
    client = await hass_client_no_auth()
    assert (await client.get(signed)).status == HTTPStatus.OK
    assert (await client.get(resolved.url)).status == HTTPStatus.UNAUTHORIZED


async def test_at_most_200_recordings_per_user(
    hass: HomeAssistant, office: WildixSender, pbx: FakePbx
) -> None:
    """An event listing 208 recordings for Alice leaves her the 200 newest."""
    payload = recorded_completed(pbx.url + "/r/0.wav", "0.wav")
    flow = payload["data"]["flows"][0]
    payload["data"]["flows"] = [
        {
            **flow,
            "flowIndex": index,
            "attachments": [
                {
                    "recording": {
                        "fileName": f"{index}-{number}.wav",
                        "url": f"{pbx.url}/r/{index}-{number}.wav",
                        "start": START_MS + MINUTE * (16 * index + number),
                    }
                }
                for number in range(16)
            ],
        }
        for index in range(13)
    ]
    await office.post(payload)

    items = (await browse(hass, f"{ENTRY_ID}/201/recording")).children
    assert len(items) == 200
    # Newest first; the oldest eight went.
    assert items[0].title.startswith(local_minute(START_MS + 207 * MINUTE))
    assert items[-1].title.startswith(local_minute(START_MS + 8 * MINUTE))


def local_minute(epoch_ms: int) -> str:
    """Return how an item's title shows a time (local, to the minute)."""
    moment = dt_util.as_local(dt_util.utc_from_timestamp(epoch_ms / 1000))
    return moment.strftime("%Y-%m-%d %H:%M")
