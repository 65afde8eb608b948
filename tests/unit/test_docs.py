"""Docs are part of the contract: settings, commands and actions must be documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from megacity.domain.lifecycle import Action
from megacity.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"MEGACITY_{name.upper()}" in text, (
            f"MEGACITY_{name.upper()} missing from docs/configuration.md"
        )


def test_every_action_is_documented() -> None:
    text = (DOCS / "lifecycle.md").read_text(encoding="utf-8")
    for action in Action:
        assert f"`{action.value}`" in text, f"{action.value} missing from docs/lifecycle.md"


def test_cli_reference_is_generated_from_the_current_help(tmp_path: Path) -> None:
    out = tmp_path / "cli.md"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "typer",
            "megacity.cli",
            "utils",
            "docs",
            "--name",
            "megacity",
            "--output",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == current, "docs/cli.md is stale: run `make docs`"
