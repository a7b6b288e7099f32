"""How long `samverkan run` takes to answer /healthz on an existing database.

    .venv/bin/python -m benchmarks.start [--runs 5] [--backend sqlite|postgres]

The database is created and migrated first (as after an earlier start), then `samverkan run` is spawned --runs times
as a whole process (the interpreter's start and every import included, as issue 23 measured it from outside), and
each time the wall time from the spawn to the first 200 from GET /healthz is taken, then to the first 200 from
GET /readyz (the application built, the database at the head migration). The figure the target is for is the median
of the first. Target (issues 12 and 23): at most 1.5 s. `--command script` spawns the installed console script
(.venv/bin/samverkan run) rather than `python -m samverkan.cli run`. Slack is the fake Web API on 127.0.0.1; nothing
calls it before /healthz answers.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.fakes.processes import free_port

TARGET_S = 1.5


def once(env: dict[str, str], port: int, log: Path, command: list[str]) -> tuple[float, float]:
    """Seconds from the spawn to /healthz's first 200, and to /readyz's."""
    started = time.perf_counter()
    with log.open("a") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        found = []
        for path in ("/healthz", "/readyz"):
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"samverkan run exited with {process.returncode}; see {log}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 200:
                        found.append(time.perf_counter() - started)
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.005)
        return found[0], found[1]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.start", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--command", choices=("module", "script"), default="module",
                        help="python -m samverkan.cli run (module) or the console script .venv/bin/samverkan run")
    args = parser.parse_args(argv)

    from storage.db import make_engine, migrate
    from tests.fakes.slack_api import FakeSlack
    from tests.postgres_server import PostgresServer

    postgres = PostgresServer.from_env() if args.backend == "postgres" else None
    if postgres:
        postgres.start()
    try:
        with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
            url = postgres.create_database("start") if postgres else f"sqlite:///{Path(tmp) / 'start.db'}"
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_"))}
            env.update(SLACK_BOT_TOKEN="xoxb-start", SLACK_SIGNING_SECRET="start-secret", PORT=str(port),
                       SLACK_API_URL=fake.base_url, DATABASE_URL=url, SAMVERKAN_HOST="127.0.0.1", LOG_LEVEL="WARNING")
            command = ([sys.executable, "-m", "samverkan.cli", "run"] if args.command == "module"
                       else [str(Path(sys.executable).parent / "samverkan"), "run"])
            log = Path(tmp) / "start.log"
            once(env, port, log, command)  # the first start seeds the directory; it is not counted
            found = [once(env, port, log, command) for _ in range(args.runs)]
            times = [f[0] for f in found]
            ready = [f[1] for f in found]
    finally:
        if postgres:
            postgres.stop()
    median = statistics.median(times)
    print(f"spawn of `{' '.join(Path(c).name for c in command)}` to /healthz 200 on an existing {args.backend} "
          f"database, {args.runs} starts: " + ", ".join(f"{t:.2f}" for t in times) + " s")
    print("spawn to /readyz 200 (application built, schema at head): " + ", ".join(f"{t:.2f}" for t in ready)
          + f" s, median {statistics.median(ready):.2f} s (no target)")
    print(f"median {median:.2f} s (target <= {TARGET_S} s: {'met' if median <= TARGET_S else 'NOT met'}); "
          f"ratio to the target {median / TARGET_S:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
