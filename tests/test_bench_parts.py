"""The bench times parts of wildix by name: each part it names exists.

`scripts/bench --hub-detail` wraps the hub's receivers and bookkeeping by module,
class and method; a renamed method would stop Home Assistant from starting in it.
The bench runs in the latest lane only: its list is read from its source here.
"""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).parent / "bench" / "wildix_bench" / "__init__.py"


def _detail_parts() -> list[tuple[str, str, tuple[str, ...]]]:
    """Return the bench's DETAIL_PARTS: (module, class, methods)."""
    for node in ast.parse(BENCH.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "DETAIL_PARTS"
            for target in node.targets
        ):
            return list(ast.literal_eval(node.value))
    raise AssertionError("the bench names no DETAIL_PARTS")


PARTS = _detail_parts()


@pytest.mark.parametrize(
    ("module_name", "owner_name", "names"),
    PARTS,
    ids=[f"{module}.{owner}" for module, owner, _ in PARTS],
)
def test_each_part_the_bench_times_exists(
    module_name: str, owner_name: str, names: tuple[str, ...]
) -> None:
    """Every method `--hub-detail` times is a method of the class it names."""
    module = importlib.import_module(f"custom_components.wildix.{module_name}")
    owner = getattr(module, owner_name)
    for name in names:
        assert callable(getattr(owner, name, None)), f"{owner_name}.{name}"
