"""The "Voicemail to my phone" blueprint: one notification per voicemail, with a button to it."""

from urllib.parse import unquote

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from .common import ENTRY_ID, WildixSender
from .inbox_events import voicemail_completed
from .moments import async_known_users
from .test_blueprints import blueprints_installed, use_blueprints

__all__ = ["blueprints_installed"]


@pytest.mark.usefixtures("blueprints_installed")
async def test_voicemail_to_my_phone(hass: HomeAssistant, wildix: WildixSender) -> None:
    """A voicemail sends one notification naming the caller, whose button opens it."""
    devices = await async_known_users(hass, wildix, "201")
    notified = async_mock_service(hass, "notify", "phone")
    await use_blueprints(
        hass,
        (
            "voicemail_to_my_phone.yaml",
            {"pbx_user": devices["201"], "notify_action": "notify.phone"},
        ),
    )
    await wildix.post(voicemail_completed(None, shape="flag"))
    await wildix.post(voicemail_completed(None, shape="flag", time_ms=1741082600000))

    (call,) = notified
    # 10:02 UTC is 02:02 in the test configuration's time zone (US/Pacific).
    assert call.data["title"] == "New voicemail"
    assert (
        call.data["message"] == "+4940555777888 left Alice Example a voicemail at 02:02"
    )
    (button,) = call.data["data"]["actions"]
    assert button["title"] == "Listen"
    segments = [unquote(part) for part in button["uri"].split("/")]
    assert segments[:3] == ["", "media-browser", "browser"]
    assert segments[3:] == [
        "app,media-source://wildix",
        f"directory,media-source://wildix/{ENTRY_ID}",
        f"directory,media-source://wildix/{ENTRY_ID}/201",
        f"directory,media-source://wildix/{ENTRY_ID}/201/voicemail",
    ]
    assert call.data["data"]["clickAction"] == button["uri"]
