"""The integration's data files: translations, icons and the quality scale agree with the code."""

from collections.abc import Iterator
import json
from pathlib import Path
import re
from typing import Any

import pytest
import yaml

from custom_components.wildix.api_entities import (
    DIALPLAN_SWITCH,
    PBX_VERSION,
    REGISTERED,
)
from custom_components.wildix.binary_sensor import BINARY_SENSORS
from custom_components.wildix.event import CALLS
from custom_components.wildix.issues import TRANSPORT_ISSUES, Issue
from custom_components.wildix.sensor import PBX_SENSORS, USER_SENSORS
from custom_components.wildix.switch import DND

COMPONENT = Path(__file__).parents[1] / "custom_components" / "wildix"
STRINGS = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
ICONS = json.loads((COMPONENT / "icons.json").read_text(encoding="utf-8"))
LANGUAGES = sorted(path.stem for path in (COMPONENT / "translations").glob("*.json"))
DESCRIPTIONS = {
    "sensor": (*USER_SENSORS, *PBX_SENSORS, PBX_VERSION),
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
