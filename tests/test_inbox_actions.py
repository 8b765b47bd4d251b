"""Voicemail with the PBX API: the list's read flags, mark read and delete, who may act, the trigger."""

from freezegun.api import FrozenDateTimeFactory
from homeassistant.auth.models import User
from homeassistant.components import media_source
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, Unauthorized
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    async_get_device_automations,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wildix.const import DOMAIN

from .common import ENTRY_ID, SECRET, WEBHOOK_ID, WildixSender, add_entry, entry_data
from .fake_pbx import FakePbx
from .inbox_events import voicemail_completed
from .moments import async_known_users, device_id
from .test_inbox import voicemail_sensor, voicemails

pytestmark = pytest.mark.usefixtures("socket_enabled")

ROOT = f"media-source://{DOMAIN}"


async def setup(
    hass: HomeAssistant,
    pbx: FakePbx | None,
    client: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> WildixSender:
    """Set up the entry (with the API when `pbx`), and the media source."""
    assert await async_setup_component(hass, "media_source", {})
    await add_entry(hass, pbx, entry_id=ENTRY_ID, **entry_data())
    await hass.async_block_till_done(wait_background_tasks=True)
    return WildixSender(hass, await client(), freezer, WEBHOOK_ID, SECRET)


def device_of(hass: HomeAssistant, extension: str) -> str:
    """Return the device id of a user."""
    return device_id(hass, f"{ENTRY_ID}_{extension}")


@pytest.mark.parametrize(
    ("style", "read_flag"),
    [
        ("plain", "read"),
        ("plain", "isRead"),
        ("asterisk", None),
        ("dated", None),
        ("plain", None),
    ],
)
async def test_the_pbx_list_gives_the_unread_count(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    *,
    style: str,
    read_flag: str | None,
) -> None:
    """The voicemail list's read flag (any name, or the folder) sets the sensor."""
    pbx.inbox.record_style, pbx.inbox.read_flag = style, read_flag
    old, _ = pbx.inbox.add_voicemail("201", "202", 1741082000)
    pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    pbx.inbox.voicemails[old]["read"] = True
    await setup(hass, pbx, hass_client_no_auth, freezer)

    # Without a flag every listed message counts until read in Home Assistant.
    assert voicemail_sensor(hass).state == (
        "2" if read_flag is None and style == "plain" else "1"
    )
    titles = [item.title for item in await voicemails(hass)]
    assert len(titles) == 2
    assert "+4940555777888" in titles[0]


async def test_the_webhook_message_and_the_listed_one_are_one(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The call's voicemail and the list's record of the same file are one message."""
    wildix = await setup(hass, pbx, hass_client_no_auth, freezer)
    message_id, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await wildix.post(voicemail_completed(url))
    hub = hass.config_entries.async_get_entry(ENTRY_ID).runtime_data  # type: ignore[union-attr]
    await hub.inbox.api.async_refresh()
    (item,) = await voicemails(hass)

    await hass.services.async_call(
        DOMAIN,
        "mark_voicemail_read",
        {"media_content_id": item.media_content_id},
        blocking=True,
    )
    assert voicemail_sensor(hass).state == "0"
    assert pbx.inbox.voicemails[message_id]["read"] is True

    await hass.services.async_call(
        DOMAIN,
        "delete_voicemail",
        {"device_id": device_of(hass, "201"), "message_id": message_id},
        blocking=True,
    )
    assert pbx.inbox.voicemails == {}
    assert await voicemails(hass) == []


async def test_without_the_api_marking_read_works_and_deleting_says_why_not(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Read in Home Assistant only; delete is a translated error."""
    wildix = await setup(hass, None, hass_client_no_auth, freezer)
    await wildix.post(voicemail_completed(None, shape="flag"))
    (item,) = await voicemails(hass)

    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "delete_voicemail",
            {"media_content_id": item.media_content_id},
            blocking=True,
        )
    assert raised.value.translation_key == "voicemail_delete_unsupported"
    # Given only the user, every voicemail of theirs is read.
    await hass.services.async_call(
        DOMAIN,
        "mark_voicemail_read",
        {"device_id": device_of(hass, "201")},
        blocking=True,
    )
    assert voicemail_sensor(hass).state == "0"
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "mark_voicemail_read",
            {"media_content_id": f"{ROOT}/x/1/voicemail/2"},
            blocking=True,
        )
    assert raised.value.translation_key == "voicemail_not_found"
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(DOMAIN, "mark_voicemail_read", {}, blocking=True)
    assert raised.value.translation_key == "voicemail_target_missing"


async def test_a_pbx_without_the_voicemail_route_keeps_the_webhook_inbox(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 404 on the list turns the feature off alone, with one log line."""
    pbx.inbox.voicemail_missing = True
    wildix = await setup(hass, pbx, hass_client_no_auth, freezer)
    assert caplog.text.count("the PBX API feature voicemail is off") == 1
    issue = f"missing_permission_{ENTRY_ID}_voicemail"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue) is not None
    _, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await wildix.post(voicemail_completed(url))
    assert voicemail_sensor(hass).state == "1"
    (item,) = await voicemails(hass)
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "delete_voicemail",
            {"media_content_id": item.media_content_id},
            blocking=True,
        )
    assert raised.value.translation_key == "voicemail_delete_unsupported"


async def test_non_admins_act_only_on_their_own_voicemail(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
    hass_read_only_user: User,
) -> None:
    """A non-admin linked to Alice may mark hers read, not Bob's."""
    wildix = await setup(hass, None, hass_client_no_auth, freezer)
    await wildix.post(voicemail_completed(None, shape="flag"))
    await wildix.post(
        voicemail_completed(None, shape="flag", call_id="x_2.2", callee="202")
    )
    hass.states.async_set("person.noor", "home", {"user_id": hass_read_only_user.id})
    entry = hass.config_entries.async_get_entry(ENTRY_ID)
    assert entry is not None
    hass.config_entries.async_update_entry(
        entry, options={"people": {"person.noor": "201"}}
    )
    await hass.async_block_till_done()
    context = Context(user_id=hass_read_only_user.id)

    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "mark_voicemail_read",
            {"device_id": device_of(hass, "202")},
            blocking=True,
            context=context,
        )
    await hass.services.async_call(
        DOMAIN,
        "mark_voicemail_read",
        {"device_id": device_of(hass, "201")},
        blocking=True,
        context=context,
    )
    assert voicemail_sensor(hass, "201").state == "0"
    assert voicemail_sensor(hass, "202").state == "1"


async def test_the_voicemail_device_trigger_fires_once(
    hass: HomeAssistant,
    pbx: FakePbx,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Alice got a voicemail: offered on her device, fired once with the message."""
    pbx.inbox.file_auth = "open"
    wildix = await setup(hass, None, hass_client_no_auth, freezer)
    device = (await async_known_users(hass, wildix, "201"))["201"]
    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, device
    )
    assert "voicemail" in {trigger["type"] for trigger in triggers}
    runs = async_mock_service(hass, "test", "voicemail")
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "triggers": [
                    {
                        "trigger": "device",
                        "domain": DOMAIN,
                        "device_id": device,
                        "type": "voicemail",
                    }
                ],
                "actions": {
                    "action": "test.voicemail",
                    "data": {"media": "{{ trigger.event.data.media_content_id }}"},
                },
            }
        },
    )
    _, url = pbx.inbox.add_voicemail("201", "+4940555777888", 1741082545)
    await wildix.post(voicemail_completed(url))
    await wildix.post(voicemail_completed(url, time_ms=1741082600000))
    await hass.async_block_till_done()

    assert len(runs) == 1
    media = runs[0].data["media"]
    resolved = await media_source.async_resolve_media(hass, media, None)
    assert resolved.mime_type == "audio/mpeg"
