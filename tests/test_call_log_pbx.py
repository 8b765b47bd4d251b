"""The call log with the PBX API: calls from the PBX's history, names from its phonebooks."""

from datetime import datetime, timedelta, timezone
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockUser, async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.wildix import coordinator
from custom_components.wildix.const import DOMAIN, EVENT_CALL

from .calls import INBOUND_MISSED
from .common import (
    ENTRY_ID,
    SECRET,
    WEBHOOK_ID,
    WildixSender,
    add_entry,
    entity_id,
    entry_data,
)
from .fake_pbx import FakePbx
from .test_call_log import _calendar, _events, _items, _todo

pytestmark = pytest.mark.usefixtures("socket_enabled")


def cdr(row_id: str, start: str, end: str, **fields: str) -> dict[str, str]:
    """Return a CDR row as the manual shows it: strings, local times, an offset."""
    return {
        "id": row_id,
        "start": start,
        "answer": "",
        "end": end,
        "timezone": "+0100",
        "from_number": "+4930555010203",
        "from_name": "+4930555010203",
        "to_number": "201",
        "to_name": "Alice Martin",
        "duration": "0",
        "billsec": "0",
        "disposition": "NO ANSWER",
        "lastapp": "Dial",
        "lastdata": "SIP/201",
        "userfield": "",
        "channel": "SIP/trunk1-0000001a",
        "dstchannel": "",
        "type": "call",
    } | fields


YESTERDAY = [
    cdr(
        "9001",
        "2025-03-03 15:00:00",
        "2025-03-03 15:00:56",
        answer="2025-03-03 15:00:06",
        disposition="ANSWERED",
        billsec="50",
        duration="56",
    ),
    cdr(
        "9002",
        "2025-03-03 16:00:00",
        "2025-03-03 16:00:41",
        from_number="+4940555777888",
        from_name="+4940555777888",
        lastapp="VoiceMail",
        userfield="VM:/201/INBOX/msg1741014000-0002.mp3",
    ),
    cdr("9003", "2025-03-03 16:30:00", "2025-03-03 16:30:00", type="fax"),
    # Bob dials out with a 00 prefix, as the history shows outbound numbers.
    cdr(
        "9004",
        "2025-03-03 17:00:00",
        "2025-03-03 17:03:00",
        from_number="202",
        from_name="Bruno Keller",
        to_number="004989555123456",
        to_name="004989555123456",
        disposition="ANSWERED",
        billsec="170",
        channel="SIP/202-0000001c",
    ),
]
# The call the webhook reports too: +4940555777888 rings Alice at 10:02 UTC.
TODAY_LIVE = cdr(
    "9005",
    "2025-03-04 11:02:00",
    "2025-03-04 11:02:25",
    from_number="+4940555777888",
    from_name="+4940555777888",
)


def _history_fetches(pbx: FakePbx) -> list[Any]:
    """Return the history's first pages asked for a window (not the probe, not paging)."""
    return [
        request
        for request in pbx.requests
        if "callhistory" in request[1].lower()
        and "filter[start][from]" in request[2]
        and request[2].get("start") == "0"
    ]


async def test_the_calendar_shows_calls_from_before_home_assistant(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Yesterday's history, read in pages of two, joins today's live call once."""
    pbx.history = [*YESTERDAY, TODAY_LIVE]
    pbx.history_page = 2
    wildix = await _office(hass, pbx, freezer, hass_client_no_auth)
    await wildix.post_all(*INBOUND_MISSED)
    events = await _events(hass, _calendar(hass), "2025-03-03")
    assert [event["summary"] for event in events] == [
        "Call with +4930555010203",
        "Missed call from +4940555777888",
        "Missed call from +4940555777888",
    ]
    answered, voicemail, _live = events
    assert answered["start"].startswith("2025-03-03T14:00:00")
    assert "Talked for 0:50" in answered["description"]
    assert "A voicemail was left" in voicemail["description"]
    bob = await _events(hass, _calendar(hass, "202"), "2025-03-03")
    assert [event["summary"] for event in bob] == ["Call with 004989555123456"]
    # Yesterday is fetched once; the missed calls are one callback with two attempts.
    asked = len(_history_fetches(pbx))
    await _events(hass, _calendar(hass), "2025-03-02")
    assert len(_history_fetches(pbx)) > asked  # the 2nd was not asked for yet
    asked = len(_history_fetches(pbx))
    await _events(hass, _calendar(hass, "202"), "2025-03-02")
    assert len(_history_fetches(pbx)) == asked + 1  # only today again
    (item,) = await _items(hass, _todo(hass))
    assert item["description"].startswith("+4940555777888: 2 missed")


async def test_a_users_token_reads_its_own_users_history(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A user's token may not read the PBX's history: its user's own route serves it."""
    with patch.object(coordinator, "API_TIMEOUT", 0.5):
        async with FakePbx(profile="user") as pbx:
            pbx.history = [*YESTERDAY, TODAY_LIVE]
            wildix = await _office(hass, pbx, freezer, hass_client_no_auth)
            await wildix.post_all(*INBOUND_MISSED)
            events = await _events(hass, _calendar(hass), "2025-03-03")
            assert [event["summary"] for event in events] == [
                "Call with +4930555010203",
                "Missed call from +4940555777888",
                "Missed call from +4940555777888",
            ]
            fetched = {
                request[1].lower().rstrip("/") for request in _history_fetches(pbx)
            }
            assert fetched == {"/api/v1/user/201/callhistory"}
            assert not ir.async_get(hass).async_get_issue(
                "wildix", f"missing_permission_{ENTRY_ID}_call_history"
            )


async def test_a_pbx_that_ignores_the_date_filter(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Rows outside the window the PBX answers anyway are not shown in it."""
    pbx.history = [
        cdr("8001", "2025-02-01 09:00:00", "2025-02-01 09:01:00"),
        *YESTERDAY,
    ]
    pbx.history_filters = False
    pbx.total_as_number = True
    wildix = await _office(hass, pbx, freezer, hass_client_no_auth)
    assert wildix is not None
    events = await _events(hass, _calendar(hass), "2025-03-03")
    assert len(events) == 2


async def test_names_come_from_the_phonebooks(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A number without a name gets the contact's name and company, however written."""
    pbx.contacts = [
        {
            "id": "17",
            "name": "Noor Haddad",
            "organization": "Haddad Logistik",
            "phone": "",
            "mobile": "040 555 777888",
            "phonebook_id": "2",
        },
        {"id": "18", "name": "", "phone": "+4930555010203"},
    ]
    wildix = await _office(hass, pbx, freezer, hass_client_no_auth)
    moments = async_capture_events(hass, EVENT_CALL)
    await wildix.post_all(*INBOUND_MISSED)
    events = await _events(hass, _calendar(hass), "2025-03-04")
    assert [event["summary"] for event in events] == [
        "Missed call from Noor Haddad (Haddad Logistik)"
    ]
    # The moments on the bus (and so the logbook) and the Calls event entity too.
    assert moments
    for moment in moments:
        assert moment.data["remote_name"] == "Noor Haddad (Haddad Logistik)"
        assert moment.data["remote_name_source"] == "phonebook"
    calls = hass.states.get(entity_id(hass, "event", f"{ENTRY_ID}_201_calls"))
    assert calls is not None
    assert calls.attributes["remote_name"] == "Noor Haddad (Haddad Logistik)"
    assert calls.attributes["remote_name_source"] == "phonebook"
    (item,) = await _items(hass, _todo(hass))
    assert item["summary"] == "Call back Noor Haddad (Haddad Logistik)"
    last_call = hass.states.get(entity_id(hass, "sensor", f"{ENTRY_ID}_201_last_call"))
    assert last_call is not None
    assert last_call.attributes["remote_name"] == "Noor Haddad (Haddad Logistik)"
    assert last_call.attributes["remote_name_source"] == "phonebook"


async def test_the_phonebooks_are_read_again_on_demand(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    hass_read_only_user: MockUser,
) -> None:
    """`wildix.refresh_phonebook` brings a contact added on the PBX since setup at once."""
    wildix = await _office(hass, pbx, freezer, hass_client_no_auth)
    await wildix.post_all(*INBOUND_MISSED)
    pbx.contacts = [{"id": "17", "name": "Noor Haddad", "mobile": "040 555 777888"}]
    summaries = [
        event["summary"] for event in await _events(hass, _calendar(hass), "2025-03-04")
    ]
    assert summaries == ["Missed call from +4940555777888"]
    refresh = {"config_entry_id": ENTRY_ID}
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "refresh_phonebook",
            refresh,
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    await hass.services.async_call(DOMAIN, "refresh_phonebook", refresh, blocking=True)
    summaries = [
        event["summary"] for event in await _events(hass, _calendar(hass), "2025-03-04")
    ]
    assert summaries == ["Missed call from Noor Haddad"]
    (item,) = await _items(hass, _todo(hass))
    assert item["summary"] == "Call back Noor Haddad"

    with pytest.raises(ServiceValidationError) as invalid:
        await hass.services.async_call(
            DOMAIN, "refresh_phonebook", {"config_entry_id": "nope"}, blocking=True
        )
    assert invalid.value.translation_key == "unknown_entry"
    # A PBX that now refuses the phonebooks: the action says so and turns them off.
    pbx.failing["/api/v1/contacts"] = 403
    for _ in range(2):
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call(
                DOMAIN, "refresh_phonebook", refresh, blocking=True
            )
        assert refused.value.translation_key == "missing_permission"
    assert ir.async_get(hass).async_get_issue(
        "wildix", f"missing_permission_{ENTRY_ID}_contacts"
    )
    # The names read before stay.
    (item,) = await _items(hass, _todo(hass))
    assert item["summary"] == "Call back Noor Haddad"


async def test_refused_features_turn_off_alone(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """403 on the history and 404 on the contacts: each off alone, with a repair issue.

    Live calls still fill the log.
    """
    pbx.history = YESTERDAY
    pbx.failing["/api/v1/pbx/callhistory"] = 403
    pbx.missing.add("/api/v1/contacts")
    wildix = await _office(hass, pbx, freezer, hass_client_no_auth)
    await wildix.post_all(*INBOUND_MISSED)
    for _ in range(2):
        events = await _events(hass, _calendar(hass), "2025-03-03")
        assert [event["summary"] for event in events] == [
            "Missed call from +4940555777888"
        ]
    issues = ir.async_get(hass)
    for feature in ("call_history", "contacts"):
        assert caplog.text.count(f"the PBX API feature {feature} is off") == 1
        assert issues.async_get_issue(
            "wildix", f"missing_permission_{ENTRY_ID}_{feature}"
        )
    # The capability probe asked; the calendar never fetched.
    assert _history_fetches(pbx) == []


async def _office(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> WildixSender:
    """Set up an entry connected to the fake PBX in Berlin; return its event sender."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.config.country = "DE"
    assert await async_setup_component(hass, "webhook", {})
    await add_entry(hass, pbx, **entry_data())
    await hass.async_block_till_done(wait_background_tasks=True)
    return WildixSender(hass, await hass_client_no_auth(), freezer, WEBHOOK_ID, SECRET)


async def test_a_pbx_in_another_time_zone(
    hass: HomeAssistant,
    pbx: FakePbx,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The PBX writes Tokyo time (+0900), Home Assistant is in Berlin: the right day."""
    pbx.history = [
        # 2025-03-03 23:30 in Tokyo is 15:30 in Berlin on the 3rd.
        cdr("7001", "2025-03-03 23:30:00", "2025-03-03 23:31:00", timezone="+0900"),
        # 2025-03-04 07:30 in Tokyo is 23:30 in Berlin on the 3rd.
        cdr("7002", "2025-03-04 07:30:00", "2025-03-04 07:31:00", timezone="+0900"),
        # 2025-03-04 09:00 in Tokyo is 01:00 in Berlin on the 4th: not the 3rd.
        cdr("7003", "2025-03-04 09:00:00", "2025-03-04 09:01:00", timezone="+0900"),
    ]
    await _office(hass, pbx, freezer, hass_client_no_auth)
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "start_date_time": "2025-03-03T00:00:00+01:00",
            "end_date_time": "2025-03-04T00:00:00+01:00",
        },
        target={"entity_id": _calendar(hass)},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    events = response[_calendar(hass)]["events"]  # type: ignore[index]
    berlin = timezone(timedelta(hours=1))
    assert [datetime.fromisoformat(event["start"]) for event in events] == [  # type: ignore[index]
        datetime(2025, 3, 3, 15, 30, tzinfo=berlin),
        datetime(2025, 3, 3, 23, 30, tzinfo=berlin),
    ]
