"""The documentation tells the truth about the repository: README, the site's pages, CONTRIBUTING.

The README is what HACS shows, so it stays short and its entity table complete; every
picture shown exists and every picture kept is shown; CONTRIBUTING's layout names every
file of the integration and its mypy list is the one scripts/lint runs. `scripts/docs`
(CI stage docs) checks the site's links and anchors with `mkdocs build --strict`.
"""

import json
from pathlib import Path
import re

import pytest

ROOT = Path(__file__).parents[1]
COMPONENT = ROOT / "custom_components" / "wildix"
DOCS = ROOT / "docs"
IMAGES = DOCS / "images"
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
README_MAX_LINES = 250

IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _pages() -> list[Path]:
    """Return the site's pages (the Contributing page is CONTRIBUTING.md itself)."""
    return sorted(DOCS.glob("*.md"))


def _section(text: str, heading: str) -> str:
    """Return the text under a `## heading` up to the next `## `."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _table_rows(section: str) -> list[list[str]]:
    """Return the cells of each body row of the Markdown tables in a section."""
    rows = []
    for line in section.splitlines():
        if not line.startswith("|") or set(line) <= {"|", "-", " "}:
            continue
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _entity_keys() -> list[tuple[str, str, str]]:
    """Return (platform, translation key, English name) of every entity in strings.json."""
    strings = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
    return [
        (platform, key, entity["name"])
        for platform, entities in strings["entity"].items()
        for key, entity in entities.items()
    ]


PLATFORM_WORDS = {
    "binary_sensor": "binary sensor",
    "sensor": "sensor",
    "event": "event",
    "switch": "switch",
    "select": "select",
}


def test_readme_is_short() -> None:
    """HACS shows the whole README: at most 250 lines."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES


@pytest.mark.parametrize(
    ("document", "heading"),
    [(README, "Entities"), (DOCS / "entities.md", None)],
    ids=["README", "docs/entities.md"],
)
def test_entity_table_has_every_translation_key(
    document: Path, heading: str | None
) -> None:
    """Each entity of strings.json has a row: its name, its key and its platform."""
    text = document.read_text(encoding="utf-8")
    rows = _table_rows(_section(text, heading) if heading else text)
    keys = _entity_keys()
    assert keys
    for platform, key, name in keys:
        matching = [row for row in rows if f"`{key}`" in row[1:3]]
        assert matching, f"{document.name}: no row for {platform}.{key} ({name})"
        row = " | ".join(matching[0])
        assert matching[0][0] == name, f"{document.name}: {key} is called {name}"
        word = PLATFORM_WORDS.get(platform, platform.replace("_", " "))
        assert word in row, f"{document.name}: the row of {key} does not say {word}"


def test_entity_table_check_finds_a_missing_row() -> None:
    """The check above fails for a key the table lacks (so it can fail)."""
    rows = _table_rows(_section(README.read_text(encoding="utf-8"), "Entities"))
    assert not [row for row in rows if "`no_such_entity`" in row[1:3]]
    assert [row for row in rows if "`presence`" in row[1:3]]


def _referenced_images() -> dict[Path, list[str]]:
    """Return each picture referenced by the README or a page, with who references it."""
    found: dict[Path, list[str]] = {}
    sources = [
        (README, ROOT),
        *[(page, DOCS) for page in _pages()],
        (CONTRIBUTING, ROOT),
    ]
    for path, base in sources:
        for target in IMAGE.findall(path.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            found.setdefault((base / target).resolve(), []).append(path.name)
    return found


def test_every_referenced_picture_exists() -> None:
    """Every picture the README or a page shows is in the repository."""
    missing = {
        str(image.relative_to(ROOT)): who
        for image, who in _referenced_images().items()
        if not image.is_file()
    }
    assert not missing


def test_every_picture_is_shown() -> None:
    """Every picture in docs/images is shown by the README or a page."""
    shown = set(_referenced_images())
    kept = {image.resolve() for image in IMAGES.iterdir()}
    assert kept
    assert not sorted(image.name for image in kept - shown)


def test_readme_links_to_files_that_exist() -> None:
    """The README's relative links (GitHub and HACS follow them) point to files."""
    for target in LINK.findall(README.read_text(encoding="utf-8")):
        if "://" in target or target.startswith(("#", "mailto:")):
            continue
        assert (ROOT / target.split("#")[0]).exists(), target


def test_readme_and_contributing_name_no_issue_numbers() -> None:
    """Newcomers cannot see the project's internal issue numbers."""
    for path in (README, CONTRIBUTING):
        assert not re.search(
            r"\bissues? #?\d+", path.read_text(encoding="utf-8"), re.IGNORECASE
        )


def test_contributing_layout_names_every_file() -> None:
    """The layout table names every module and file of the integration."""
    layout = _section(CONTRIBUTING.read_text(encoding="utf-8"), "Layout")
    named = set(re.findall(r"`([^`]+)`", layout))
    files = {
        path.name + ("/" if path.is_dir() else "")
        for path in COMPONENT.iterdir()
        if path.name != "__pycache__"
    }
    assert files
    assert not sorted(files - named)


def test_contributing_mypy_list_is_lints() -> None:
    """CONTRIBUTING names exactly the paths scripts/lint runs mypy over."""
    lint = (ROOT / "scripts" / "lint").read_text(encoding="utf-8")
    linted = {
        path for line in re.findall(r'"\$bin/mypy" (.+)', lint) for path in line.split()
    }
    assert linted
    sentence = next(
        line
        for line in _section(CONTRIBUTING.read_text(encoding="utf-8"), "Lint").split(
            "\n\n"
        )
        if line.startswith("mypy runs strict over")
    )
    listed = set(re.findall(r"`([^`]+)`", sentence))
    assert listed == linted


def test_mkdocs_nav_pages_exist() -> None:
    """Every page in mkdocs.yml's nav is a file in docs/ (scripts/docs checks the rest)."""
    nav = re.findall(
        r":\s+([\w./-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE
    )
    assert "index.md" in nav
    for page in nav:
        assert (DOCS / page).is_file(), page
