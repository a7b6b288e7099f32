"""Real bot processes for the restart and two-process tests: `samverkan run` in HTTP mode against the fake Slack.

Nothing here depends on how fast the machine is. The reminders are planned into the database before any process
starts (`plan_reminders`), due already, so a process that takes long to start finds them waiting, and tests wait
for the database to say every reminder is finished (`wait_until_finished`), not for a number of seconds.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import yaml
from sqlalchemy import create_engine, text

from bot.app import Samverkan
from bot.clock import STOCKHOLM, SystemClock
from bot.forum import reminders
from bot.model import shipped_model_path
from samverkan.settings import Settings
from samverkan.wiring import open_database
from tests.fakes.recording_chat import RecordingChat

SITTING_IN = timedelta(minutes=30)


def soon_model(path: Path, forums: int, per_forum: int = 1) -> list[str]:
    """Writes a model whose `forums` forums all sit half an hour from now, each with `per_forum` reminders that are
    all due by now. Returns the forums' channels."""
    shipped = yaml.safe_load(shipped_model_path().read_text(encoding="utf-8"))
    now = datetime.now(STOCKHOLM)
    sitting = (now + SITTING_IN).replace(second=0, microsecond=0)
    lead = int((sitting - now).total_seconds())
    offsets = [f"{lead + 60 * n}s" for n in range(per_forum)]  # due now, a minute ago, ...
    channels = [f"#soon-{n:03d}" for n in range(forums)]
    model = {
        "name": {"sv": "Test", "en": "Test"},
        "party_classes": shipped["party_classes"], "parties": shipped["parties"], "roles": shipped["roles"],
        "people": shipped["people"],
        "forums": [{
            "key": f"soon-{n:03d}", "name": {"sv": f"Forum {n}", "en": f"Forum {n}"}, "channel": channels[n],
            "cadence": {"sv": "en gång", "en": "once"}, "chair": ["city"],
            "attendees": [{"party": "supplier", "roles": ["kundansvarig"]}],
            "dates": [sitting.date().isoformat()], "time": sitting.strftime("%H:%M"), "holidays": "keep",
            "reminders": offsets,
        } for n in range(forums)],
    }
    path.write_text(yaml.safe_dump(model, allow_unicode=True), encoding="utf-8")
    return channels


def plan_reminders(database_url: str, model: Path) -> int:
    """Plans the model's reminders into the database as a bot would, counting from an hour ago (as if it had been
    running then): returns how many are planned. The bots then only perform them."""
    database = open_database(Settings(database_url=database_url, samverkan_model=model))
    try:
        with database.unit_of_work() as uow:
            uow.forum.set_mark(reminders.PLANNED, SystemClock().now() - timedelta(hours=1))
            uow.commit()
        Samverkan(database.model, database.unit_of_work, SystemClock(), RecordingChat()).plan()
        with database.engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM duty WHERE kind = 'forum.reminder'")).scalar()
                       or 0)
    finally:
        database.engine.dispose()


def unfinished(database_url: str, kind: str = "forum.reminder") -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM duty WHERE kind = :kind AND state IN "
                                               "('pending', 'claimed')"), {"kind": kind}).scalar() or 0)
    finally:
        engine.dispose()


def wait_until_finished(database_url: str, bots: list[BotProcess], timeout: float = 180) -> None:
    """Until no reminder is pending or claimed: from then on nothing can be posted again."""
    deadline = time.monotonic() + timeout
    while unfinished(database_url):
        for bot in bots:
            if bot.process.poll() is not None:
                raise AssertionError(f"{bot.log.name} exited:\n{bot.log.read_text()}")
        assert time.monotonic() < deadline, "\n".join(bot.log.read_text() for bot in bots)
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BotProcess:
    def __init__(self, name: str, database_url: str, slack_api_url: str, model: Path, logs: Path,
                 lease: float = 2.0, **settings: str) -> None:
        self.port = free_port()
        self.log = logs / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_"))}
        env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="secret", SLACK_API_URL=slack_api_url,
                   DATABASE_URL=database_url, PORT=str(self.port), SAMVERKAN_HOST="127.0.0.1",
                   SAMVERKAN_MODEL=str(model), SAMVERKAN_CLAIM_LEASE=str(lease), LOG_LEVEL="INFO")
        env.update(settings)
        # A session of its own: `samverkan run` is a web process and its worker, and a kill takes both.
        self.process = subprocess.Popen([sys.executable, "-m", "samverkan.cli", "run"], env=env,
                                        stdout=self.log.open("w"), stderr=subprocess.STDOUT, cwd=logs,
                                        start_new_session=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"bot exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                # Built, not only listening: /healthz answers while the start is still importing and building
                # (samverkan/starting.py), /readyz says "starting" until it is done.
                if _started(httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1)):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"bot not ready in {timeout} s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """kill -9 of both processes at once: no cleanup, no finally blocks, no goodbye."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever of the group is left


def _started(response: httpx.Response) -> bool:
    """The application is built: /readyz answers for it (ready or not), no longer "starting"."""
    try:
        return response.json().get("status") != "starting"
    except ValueError:
        return False
