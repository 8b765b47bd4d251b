"""Who may act: people linked to PBX users, actions and do not disturb by Home Assistant user, dial rules."""

from typing import Any

from homeassistant.auth.models import User
from homeassistant.components import person
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.wildix.const import DOMAIN

from .common import ENTRY_ID, entry_data
from .fake_pbx import FakePbx

pytestmark = pytest.mark.usefixtures("socket_enabled")

SETTINGS = {
    "extensions": [],
    "stale_call_timeout": 4,
    "max_event_age": 10,
    "show_remote": True,
    "max_users": 1000,
}
BRUNO_DND = "switch.bruno_keller_do_not_disturb"
CHIARA_DND = "switch.chiara_rossi_do_not_disturb"


@pytest.fixture(autouse=True)
async def components(hass: HomeAssistant) -> None:
    """Load the webhook and person components."""
    assert await async_setup_component(hass, "webhook", {})
    assert await async_setup_component(hass, "person", {})


@pytest.fixture
async def noor(hass: HomeAssistant, hass_owner_user: User) -> User:
    """Return a Home Assistant user who is not an administrator, the person Noor.

    The owner exists first: the first user made becomes the owner, an administrator.
    """
    user = await hass.auth.async_create_user("Noor", group_ids=["system-users"])
    await person.async_create_person(hass, "Noor", user_id=user.id)
    return user


@pytest.fixture
async def lena(hass: HomeAssistant, hass_owner_user: User) -> User:
    """Return another Home Assistant user who is not an administrator, the person Lena."""
    user = await hass.auth.async_create_user("Lena", group_ids=["system-users"])
    await person.async_create_person(hass, "Lena", user_id=user.id)
    return user


async def _entry(hass: HomeAssistant, pbx: FakePbx, **options: Any) -> MockConfigEntry:
    """Set up an entry connected to the fake PBX, with options."""
    data = entry_data(pbx_url=pbx.url, api_token=pbx.token, verify_ssl=True)
    entry = MockConfigEntry(
        domain=DOMAIN, title="Office", entry_id=ENTRY_ID, data=data, options=options
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


def _device(hass: HomeAssistant, extension: str) -> str:
    """Return the device id of a PBX user."""
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, ENTRY_ID):
        if (DOMAIN, f"{ENTRY_ID}_{extension}") in device.identifiers:
            return device.id
    raise AssertionError(f"no device for {extension}")


def _writes(pbx: FakePbx) -> list[tuple[str, str]]:
    """Return the requests that change something on the fake PBX."""
    return [(method, path) for method, path, _, _ in pbx.requests if method != "GET"]


async def _act(
    hass: HomeAssistant, user: User | None, action: str, **data: Any
) -> None:
    """Call an action as a Home Assistant user (None: as an automation does)."""
    await hass.services.async_call(
        DOMAIN,
        action,
        data,
        blocking=True,
        context=Context(user_id=None if user is None else user.id),
    )


async def _switch(
    hass: HomeAssistant, user: User | None, service: str, entity_id: str
) -> None:
    """Turn a switch on or off as a Home Assistant user."""
    await hass.services.async_call(
        "switch",
        service,
        {"entity_id": entity_id},
        blocking=True,
        context=Context(user_id=None if user is None else user.id),
    )


# Options flow: people and dial prefixes


async def _open_people_step(
    hass: HomeAssistant, entry: MockConfigEntry, **settings: Any
) -> ConfigFlowResult:
    """Submit the settings step, which leads to the people step."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], SETTINGS | settings
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "people"
    return result


def _fields(result: ConfigFlowResult) -> dict[str, Any]:
    """Return a form's fields by name."""
    return {str(key): key for key in result["data_schema"].schema}


@pytest.mark.usefixtures("noor", "lena")
async def test_people_step_links_several_persons_at_once(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """Every person is a field offering the PBX's users; several are linked in one go."""
    entry = await _entry(hass, pbx)
    result = await _open_people_step(hass, entry)
    fields = _fields(result)
    assert list(fields) == ["person.lena", "person.noor"]
    selector = result["data_schema"].schema[fields["person.noor"]]
    assert selector.config["options"] == [
        {"value": "201", "label": "Alice Martin (201)"},
        {"value": "202", "label": "Bruno Keller (202)"},
        {"value": "203", "label": "Chiara Rossi (203)"},
        {"value": "204", "label": "Reception (204)"},
    ]
    assert "multiple" not in selector.config or not selector.config["multiple"]
    assert result["description_placeholders"] == {
        "persons": "- person.lena: Lena\n- person.noor: Noor"
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"person.noor": "202", "person.lena": " 203 "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["people"] == {"person.noor": "202", "person.lena": "203"}
    # The settings of the first step are saved with them.
    assert entry.options["max_users"] == 1000


@pytest.mark.usefixtures("noor", "lena")
async def test_people_step_shows_links_and_unlinks_an_empty_field(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """Saved links are the fields' values; a field left empty removes its link."""
    entry = await _entry(hass, pbx, people={"person.noor": "202", "person.lena": "203"})
    result = await _open_people_step(hass, entry)
    fields = _fields(result)
    assert {
        name: key.description["suggested_value"] for name, key in fields.items()
    } == {"person.noor": "202", "person.lena": "203"}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"person.noor": "204"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["people"] == {"person.noor": "204"}


@pytest.mark.usefixtures("noor", "lena")
async def test_people_step_refuses_an_unknown_extension(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """A person linked to an extension the PBX has no user for is a form error; nothing is saved."""
    entry = await _entry(hass, pbx)
    result = await _open_people_step(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"person.noor": "299", "person.lena": "203"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"person.noor": "unknown_extension"}
    assert "people" not in entry.options

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"person.noor": "202", "person.lena": "203"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["people"] == {"person.noor": "202", "person.lena": "203"}


@pytest.mark.usefixtures("noor")
async def test_people_step_keeps_a_link_to_a_user_who_left(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """A saved link whose user left the directory does not block saving other options."""
    pbx.remove_user("203")
    entry = await _entry(hass, pbx, people={"person.noor": "203", "person.gone": "202"})
    result = await _open_people_step(hass, entry)
    selector = result["data_schema"].schema[_fields(result)["person.noor"]]
    assert {"value": "203", "label": "203"} in selector.config["options"]

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"person.noor": "203"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # The link of a person who no longer exists is dropped.
    assert entry.options["people"] == {"person.noor": "203"}


async def test_dial_prefixes_are_saved_without_separators(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """Prefixes lose their separators and repeats; without persons the settings are saved at once."""
    entry = await _entry(hass, pbx)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        SETTINGS | {"dial_prefixes": ["+41 ", "(0041) 22", "+4-1", "0"]},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["dial_prefixes"] == ["+41", "004122", "0"]


@pytest.mark.parametrize("prefix", ["*72", "#", "+", "41a", "++41", "1" * 16, " "])
async def test_invalid_dial_prefix(
    hass: HomeAssistant, pbx: FakePbx, prefix: str
) -> None:
    """A prefix that is not digits (with an optional +) is a form error; nothing is saved."""
    entry = await _entry(hass, pbx)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], SETTINGS | {"dial_prefixes": ["+41", prefix]}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"dial_prefixes": "invalid_dial_prefix"}
    assert entry.options == {}


# Actions by Home Assistant user


async def test_admins_and_automations_act_for_every_user(
    hass: HomeAssistant, pbx: FakePbx, hass_admin_user: User
) -> None:
    """An administrator and a call without a user act for any Wildix user, linked or not."""
    await _entry(hass, pbx)
    for user in (hass_admin_user, None):
        await _act(hass, user, "call", device_id=_device(hass, "202"), number="203")
        await _act(
            hass, user, "set_presence", device_id=_device(hass, "203"), status="away"
        )
        await _act(hass, user, "hang_up", device_id=_device(hass, "204"))
    assert [call.callee_number for call in pbx.calls["202"]] == ["203", "203"]
    assert pbx.users["203"].presence == "away"


async def test_a_linked_user_acts_only_for_their_wildix_user(
    hass: HomeAssistant, pbx: FakePbx, noor: User
) -> None:
    """A non-admin acts for the Wildix user of their person; for anyone else: Unauthorized."""
    await _entry(hass, pbx, people={"person.noor": "202"})
    await _act(hass, noor, "call", device_id=_device(hass, "202"), number="203")
    assert [call.callee_number for call in pbx.calls["202"]] == ["203"]
    await _act(hass, noor, "hang_up", device_id=_device(hass, "202"))
    assert pbx.calls["202"] == []
    await _act(hass, noor, "set_presence", device_id=_device(hass, "202"), status="dnd")
    assert pbx.users["202"].presence == "dnd"

    pbx.requests.clear()
    for action, data in (
        ("call", {"number": "0225550123"}),
        ("set_presence", {"status": "away"}),
        ("hang_up", {}),
    ):
        with pytest.raises(Unauthorized):
            await _act(hass, noor, action, device_id=_device(hass, "203"), **data)
    # Several users at once: one the user may not act for stops them all.
    with pytest.raises(Unauthorized):
        await _act(
            hass,
            noor,
            "set_presence",
            device_id=[_device(hass, "202"), _device(hass, "203")],
            status="away",
        )
    assert _writes(pbx) == []
    assert (pbx.users["202"].presence, pbx.users["203"].presence) == ("dnd", "")


async def test_unlinked_and_read_only_users_may_not_act(
    hass: HomeAssistant,
    pbx: FakePbx,
    lena: User,
    hass_read_only_user: User,
) -> None:
    """A user without a linked person, read-only or not, acts for nobody; a deleted user neither."""
    await _entry(hass, pbx, people={"person.noor": "202"})
    ghost = await hass.auth.async_create_user("Ghost", group_ids=["system-users"])
    assert not ghost.is_admin
    await hass.auth.async_remove_user(ghost)
    pbx.requests.clear()
    for user in (lena, hass_read_only_user, ghost):
        for extension in ("201", "202"):
            with pytest.raises(Unauthorized):
                await _act(
                    hass, user, "call", device_id=_device(hass, extension), number="203"
                )
    assert _writes(pbx) == []


async def test_a_link_made_in_the_options_applies_at_once(
    hass: HomeAssistant, pbx: FakePbx, noor: User
) -> None:
    """Linking a person through the options flow lets their user act, without a reload."""
    entry = await _entry(hass, pbx)
    with pytest.raises(Unauthorized):
        await _act(hass, noor, "call", device_id=_device(hass, "203"), number="202")

    result = await _open_people_step(hass, entry)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"person.noor": "203"}
    )
    await hass.async_block_till_done()
    await _act(hass, noor, "call", device_id=_device(hass, "203"), number="202")
    assert [call.callee_number for call in pbx.calls["203"]] == ["202"]


# Do not disturb by Home Assistant user


async def test_dnd_switch_follows_who_may_act(
    hass: HomeAssistant, pbx: FakePbx, noor: User, hass_admin_user: User
) -> None:
    """A non-admin switches only their own user's do not disturb; an admin any user's."""
    await _entry(hass, pbx, people={"person.noor": "202"})
    await _switch(hass, noor, "turn_on", BRUNO_DND)
    assert pbx.users["202"].presence == "dnd"

    pbx.requests.clear()
    before = hass.states.get(CHIARA_DND)
    assert before is not None
    with pytest.raises(Unauthorized):
        await _switch(hass, noor, "turn_on", CHIARA_DND)
    assert _writes(pbx) == []
    after = hass.states.get(CHIARA_DND)
    assert after is not None
    assert after.state == before.state

    await _switch(hass, hass_admin_user, "turn_on", CHIARA_DND)
    await _switch(hass, None, "turn_off", BRUNO_DND)
    # The fake PBX keeps "available" as no presence, as Wildix does.
    assert (pbx.users["203"].presence, pbx.users["202"].presence) == ("dnd", "")


# Dial rules


async def _refused_number(
    hass: HomeAssistant, number: str, key: str, extension: str = "202"
) -> ServiceValidationError:
    """Call a number that must be refused; return the translated error."""
    with pytest.raises(ServiceValidationError) as caught:
        await _act(
            hass, None, "call", device_id=_device(hass, extension), number=number
        )
    assert caught.value.translation_domain == DOMAIN
    assert caught.value.translation_key == key
    message = str(caught.value)
    assert message and "{" not in message, message
    return caught.value


@pytest.mark.parametrize("number", ["*72", "#31#0225550123", "*21*203#", "203#"])
async def test_feature_codes_are_refused_without_prefixes(
    hass: HomeAssistant, pbx: FakePbx, number: str
) -> None:
    """Without prefixes, feature codes (* or #) are refused; nothing reaches the PBX."""
    await _entry(hass, pbx)
    pbx.requests.clear()
    error = await _refused_number(hass, number, "dial_feature_code")
    assert error.translation_placeholders["number"] == number
    assert _writes(pbx) == []


async def test_any_number_without_prefixes(hass: HomeAssistant, pbx: FakePbx) -> None:
    """Without prefixes, internal and outside numbers alike are dialled."""
    await _entry(hass, pbx)
    for number in ("203", "+1 (212) 555-0100", "00882 1234", "0900 123 456"):
        await _act(hass, None, "call", device_id=_device(hass, "202"), number=number)
    assert [call.callee_number for call in pbx.calls["202"]] == [
        "203",
        "+12125550100",
        "008821234",
        "0900123456",
    ]


async def test_prefixes_allow_only_them_and_internal_extensions(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """With prefixes: the PBX's users' extensions and numbers starting with a prefix only."""
    await _entry(hass, pbx, dial_prefixes=["+41", "0 22"])
    for number in ("203", "+41 22 555 01 23", "022.555.01.23", "(022) 555-0123"):
        await _act(hass, None, "call", device_id=_device(hass, "202"), number=number)
    assert [call.callee_number for call in pbx.calls["202"]] == [
        "203",
        "+41225550123",
        "0225550123",
        "0225550123",
    ]

    pbx.requests.clear()
    for number in ("+1 212 555 0100", "0900 123 456", "299", "4122"):
        error = await _refused_number(hass, number, "dial_not_allowed")
        assert error.translation_placeholders == {
            "number": number,
            "entry": "Office",
            "prefixes": "+41, 022",
        }
    await _refused_number(hass, "*72", "dial_feature_code")
    assert _writes(pbx) == []


async def test_prefixes_allow_directory_users_without_devices(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """A user the option's user filter leaves without a device is still an internal number."""
    await _entry(hass, pbx, extensions=["202"], dial_prefixes=["+41"])
    await _act(hass, None, "call", device_id=_device(hass, "202"), number="204")
    assert [call.callee_number for call in pbx.calls["202"]] == ["204"]
    await _refused_number(hass, "299", "dial_not_allowed")


async def test_a_malformed_saved_prefix_never_allows_every_number(
    hass: HomeAssistant, pbx: FakePbx
) -> None:
    """Prefixes edited by hand into nonsense leave only internal numbers, not every one."""
    await _entry(hass, pbx, dial_prefixes=["call anyone"])
    await _act(hass, None, "call", device_id=_device(hass, "202"), number="203")
    await _refused_number(hass, "+41225550123", "dial_not_allowed")
