"""The inbox's files on the older surfaces: media ids, never the PBX's URL; PBX writes; lengths."""

from http import HTTPStatus
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components import media_source
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.json import JSONEncoder
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wildix.const import DOMAIN, EVENT_CALL
from custom_components.wildix.diagnostics import async_get_config_entry_diagnostics

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
from .inbox_events import recorded_completed, voicemail_completed
from .test_inbox import token, voicemail_sensor, voicemails

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = f"media-source://{DOMAIN}/{ENTRY_ID}/201"
RECORDING = "2025.03.04-09.15.06-201-4930555010203-1741079700.3101-0.wav"


async def setup(
    hass: HomeAssistant,
    pbx: FakePbx,
    client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    *,
    api: bool = True,
) -> WildixSender:
    """Set up the entry (with the API connection) and the media source."""
    assert await async_setup_component(hass, "media_source", {})
    await add_entry(hass, pbx if api else None, entry_id=ENTRY_ID, **entry_data())
    await hass.async_block_till_done(wait_background_tasks=True)
    return WildixSender(hass, await client(), freezer, WEBHOOK_ID, SECRET)


def dumped(value: Any) -> str:
    """Return anything as the JSON a browser or a file would get."""
    return json.dumps(value, cls=JSONEncoder)


async def test_call_files_show_as_media_ids_never_as_pbx_urls(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    *,
    hass_admin_user: User,
) -> None:
    """Last call, wildix_event and the Calls entity name files by media id; all play."""
    wildix = await setup(hass, pbx, hass_client_no_auth, freezer)
    bus = async_capture_events(hass, EVENT_CALL)
    changed = async_capture_events(hass, EVENT_STATE_CHANGED)
    recording = pbx.inbox.add_recording(RECORDING)
    await wildix.post("call_live_progress_talking")
    await wildix.post(recorded_completed(recording, RECORDING))
    await wildix.post("call_start_inbound_missed")
    _, voicemail = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await wildix.post(voicemail_completed(voicemail))

    ended = [event.data for event in bus if event.data["type"] == "call_ended"]
    assert [data["extension"] for data in ended] == ["201", "201"]
    recorded, voicemailed = (data["attachments"] for data in ended)
    (file,) = recorded
    assert set(file) == {"type", "name", "time", "media_content_id"}
    assert file["type"] == "recording"
    assert file["name"] == RECORDING
    assert file["time"] == "2025-03-04T09:15:06.274000+00:00"
    assert file["media_content_id"].startswith(f"{ROOT}/recording/")
    (message,) = voicemailed
    assert message["type"] == "voicemail"
    (listed,) = await voicemails(hass)
    assert message["media_content_id"] == listed.media_content_id
    last_call = user_state(hass, "201", "last_call")
    assert last_call.attributes["attachments"] == voicemailed
    calls = user_state(hass, "201", "calls").entity_id
    entity_ended = [
        event.data["new_state"].attributes["attachments"]
        for event in changed
        if event.data["entity_id"] == calls
        and event.data["new_state"].attributes["event_type"] == "call_ended"
    ]
    assert entity_ended == [recorded, voicemailed]

    access = await token(hass, hass_admin_user)

    async def admin() -> Any:
        return await hass_client(access)

    # Each media id plays through Home Assistant.
    for media in (file["media_content_id"], message["media_content_id"]):
        resolved = await media_source.async_resolve_media(hass, media, None)
        assert resolved.url.startswith("/api/wildix/")
        response = await (await admin()).get(resolved.url)
        assert response.status == HTTPStatus.OK
    # No state or bus event names the PBX; no diagnostics name its files or token.
    browser = dumped(
        {
            "states": [state.as_dict() for state in hass.states.async_all()],
            "events": [event.data for event in bus],
        }
    )
    assert pbx.url not in browser
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    diagnostics = dumped(await async_get_config_entry_diagnostics(hass, entry))
    for surface in (browser, diagnostics):
        assert "spoolview" not in surface
        assert pbx.token not in surface


async def test_a_file_the_inbox_does_not_keep_has_no_media_id(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A fax is no inbox item: kind and name only, and still no URL."""
    wildix = await setup(hass, pbx, hass_client_no_auth, freezer, api=False)
    payload = voicemail_completed(None, shape="flag")
    fax = f"{pbx.url}/spoolview/fax/201/fax-0001.pdf"
    payload["data"]["flows"][0]["attachments"] = [
        {"fax": {"url": fax, "fileName": "fax-0001.pdf"}}
    ]
    await wildix.post(payload)
    attributes = user_state(hass, "201", "last_call").attributes
    assert attributes["attachments"] == [
        {
            "type": "fax",
            "name": "fax-0001.pdf",
            "time": None,
            "media_content_id": None,
        }
    ]
    assert fax not in dumped(attributes)


@pytest.mark.parametrize("answer", ["envelope", "empty", "success", "object"])
async def test_voicemail_writes_succeed_on_any_2xx_without_an_error(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    answer: str,
) -> None:
    """Mark read and delete accept an empty body, "Success", {} and the envelope."""
    pbx.inbox.write_answer = answer
    first, _ = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    second, _ = pbx.inbox.add_voicemail("201", "202", 1741082600)
    await setup(hass, pbx, hass_client_no_auth, freezer)
    items = {item.title: item for item in await voicemails(hass)}
    assert voicemail_sensor(hass).state == "2"
    (outside,) = [item for title, item in items.items() if "+4940555777888" in title]

    await hass.services.async_call(
        DOMAIN,
        "mark_voicemail_read",
        {"media_content_id": outside.media_content_id},
        blocking=True,
    )
    assert pbx.inbox.voicemails[first]["read"] is True
    assert voicemail_sensor(hass).state == "1"
    await hass.services.async_call(
        DOMAIN,
        "delete_voicemail",
        {"media_content_id": outside.media_content_id},
        blocking=True,
    )
    assert list(pbx.inbox.voicemails) == [second]
    assert len(await voicemails(hass)) == 1


@pytest.mark.parametrize("answer", ["refused", "html"])
async def test_voicemail_writes_fail_on_anything_else(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    answer: str,
) -> None:
    """The error envelope (even with 200) or a 400 page: an error, nothing deleted."""
    pbx.inbox.write_answer = answer
    message_id, _ = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await setup(hass, pbx, hass_client_no_auth, freezer)
    (item,) = await voicemails(hass)

    for action in ("mark_voicemail_read", "delete_voicemail"):
        with pytest.raises(HomeAssistantError):
            await hass.services.async_call(
                DOMAIN,
                action,
                {"media_content_id": item.media_content_id},
                blocking=True,
            )
    assert pbx.inbox.voicemails[message_id]["read"] is False
    assert len(await voicemails(hass)) == 1


async def test_the_list_gives_a_webhook_voicemail_its_length(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Call events carry no voicemail length; the PBX's list does: the title shows it."""
    wildix = await setup(hass, pbx, hass_client_no_auth, freezer)
    _, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545, duration=7)
    await wildix.post(voicemail_completed(url))
    (item,) = await voicemails(hass)
    assert not item.title.endswith("0:07")
    assert voicemail_sensor(hass).attributes["last_duration"] is None

    hub = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data  # type: ignore[union-attr]
    await hub.inbox.api.async_refresh()
    (item,) = await voicemails(hass)
    assert item.title.endswith("· 0:07")
    assert voicemail_sensor(hass).attributes["last_duration"] == 7


@pytest.mark.parametrize("shape", ["nested", "deprecated", "flat"])
async def test_the_pass_through_carries_no_pbx_file_url(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    *,
    shape: str,
) -> None:
    """wildix_webhook keeps Wildix's data but drops every link to the PBX's files."""
    wildix = await setup(hass, pbx, hass_client_no_auth, freezer)
    raw = async_capture_events(hass, "wildix_webhook")
    _, voicemail = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    recording = pbx.inbox.add_recording(RECORDING)
    sent = [
        await wildix.post(voicemail_completed(voicemail, shape=shape)),
        await wildix.post(recorded_completed(recording, RECORDING)),
    ]

    assert len(raw) == 2
    passed = dumped([event.data["data"] for event in raw])
    assert pbx.inbox.url not in passed
    assert "/spoolview/" not in passed
    # The rest came as it was: the flags, the deprecated type, the file name, owner, times.
    voicemail_flow = raw[0].data["data"]["flows"][0]
    sent_flow = sent[0]["data"]["flows"][0]
    assert voicemail_flow.get("flags") == sent_flow.get("flags")
    assert voicemail_flow.get("attachmentType") == sent_flow.get("attachmentType")
    assert "attachment" not in voicemail_flow
    if shape == "nested":
        assert voicemail_flow["attachments"] == [
            {
                "voicemail": {
                    "owner": "callee",
                    "destinations": [{"email": "alice@example.com"}],
                }
            }
        ]
    (recorded,) = raw[1].data["data"]["flows"][0]["attachments"]
    assert recorded == {
        "recording": {
            "fileName": RECORDING,
            "start": 1741079706274,
            "end": 1741079762140,
            "owner": "callee",
            "pauses": [],
        }
    }
    # The files still play through Home Assistant.
    assert len(await voicemails(hass)) == 1
