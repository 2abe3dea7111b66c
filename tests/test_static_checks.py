"""Static checks as part of `make test`: ruff (lint rules in pyproject.toml) on lms/, tests/ and
benchmarks/, and bandit on lms/ with every finding fixed or explained (`# nosec <id> - <reason>`)."""

from __future__ import annotations

import shutil
import subprocess  # nosec B404 - runs the project's own linters
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -r requirements-dev.txt")
    return found


def run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # nosec B603 - fixed arguments, no shell
        list(arguments), cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_finds_nothing() -> None:
    result = run(tool("ruff"), "check", "--no-cache", "lms", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_bandit_finds_nothing_unexplained() -> None:
    result = run(tool("bandit"), "-c", "pyproject.toml", "-r", "lms", "-q", "-f", "txt")
    assert result.returncode == 0, (
        "bandit findings: fix them, or add `# nosec <id> - <reason>` on the line\n"
        + result.stdout
        + result.stderr
    )


def test_bandit_nosec_comments_give_a_reason() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "lms").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "# nosec" in line and " - " not in line.split("# nosec", 1)[1]
    ]
    assert bare == [], "a `# nosec` without `- reason`: " + ", ".join(bare)
