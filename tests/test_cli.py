from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # over HTTP, or real processes: the full run, not the fast tier


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


def test_export_gives_disagreements_with_their_history_and_deployments(tmp_path: Path) -> None:
    import csv
    import io
    import json
    from datetime import datetime

    from bot.chat import Command
    from bot.clock import STOCKHOLM, ManualClock
    from samverkan.settings import Settings
    from samverkan.wiring import build
    from tests.fakes.recording_chat import RecordingChat

    url = f"sqlite:///{tmp_path / 'x.db'}"
    clock = ManualClock(datetime(2027, 1, 11, 9, 0, tzinfo=STOCKHOLM))
    runtime = build(Settings(database_url=url, samverkan_lang="sv"), clock, lambda _: RecordingChat())
    for name, text, user in [("disagreement", "open supplier Vem betalar, för laddarna", "U01EVALIND"),
                             ("disagreement", "comment D-1 Avtalet är tyst", "U02JOHANEK"),
                             ("deploy", "announce service-desk 2027-01-20 18:00 Ny version", "U02MARIASD")]:
        runtime.core.handle(Command(name=name, text=text, user_id=user, channel_id="C1", received_at=clock.now()))
    runtime.close()
    as_json = run("export", "--format", "json", cwd=tmp_path, DATABASE_URL=url)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    [d] = data["disagreements"]
    assert d["ref"] == "D-1" and d["parties"] == ["city", "supplier"] and d["state"] == "open"
    assert [e["kind"] for e in d["history"]] == ["opened", "commented"]
    assert data["deployments"][0]["what"] == "Ny version"
    as_csv = run("export", "--format", "csv", cwd=tmp_path, DATABASE_URL=url)
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["record"], r["kind"]) for r in rows] == [("disagreement", "opened"), ("disagreement", "commented"),
                                                         ("deployment", "announced")]
    assert rows[0]["title"] == "Vem betalar, för laddarna"


def _one_sentence(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_database_that_cannot_be_used_stops_the_start_with_one_sentence(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(os.urandom(8192))
    done = run("migrate", cwd=tmp_path, DATABASE_URL=f"sqlite:///{corrupt}")
    _one_sentence(done)
    assert "går inte att använda (file is not a database)" in done.stderr
    unreachable = run("export", cwd=tmp_path, DATABASE_URL="postgresql+psycopg://samverkan:hemligt@127.0.0.1:1/x")
    _one_sentence(unreachable)
    assert "hemligt" not in unreachable.stderr and "samverkan:***@127.0.0.1:1" in unreachable.stderr
    nowhere = run("migrate", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/no/such/folder/x.db")
    _one_sentence(nowhere)


def test_a_read_only_database_stops_the_start_with_one_sentence(tmp_path: Path) -> None:
    assert run("migrate", cwd=tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'ro.db'}").returncode == 0
    # Opened read-only (as a file on a read-only mount would be): the start has to write, and cannot.
    done = run("run", cwd=tmp_path, DATABASE_URL=f"sqlite:///file:{tmp_path / 'ro.db'}?mode=ro&uri=true",
               SLACK_BOT_TOKEN="x", SLACK_SIGNING_SECRET="y")
    _one_sentence(done)
    assert "går inte att använda (attempt to write a readonly database)" in done.stderr


@pytest.mark.postgres
def test_a_percent_encoded_password_works(postgres, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import psycopg
    from sqlalchemy.engine import make_url

    from tests.postgres_server import libpq_url

    admin = postgres.create_database("percent")
    with psycopg.connect(libpq_url(admin), autocommit=True) as connection:
        connection.execute("CREATE ROLE procent LOGIN PASSWORD 'p@ss%w0rd:/'")
        connection.execute("GRANT ALL ON SCHEMA public TO procent")
    url = make_url(admin).set(username="procent", password="p@ss%w0rd:/").render_as_string(hide_password=False)
    assert "%25" in url and "%40" in url
    done = run("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert done.returncode == 0, done.stderr


def test_a_junk_model_stops_the_start_with_its_explanation(tmp_path: Path) -> None:
    junk = tmp_path / "junk.yaml"
    junk.write_bytes(b"\x00\xff: [")
    done = run("run", cwd=tmp_path, SAMVERKAN_MODEL=str(junk), SLACK_BOT_TOKEN="x", SLACK_SIGNING_SECRET="y",
               DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert str(junk) in done.stderr


# Distinctive pieces, so that any of them in the output is a leak: the password in every URL below is made of them.
PIECES = ("Zq7k", "Xw9m", "Kp3v")


@pytest.mark.parametrize("credentials", [
    "samverkan:Zq7k@Xw9m@Kp3v",  # an unencoded @ (issue 18 item 10): a parser takes the tail for the host
    "samverkan:Zq7k%40Xw9m%40Kp3v",  # encoded, as it should be
    "samverkan:Zq7k:Xw9m/Kp3v",  # a : and a / in the password
    "samverkan:Zq7k:Xw9m/Kp3v@",  # ... and an @ at its end
    "Zq7k@Xw9m:Kp3v",  # an @ in what would be the user name
])
def test_a_start_up_error_shows_no_part_of_the_database_password(tmp_path: Path, credentials: str) -> None:
    done = run("migrate", cwd=tmp_path, DATABASE_URL=f"postgresql+psycopg://{credentials}@127.0.0.1:1/x",
               TEAMS_APP_PASSWORD="Teams-Zq7kXw9mKp3v-secret")
    _one_sentence(done)
    assert "går inte att använda" in done.stderr and "@127.0.0.1:1/x" in done.stderr
    assert not [piece for piece in PIECES if piece in done.stderr], done.stderr


def test_a_database_url_without_a_password_shows_its_user(tmp_path: Path) -> None:
    done = run("migrate", cwd=tmp_path, DATABASE_URL="postgresql+psycopg://samverkan@127.0.0.1:1/x")
    _one_sentence(done)
    assert "postgresql+psycopg://samverkan@127.0.0.1:1/x" in done.stderr


def test_a_default_service_url_not_on_the_allow_list_stops_the_start(tmp_path: Path) -> None:
    done = run("run", cwd=tmp_path, TEAMS_APP_ID="app", TEAMS_APP_PASSWORD="Zq7kXw9mKp3v", TEAMS_TENANT_ID="t",
               TEAMS_SERVICE_URL="https://bot:Zq7kXw9mKp3v@evil.example/connector/",
               DATABASE_URL="postgresql+psycopg://samverkan:Zq7k@Xw9m@127.0.0.1:1/x")
    _one_sentence(done)
    assert "TEAMS_SERVICE_URL https://bot:***@evil.example/connector/ is not on a host TEAMS_SERVICE_URL_HOSTS" \
        in done.stderr
    assert not [piece for piece in PIECES if piece in done.stderr], done.stderr
    assert not (tmp_path / "samverkan.db").exists()
    wrong = run("run", cwd=tmp_path, TEAMS_APP_ID="app", TEAMS_APP_PASSWORD="x", TEAMS_TENANT_ID="t",
                TEAMS_SERVICE_URL_HOSTS="smba.trafficmanager.net,http://evil.example:80")
    _one_sentence(wrong)
    assert "TEAMS_SERVICE_URL_HOSTS: 'http://evil.example:80': plain http is allowed only" in wrong.stderr
