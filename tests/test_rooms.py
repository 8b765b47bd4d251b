"""Rooms that can grow: the PBX API client and the config flow stay small and findable.

Each PBX API resource has its own module, named after it, over one transport; a
route is found by its resource's name; no class of the client or the config flow
passes about 200 lines; a feature is declared once, in pbx_capabilities.
"""

import ast
from pathlib import Path

import pytest

from custom_components.wildix import pbx_capabilities

COMPONENT = Path(__file__).parents[1] / "custom_components" / "wildix"
MAX_CLASS_LINES = 200
# Each resource's module, and a route only it may hold.
RESOURCES = {
    "pbx_info": "/api/v1/personal/info",
    "pbx_directory": "/api/v1/PBX/Colleagues",
    "pbx_registrations": "/api/v1/PBX/Users/Sip/Registrations",
    "pbx_presence": "/api/v1/User/{extension}/Presence",
    "pbx_switches": "/api/v1/Dialplan/Switches",
    "pbx_calls": "/api/v2/call-control/make-call",
}


def _classes(path: Path) -> dict[str, int]:
    """Return each class of a module with its length in lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name: (node.end_lineno or node.lineno) - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }


@pytest.mark.parametrize(
    "module",
    sorted(
        path.name
        for pattern in ("pbx_*.py", "config_flow*.py", "api_*.py", "coordinator.py")
        for path in COMPONENT.glob(pattern)
    ),
)
def test_no_class_passes_200_lines(module: str) -> None:
    """The client's, the API side's and the config flow's classes stay small."""
    long = {
        name: lines
        for name, lines in _classes(COMPONENT / module).items()
        if lines > MAX_CLASS_LINES
    }
    assert not long


def test_a_route_lives_in_its_resources_module() -> None:
    """A reader finds a route by its resource's name, and only there."""
    texts = {
        path.stem: path.read_text(encoding="utf-8")
        for path in COMPONENT.glob("pbx_*.py")
    }
    for module, route in RESOURCES.items():
        assert f'"{route}' in texts[module], module
        others = [name for name, text in texts.items() if name != module]
        assert not [name for name in others if f'= "{route}' in texts[name]], route


def test_every_feature_is_declared_once() -> None:
    """The capability registry declares each feature once, with what it needs."""
    keys = [feature.key for feature in pbx_capabilities.FEATURES]
    assert len(keys) == len(set(keys))
    assert set(keys) >= {
        "directory",
        "registrations",
        "version",
        "switches",
        "presence_own",
        "presence_others",
        "call_control_own",
        "call_control_others",
    }
    for feature in pbx_capabilities.FEATURES:
        assert feature.token_needs
        assert feature.key_needs
