"""The integration's data files: translations, icons and the quality scale agree with the code."""

from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.helpers.service import _SERVICES_SCHEMA
import pytest
import yaml

from custom_components.wildix.api_entities import (
    DIALPLAN_SWITCH,
    PBX_VERSION,
    REGISTERED,
)
from custom_components.wildix.binary_sensor import BINARY_SENSORS
from custom_components.wildix.calendar import CALL_LOG
from custom_components.wildix.call_log_services import (
    REFRESH_PHONEBOOK_SCHEMA,
    SERVICE_REFRESH_PHONEBOOK,
)
from custom_components.wildix.daily_stats import DAILY_SENSORS
from custom_components.wildix.devices import USER_MODEL
from custom_components.wildix.event import CALLS
from custom_components.wildix.inbox_services import (
    DELETE_SCHEMA,
    MARK_READ_SCHEMA,
    SERVICE_DELETE_VOICEMAIL,
    SERVICE_MARK_VOICEMAIL_READ,
)
from custom_components.wildix.issues import TRANSPORT_ISSUES, Issue
from custom_components.wildix.pbx_presence import PresenceStatus
from custom_components.wildix.schema import vol
from custom_components.wildix.sensor import PBX_SENSORS, USER_SENSORS
from custom_components.wildix.services import (
    CALL_SCHEMA,
    HANG_UP_SCHEMA,
    SERVICE_CALL,
    SERVICE_HANG_UP,
    SERVICE_SET_PRESENCE,
    SET_PRESENCE_SCHEMA,
)
from custom_components.wildix.switch import DND
from custom_components.wildix.todo import CALLBACKS
from custom_components.wildix.voicemail_sensor import VOICEMAIL

COMPONENT = Path(__file__).parents[1] / "custom_components" / "wildix"
STRINGS = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
ICONS = json.loads((COMPONENT / "icons.json").read_text(encoding="utf-8"))
LANGUAGES = sorted(path.stem for path in (COMPONENT / "translations").glob("*.json"))
DESCRIPTIONS = {
    "sensor": (*USER_SENSORS, *PBX_SENSORS, PBX_VERSION, VOICEMAIL, *DAILY_SENSORS),
    "calendar": (CALL_LOG,),
    "todo": (CALLBACKS,),
    "binary_sensor": (*BINARY_SENSORS, REGISTERED),
    "event": (CALLS,),
    "switch": (DND,),
}
# Entities the PBX names (its dialplan switches): an icon, no name of ours.
NAMED_BY_PBX = {("switch", DIALPLAN_SWITCH), ("select", DIALPLAN_SWITCH)}


def _leaves(tree: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield every string of a translation file with its dotted key."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, f"{path}.{key}" if path else key)
    else:
        yield path, tree


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_english_is_strings() -> None:
    """translations/en.json is strings.json, byte for byte."""
    strings = (COMPONENT / "strings.json").read_bytes()
    assert (COMPONENT / "translations" / "en.json").read_bytes() == strings


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a JSON object, refusing a key given twice (json.loads keeps the last)."""
    keys = [key for key, _ in pairs]
    assert len(set(keys)) == len(keys), sorted({k for k in keys if keys.count(k) > 1})
    return dict(pairs)


@pytest.mark.parametrize(
    "path",
    sorted(str(path.relative_to(COMPONENT)) for path in COMPONENT.rglob("*.json")),
)
def test_json_files_name_no_key_twice(path: str) -> None:
    """A key given twice hides the first text: a merge once did that to a translation."""
    json.loads(
        (COMPONENT / path).read_text(encoding="utf-8"),
        object_pairs_hook=_no_duplicate_keys,
    )


def test_a_key_given_twice_is_found() -> None:
    """The check above fails on a nested duplicate."""
    with pytest.raises(AssertionError, match="'b'"):
        json.loads('{"a": {"b": 1, "b": 2}}', object_pairs_hook=_no_duplicate_keys)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_parity(language: str) -> None:
    """Every language has exactly the keys of strings.json, with the same placeholders."""
    translation = json.loads(
        (COMPONENT / "translations" / f"{language}.json").read_text(encoding="utf-8")
    )
    source = dict(_leaves(STRINGS))
    translated = dict(_leaves(translation))
    assert sorted(source.keys() - translated.keys()) == [], "missing keys"
    assert sorted(translated.keys() - source.keys()) == [], "keys not in strings.json"
    for key, text in source.items():
        assert isinstance(translated[key], str) and translated[key].strip(), key
        assert _placeholders(translated[key]) == _placeholders(text), key


@pytest.mark.parametrize(
    ("platform", "key"),
    [
        (platform, description.translation_key)
        for platform, descriptions in DESCRIPTIONS.items()
        for description in descriptions
    ],
)
def test_entity_strings_and_icons(platform: str, key: str) -> None:
    """Every entity has a name, an icon, and its states translated and given icons."""
    description = next(d for d in DESCRIPTIONS[platform] if d.translation_key == key)
    strings = STRINGS["entity"][platform][key]
    icons = ICONS["entity"][platform][key]
    assert strings["name"]
    assert icons["default"].startswith("mdi:")
    if options := getattr(description, "options", None):
        assert set(strings["state"]) == set(options)
        assert set(icons["state"]) == set(options)
    elif platform in ("binary_sensor", "switch"):
        assert set(icons["state"]) == {"on", "off"}
    else:
        assert "state" not in icons
    if platform == "event":
        states = set(description.event_types)
        assert set(strings["state_attributes"]["event_type"]["state"]) == states
        assert set(icons["state_attributes"]["event_type"]["state"]) == states
    for _path, icon in _leaves(icons):
        assert icon.startswith("mdi:")


@pytest.mark.parametrize(("platform", "key"), sorted(NAMED_BY_PBX))
def test_entities_named_by_the_pbx_have_icons(platform: str, key: str) -> None:
    """A dialplan switch has an icon (a switch one per state) and no name of ours."""
    icons = ICONS["entity"][platform][key]
    assert icons["default"].startswith("mdi:")
    if platform == "switch":
        assert set(icons["state"]) == {"on", "off"}
    assert key not in STRINGS["entity"].get(platform, {})


def test_no_icons_or_strings_for_unknown_entities() -> None:
    """icons.json and strings.json name no entity the code does not have."""
    known = {
        (platform, d.translation_key)
        for platform, descriptions in DESCRIPTIONS.items()
        for d in descriptions
    }
    named = {(p, key) for p, keys in STRINGS["entity"].items() for key in keys}
    assert named == known
    assert {(p, key) for p, keys in ICONS["entity"].items() for key in keys} == (
        known | NAMED_BY_PBX
    )


def test_issues_are_translated() -> None:
    """Every repair issue, in each transport's words, has a title and an explanation."""
    for issue in Issue:
        sqs = [f"{issue}_sqs"] if issue in TRANSPORT_ISSUES else []
        for key in (issue.value, *sqs):
            strings = STRINGS["issues"][key]
            assert strings["title"]
            assert "description" in strings or "fix_flow" in strings


def test_quality_scale_statuses_are_explained() -> None:
    """Each rule has a known status; a rule not done says why (hassfest checks the rule names)."""
    rules = yaml.safe_load((COMPONENT / "quality_scale.yaml").read_text())["rules"]
    for name, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in ("done", "todo", "exempt"), name
        if status != "done":
            assert isinstance(value, dict), f"{name} needs a comment"
            assert value["comment"].strip(), name


SERVICES = yaml.safe_load((COMPONENT / "services.yaml").read_text(encoding="utf-8"))
SCHEMAS = {
    SERVICE_SET_PRESENCE: SET_PRESENCE_SCHEMA,
    SERVICE_CALL: CALL_SCHEMA,
    SERVICE_HANG_UP: HANG_UP_SCHEMA,
    SERVICE_MARK_VOICEMAIL_READ: MARK_READ_SCHEMA,
    SERVICE_DELETE_VOICEMAIL: DELETE_SCHEMA,
    SERVICE_REFRESH_PHONEBOOK: REFRESH_PHONEBOOK_SCHEMA,
}


def test_services_yaml_is_valid_for_home_assistant() -> None:
    """services.yaml passes Home Assistant's own schema, selectors included."""
    _SERVICES_SCHEMA(SERVICES)


@pytest.mark.parametrize("service", sorted(SCHEMAS))
def test_service_fields_match_the_schema_strings_and_icons(service: str) -> None:
    """Each action's fields are its schema's, named and described, with an icon."""
    fields = SERVICES[service]["fields"]
    schema_keys = {str(key) for key in SCHEMAS[service].schema}
    assert set(fields) == schema_keys
    required = {
        str(key) for key in SCHEMAS[service].schema if isinstance(key, vol.Required)
    }
    assert {name for name, field in fields.items() if field.get("required")} == required
    strings = STRINGS["services"][service]
    assert strings["name"] and strings["description"]
    assert set(strings["fields"]) == set(fields)
    for name in fields:
        assert strings["fields"][name]["name"], name
        assert strings["fields"][name]["description"], name
    assert ICONS["services"][service]["service"].startswith("mdi:")


def test_services_are_the_registered_ones() -> None:
    """strings.json, icons.json and services.yaml name exactly the registered actions."""
    assert set(SERVICES) == set(SCHEMAS)
    assert set(STRINGS["services"]) == set(SCHEMAS)
    assert set(ICONS["services"]) == set(SCHEMAS)


def test_device_fields_offer_only_wildix_users() -> None:
    """Every device_id field picks devices of this integration whose model is a user's."""
    for service, spec in SERVICES.items():
        if "device_id" not in spec["fields"]:
            continue
        selector = spec["fields"]["device_id"]["selector"]["device"]
        assert selector["filter"] == {"integration": "wildix", "model": USER_MODEL}
        assert selector.get("multiple", False) is (service == SERVICE_SET_PRESENCE)


def test_presence_statuses_are_the_clients_and_translated() -> None:
    """The status select offers every status the client sends, each translated."""
    select = SERVICES[SERVICE_SET_PRESENCE]["fields"]["status"]["selector"]["select"]
    statuses = [status.value for status in PresenceStatus]
    assert select["options"] == statuses
    options = STRINGS["selector"][select["translation_key"]]["options"]
    assert list(options) == statuses


def test_action_errors_are_translated() -> None:
    """Every error key services.py raises has a message in strings.json."""
    source = (COMPONENT / "services.py").read_text(encoding="utf-8")
    keys = set(re.findall(r'\b(?:invalid|failed)\(\s*"(\w+)"', source))
    assert len(keys) >= 10, keys
    for key in keys:
        assert STRINGS["exceptions"][key]["message"], key
