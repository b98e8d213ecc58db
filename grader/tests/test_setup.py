"""make setup as the README and the devcontainer call it."""

from __future__ import annotations

import json
import re
import subprocess

from grader.course.curriculum import ROOT


def dry_setup(*args: str) -> str:
    """What `make setup` would run (-W: as if pyproject.toml had changed), without running it."""
    return subprocess.run(["make", "-n", "-W", "pyproject.toml", "setup", *args], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


def test_torch_index_installs_the_pinned_torch_from_it_first():
    pin = re.search(r'"(torch==[0-9.]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    lines = dry_setup("TORCH_INDEX=https://example.invalid/whl/cpu").splitlines()
    first = next(i for i, line in enumerate(lines) if "--index-url https://example.invalid/whl/cpu" in line)
    assert lines[first].split()[-1] == pin
    assert first < next(i for i, line in enumerate(lines) if line.endswith("-e ."))
    assert "--index-url" not in dry_setup()  # without it, PyPI alone


def test_the_devcontainer_runs_make_setup_with_the_cpu_index():
    config = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
    assert config["postCreateCommand"] == "make setup TORCH_INDEX=https://download.pytorch.org/whl/cpu"
