from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_"))}
    return subprocess.run([sys.executable, "-m", "samverkan.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env={**clean, **env}, timeout=60)


def test_run_without_slack_credentials_says_how_to_set_them_up(tmp_path: Path) -> None:
    done = run("run", cwd=tmp_path)
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN" in done.stderr and "samverkan console" in done.stderr
    assert not (tmp_path / "samverkan.db").exists()  # nothing started, nothing created


def test_a_broken_model_stops_the_start_with_its_explanation(tmp_path: Path) -> None:
    broken = tmp_path / "m.yaml"
    broken.write_text("name: {sv: x, en: x}\nparties: []\n", encoding="utf-8")
    done = run("check", cwd=tmp_path, SAMVERKAN_MODEL=str(broken), SAMVERKAN_LANG="en")
    assert done.returncode == 2
    assert f"{broken}, line 2, parties: the list needs at least one entry" in done.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    done = run("migrate", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "x.db").stat().st_size > 0


def test_the_console_command_runs_from_a_terminal(tmp_path: Path) -> None:
    typed = "/as johan.ek\n/samverkan whoami\n/quit\n"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_", "DATABASE_"))}
    done = subprocess.run([sys.executable, "-m", "samverkan.cli", "console"], input=typed, capture_output=True,
                          text=True, cwd=tmp_path, env={**clean, "SAMVERKAN_LANG": "en"}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "You are *Johan Ek* · Lead supplier · Account manager (A)" in done.stdout
    assert (tmp_path / "samverkan-console.db").exists()
