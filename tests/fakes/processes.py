"""Real bot processes for the restart and two-process tests: `samverkan run` in HTTP mode against the fake Slack,
with a model whose sittings are minutes away so reminders fall due within seconds."""

from __future__ import annotations

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

from bot.clock import STOCKHOLM
from bot.model import shipped_model_path


def soon_model(path: Path, forums: int, due_in: list[int]) -> list[str]:
    """Writes a model whose `forums` forums all sit a few minutes from now, with reminders due `due_in` seconds
    from now. Returns the forums' channels."""
    shipped = yaml.safe_load(shipped_model_path().read_text(encoding="utf-8"))
    now = datetime.now(STOCKHOLM)
    sitting = (now + timedelta(minutes=4)).replace(second=0, microsecond=0)
    offsets = [f"{int((sitting - now).total_seconds()) - seconds}s" for seconds in due_in]
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BotProcess:
    def __init__(self, name: str, database_url: str, slack_api_url: str, model: Path, logs: Path,
                 lease: float = 2.0) -> None:
        self.port = free_port()
        self.log = logs / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_"))}
        env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="secret", SLACK_API_URL=slack_api_url,
                   DATABASE_URL=database_url, PORT=str(self.port), SAMVERKAN_HOST="127.0.0.1",
                   SAMVERKAN_MODEL=str(model), SAMVERKAN_CLAIM_LEASE=str(lease), LOG_LEVEL="INFO")
        self.process = subprocess.Popen([sys.executable, "-m", "samverkan.cli", "run"], env=env,
                                        stdout=self.log.open("w"), stderr=subprocess.STDOUT, cwd=logs)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"bot exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"bot not ready in {timeout} s:\n{self.log.read_text()}")

    def kill(self) -> None:
        """kill -9: no cleanup, no finally blocks, no goodbye."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
