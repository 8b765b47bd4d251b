"""The repository's metadata passes what hassfest and HACS check, and releases agree with it."""

import importlib.util
import json
import os
from pathlib import Path
import re
import tomllib
from typing import Any
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from PIL import Image
import pytest

ROOT = Path(__file__).parents[1]
COMPONENT = ROOT / "custom_components" / "wildix"
# Directories that hold no part of the repository: tools' state, venvs, the dev instance.
NOT_OURS = {"build", "config", "node_modules", "__pycache__"}

# What Home Assistant accepts in a custom integration's manifest.json, by key.
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
}
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
LISTS_OF_NAMES = {
    "after_dependencies",
    "codeowners",
    "dependencies",
    "loggers",
    "requirements",
}
FLAGS = {"config_flow", "import_executor", "single_config_entry"}
# Discovery matchers are allowed by Home Assistant; wildix uses none, so they are not checked here.
DISCOVERY = {"bluetooth", "dhcp", "homekit", "mqtt", "ssdp", "usb", "zeroconf"}
KNOWN_KEYS = (
    {"domain", "name", "documentation", "issue_tracker", "version"}
    | {"integration_type", "iot_class", "quality_scale", "disabled"}
    | LISTS_OF_NAMES
    | FLAGS
    | DISCOVERY
)


def _manifests() -> list[Path]:
    """Every manifest.json in the repository, wherever it lives (as hassfest's action finds them)."""
    found = []
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [
            name
            for name in subdirectories
            if not name.startswith(".") and name not in NOT_OURS
        ]
        if "manifest.json" in files:
            found.append(Path(directory) / "manifest.json")
    return sorted(found)


def _is_https_url(value: Any) -> bool:
    return (
        isinstance(value, str)
        and (url := urlparse(value)).scheme == "https"
        and bool(url.netloc)
    )


def manifest_problems(path: Path) -> list[str]:
    """List what hassfest would say about a custom integration's manifest, in its words where it has them."""
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        return ["not a JSON object"]
    problems = [f"unknown key {key}" for key in manifest.keys() - KNOWN_KEYS]
    problems += [
        f"required key {key} missing"
        for key in ("domain", "name", "documentation", "codeowners", "version")
        if key not in manifest
    ]
    keys = list(manifest)
    if keys != ["domain", "name", *sorted(keys[2:])]:
        problems.append(
            "Manifest keys are not sorted correctly: domain, name, then alphabetical order"
        )
    domain = manifest.get("domain")
    if domain != path.parent.name:
        problems.append("Domain does not match dir name")
    if not (isinstance(domain, str) and re.fullmatch(r"[a-z0-9_]+", domain)):
        problems.append("domain must be lowercase letters, digits and _")
    elif importlib.util.find_spec(f"homeassistant.components.{domain}") is not None:
        problems.append("Domain collides with built-in core integration")
    if not isinstance(manifest.get("name"), str) or not manifest.get("name"):
        problems.append("name must be a non-empty string")
    documentation = manifest.get("documentation")
    if not _is_https_url(documentation):
        problems.append("Documentation url is not prefixed with https")
    elif documentation.startswith("https://www.home-assistant.io/integrations"):
        problems.append(
            "Documentation URL should point to the custom integration documentation"
        )
    if "issue_tracker" in manifest and not _is_https_url(manifest["issue_tracker"]):
        problems.append("issue_tracker is not a URL")
    for key in LISTS_OF_NAMES & manifest.keys():
        value = manifest[key]
        if not (isinstance(value, list) and all(isinstance(x, str) for x in value)):
            problems.append(f"{key} must be a list of strings")
    problems += [
        f"{key} must be true or false"
        for key in FLAGS & manifest.keys()
        if not isinstance(manifest[key], bool)
    ]
    if manifest.get("iot_class") not in IOT_CLASSES:
        problems.append("Domain is missing an IoT Class")
    if manifest.get("integration_type", "hub") not in INTEGRATION_TYPES:
        problems.append(f"integration_type {manifest['integration_type']!r} is unknown")
    version = manifest.get("version")
    try:
        AwesomeVersion(str(version), ensure_strategy=VERSION_STRATEGIES)
    except Exception:  # noqa: BLE001 - awesomeversion raises more than its own error
        problems.append(f"'{version}' is not a valid version.")
    if not isinstance(version, str):
        problems.append("version must be a string")
    return problems


@pytest.mark.parametrize(
    "path", _manifests(), ids=lambda path: str(path.relative_to(ROOT))
)
def test_manifest_passes_hassfest(path: Path) -> None:
    """Every manifest.json in the repository is one hassfest accepts."""
    assert manifest_problems(path) == []


def test_every_manifest_is_checked() -> None:
    """The search finds the integration's manifest and the benchmark's."""
    found = {str(path.relative_to(ROOT)) for path in _manifests()}
    assert {
        "custom_components/wildix/manifest.json",
        "tests/bench/wildix_bench/manifest.json",
    } <= found


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda m: {"name": m.pop("name"), **m},
            "Manifest keys are not sorted correctly: domain, name, then alphabetical order",
        ),
        (
            lambda m: {
                "domain": m.pop("domain"),
                "name": m.pop("name"),
                "version": m.pop("version"),
                **m,
            },
            "Manifest keys are not sorted correctly: domain, name, then alphabetical order",
        ),
        (lambda m: {**m, "version": "one"}, "'one' is not a valid version."),
        (lambda m: {**m, "domain": "wildix2"}, "Domain does not match dir name"),
        (lambda m: {**m, "iot_class": "push"}, "Domain is missing an IoT Class"),
        (
            lambda m: {**m, "documentation": "http://example.com"},
            "Documentation url is not prefixed with https",
        ),
        (lambda m: {**m, "colour": "blue"}, "unknown key colour"),
    ],
)
def test_manifest_check_finds_faults(tmp_path: Path, change: Any, problem: str) -> None:
    """The check above fails a manifest that hassfest would fail."""
    manifest = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))
    path = tmp_path / "wildix" / "manifest.json"
    path.parent.mkdir()
    path.write_text(json.dumps(change(manifest)))
    assert problem in manifest_problems(path)


def test_hacs_manifest() -> None:
    """hacs.json has only the keys HACS knows, and the integration's manifest what HACS needs."""
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert hacs.keys() <= {
        "content_in_root",
        "country",
        "filename",
        "hacs",
        "hide_default_branch",
        "homeassistant",
        "persistent_directory",
        "render_readme",
        "zip_release",
        "name",
    }
    assert isinstance(hacs["name"], str)
    AwesomeVersion(
        hacs["homeassistant"], ensure_strategy=[AwesomeVersionStrategy.CALVER]
    )
    manifest = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))
    assert _is_https_url(manifest["issue_tracker"])
    assert isinstance(manifest["codeowners"], list)


@pytest.mark.parametrize(
    ("name", "shortest"),
    [
        ("icon.png", (256, 256)),
        ("icon@2x.png", (512, 512)),
        ("logo.png", (128, 256)),
        ("logo@2x.png", (256, 512)),
    ],
)
def test_brand_image(name: str, shortest: tuple[int, int]) -> None:
    """Brand images follow Home Assistant's brand rules: size, transparency, trimmed."""
    with Image.open(COMPONENT / "brand" / name) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        width, height = image.size
        if name.startswith("icon"):
            assert width == height
        assert shortest[0] <= min(width, height) <= shortest[1]
        alpha = image.getchannel("A")
        assert alpha.getextrema()[0] == 0, "no transparent background"
        assert alpha.getbbox() == (0, 0, width, height), "not trimmed"


def test_brand_images_at_2x_are_twice_the_size() -> None:
    """Each @2x image is the same picture at twice the size, within a pixel."""
    for name in ("icon", "logo"):
        with (
            Image.open(COMPONENT / "brand" / f"{name}.png") as normal,
            Image.open(COMPONENT / "brand" / f"{name}@2x.png") as double,
        ):
            for one, two in zip(normal.size, double.size, strict=True):
                assert abs(2 * one - two) <= 1, name


def _changelog_versions() -> list[str]:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.findall(
        r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", text, re.MULTILINE
    )


def test_changelog_newest_is_the_manifest_version() -> None:
    """The newest release in CHANGELOG.md is the version the manifest and pyproject.toml carry."""
    manifest = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    versions = _changelog_versions()
    assert versions, "CHANGELOG.md lists no release"
    assert versions[0] == manifest["version"] == pyproject["project"]["version"]
    assert versions == sorted(versions, key=AwesomeVersion, reverse=True)


def test_licence() -> None:
    """The licence GitHub detects (and HACS requires) is the one pyproject.toml names."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")


def _anchor(heading: str) -> str:
    """Return the id GitHub gives a Markdown heading."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md"])
def test_contents_line_lists_every_section(name: str) -> None:
    """The Contents line links to each section (## heading), and to nothing else."""
    text = (ROOT / name).read_text(encoding="utf-8")
    contents = text[
        text.index("Contents: ") : text.index("\n\n", text.index("Contents: "))
    ]
    linked = re.findall(r"\]\(#([^)]+)\)", contents)
    sections = [
        _anchor(heading) for heading in re.findall(r"^## (.+)$", text, re.MULTILINE)
    ]
    assert linked == sections
