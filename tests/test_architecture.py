"""The direction of imports is the design: the core knows neither Slack nor SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_import_contracts_hold() -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def test_the_check_catches_a_slack_import_in_the_core(tmp_path: Path) -> None:
    # The ruff rule that guards bot/ must really fire; a check that cannot fail protects nothing.
    offender = ROOT / "bot" / "_offender_probe.py"
    offender.write_text("import slack_sdk\nfrom sqlalchemy import select\n", encoding="utf-8")
    try:
        done = subprocess.run([str(Path(sys.executable).parent / "ruff"), "check", "--select", "TID251",
                               "--no-cache", str(offender)], cwd=ROOT, capture_output=True, text=True)
    finally:
        offender.unlink()
    assert done.returncode == 1
    assert "bot/ is platform-neutral" in done.stdout and "bot/ is storage-neutral" in done.stdout
