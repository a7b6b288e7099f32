"""A bot killed with SIGKILL in the middle of assembling a war room finishes the same war room when it runs again:
real processes (`samverkan run`), real HTTP, the fake Slack Web API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.fakes.slack_api import FakeSlack, Fault
from tests.fakes.slack_http import SIGNING_SECRET, command_body, signed_headers

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")]

EVA = "U01EVALIND"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "samverkan.cli", "run"], env=env,
                               stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(log.read_text())


def assembled(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT assembled_at FROM major_incident")).scalar() is not None
    finally:
        engine.dispose()


def test_kill_9_mid_assembly_then_restart_gives_one_channel_and_one_brief(fake_slack: FakeSlack,
                                                                           tmp_path: Path) -> None:
    fake = fake_slack
    fake.usergroups["S02SDJOUR"] = ["U02SDJOUR1", "U02SDJOUR2"]
    # Slack takes the invitations but the answer never comes back before the bot dies.
    fake.fail("conversations.invite", Fault(hang=8))
    port = free_port()
    url = f"sqlite:///{tmp_path / 'samverkan.db'}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_", "DATABASE_"))}
    env = {**clean, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": fake.base_url, "DATABASE_URL": url, "PORT": str(port), "SAMVERKAN_HOST": "127.0.0.1",
           "SAMVERKAN_LANG": "sv", "SAMVERKAN_CLAIM_LEASE": "2"}
    log = tmp_path / "bot.log"
    first = start(env, port, log)
    try:
        body = command_body("/incident", 'declare "WLAN nere på Södermalm" wlan 1', EVA,
                            response_url=fake.response_url("kill"))
        assert httpx.post(f"http://127.0.0.1:{port}/slack/events", content=body,
                          headers=signed_headers(body)).status_code == 200
        fake.wait_for("conversations.invite")
        fake.wait_for("pins.add")
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the web process and its worker at once
        first.wait(timeout=10)
    assert not assembled(url)
    second = start(env, port, log)
    try:
        deadline = time.monotonic() + 30
        while not assembled(url):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        second.terminate()
        second.wait(timeout=30)
    [create] = fake.calls_to("conversations.create")
    room = fake.channels[create.params["name"]]
    assert len(fake.posted(room)) == 1  # one brief
    assert fake.pins[room] == [fake.posted(room)[0]["ts"]]
    assert len(fake.posted("#storingar")) == 1 and len(fake.posted(f"D{EVA}")) == 1
    assert fake.members[room] == {"UBOT", EVA, "U02SDJOUR1", "U02SDJOUR2"}
    assert fake.shared[room] == {"noc@netops.example", "drift@sterik.example"}
