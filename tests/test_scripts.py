"""A contributor's first minutes: the scripts explain themselves without Python 3.14.

The scripts run from a copy of `scripts/` in a temporary directory, with a PATH that holds
bash and a few tools but no Python and no uv, and a HOME without uv: the machine of a
contributor who has not installed anything yet (and no ../shared/tools/py314 beside it).
"""

from pathlib import Path
import shutil
import subprocess
import sys

import pytest

ROOT = Path(__file__).parents[1]
TOOLS = ("bash", "basename", "cat", "dirname", "env", "sed")


@pytest.fixture(name="bare")
def bare_machine(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Return a repository copy and an environment without Python 3.14 or uv."""
    repo = tmp_path / "checkout" / "wildix"
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found is not None, tool
        (bin_dir / tool).symlink_to(found)
    home = tmp_path / "home"
    home.mkdir()
    return repo, {"PATH": str(bin_dir), "HOME": str(home)}


def _run(
    bare: tuple[Path, dict[str, str]], *command: str
) -> subprocess.CompletedProcess[str]:
    repo, env = bare
    return subprocess.run(
        ["bash", *command],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        executable=shutil.which("bash"),
    )


def test_test_without_python_314_points_to_the_oldest_lane(
    bare: tuple[Path, dict[str, str]],
) -> None:
    """`scripts/test` says how to get Python 3.14 and that the oldest lane runs on 3.13."""
    result = _run(bare, "scripts/test")
    assert result.returncode == 1
    assert "needs Python >= 3.14.2" in result.stderr
    assert "astral.sh/uv/install.sh" in result.stderr
    assert "oldest lane works on Python 3.13: LANE=oldest scripts/test" in result.stderr
    assert "Traceback" not in result.stderr


def test_install_python_without_uv_says_how_to_get_uv(
    bare: tuple[Path, dict[str, str]],
) -> None:
    """`scripts/setup --install-python` needs uv, and says so and where it comes from."""
    result = _run(bare, "scripts/setup", "--install-python")
    assert result.returncode == 1
    assert "--install-python needs uv" in result.stderr
    assert "curl -LsSf https://astral.sh/uv/install.sh | sh" in result.stderr
    assert "LANE=oldest scripts/setup" in result.stderr


def test_demo_help_without_python_314(bare: tuple[Path, dict[str, str]]) -> None:
    """`scripts/demo --help` shows its usage, the login and the options, without Python."""
    result = _run(bare, "scripts/demo", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("scripts/demo - try the integration without a PBX")
    for text in (
        "user demo, password demo1234",
        "REST token",
        "fake PBX API",
        "--port",
    ):
        assert text in result.stdout
    assert "shellcheck" not in result.stdout
    assert "set -euo" not in result.stdout


def test_simulate_help_needs_no_home_assistant() -> None:
    """`scripts/simulate --help` works with any Python >= 3.11 and no packages."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "simulate"), "--help"],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHON": sys.executable,
            "PYTHONNOUSERSITE": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--dry-run" in result.stdout


def test_simulate_dry_run_into_head_ends_quietly() -> None:
    """`scripts/simulate --dry-run | head` stops without a BrokenPipe traceback."""
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wildix_simulator",
            "--dry-run",
            "--scenario",
            "busy-office",
            "--duration",
            "600",
            "--rate",
            "50",
        ],  # fmt: skip
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()  # what `head -1` does once it has its line
        errors = process.stderr.read()
        status = process.wait(timeout=60)
    assert first.startswith('{"signature": ')
    assert "Traceback" not in errors
    assert "BrokenPipe" not in errors
    assert status == 1
