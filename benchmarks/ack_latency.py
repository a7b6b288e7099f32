"""Ack latency and the work after it, for signed slash commands in HTTP mode: `samverkan run` against a bare
slack-bolt app that only acks.

    .venv/bin/python -m benchmarks.ack_latency [--runs 3] [--clients 50] [--requests 1000] [--delay 0.1]
                                               [--backend sqlite|postgres] [--json FILE]

Each run starts both servers as processes of their own (samverkan as it ships: its web process and its worker), on
127.0.0.1, one after the other, and loads each with the same generator (also a process of its own). The figures
are the medians of the runs. Targets (issue 12): samverkan's ack p99 within 1.5x of the bare app's, and every one of
the commands answered (each answer is a Slack call taking --delay) within 3 s after the burst.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.fakes.processes import free_port
from tests.fakes.slack_http import SIGNING_SECRET, command_body, signed_headers

USER = "U02JOHANEK"  # a person seeded from the model: whoami is answered from the database
WARMUP_PER_CLIENT = 2
RATIO_TARGET = 1.5
DRAIN_TARGET_S = 3.0
ROOT = Path(__file__).parents[1]


# -- the load generator: a process of its own, so it never competes with a server for the GIL ---------------------
def load(url: str, response_url: str, clients: int, requests: int) -> dict:
    lock = threading.Lock()
    left = [requests]
    latencies: list[float] = []
    errors = [0]
    window: dict[str, float] = {}
    barrier = threading.Barrier(clients, action=lambda: window.update(start=time.perf_counter(),
                                                                       cpu=time.process_time()), timeout=120)

    def send(http: httpx.Client) -> float | None:
        # A trigger of its own and a fresh timestamp, as Slack sends each request; made outside the timing.
        body = command_body("/samverkan", "whoami", USER, response_url=response_url)
        headers = signed_headers(body)
        started = time.perf_counter()
        try:
            ok = http.post(url, content=body, headers=headers).status_code == 200
        except Exception:  # a refused or broken connection is an error to count, not a crash
            ok = False
        return time.perf_counter() - started if ok else None

    def client() -> None:
        mine: list[float] = []
        failed = 0
        with httpx.Client(timeout=10) as http:
            for _ in range(WARMUP_PER_CLIENT):
                failed += send(http) is None
            barrier.wait()
            while True:
                with lock:
                    if left[0] <= 0:
                        break
                    left[0] -= 1
                took = send(http)
                if took is None:
                    failed += 1
                else:
                    mine.append(took)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - window["start"]
    return {"latencies": latencies, "errors": errors[0], "seconds": seconds, "measured": requests,
            "cpu": (time.process_time() - window["cpu"]) / seconds}


def summary(result: dict) -> dict:
    ms = sorted(x * 1000 for x in result["latencies"]) or [float("nan")]
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {"p50_ms": round(cuts[49], 2), "p99_ms": round(cuts[98], 2), "max_ms": round(ms[-1], 2),
            "commands_per_s": round(result["measured"] / result["seconds"], 1), "errors": result["errors"],
            "generator_cpu": round(result["cpu"], 2)}


# -- the servers under test, each a process of its own ------------------------------------------------------------
def wait_healthy(port: int, process: subprocess.Popen, log: Path, path: str = "/healthz") -> float:  # type: ignore[type-arg]
    started = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.02)


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int, log: Path, ready: str = "/healthz"):  # type: ignore[no-untyped-def]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        wait_healthy(port, process, log, ready)
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def bare_bolt(fake_url: str, folder: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return serving([sys.executable, "-m", "benchmarks.bare_bolt", str(port), fake_url], env, port,
                   folder / "bare.log")


def samverkan(fake_url: str, database_url: str, folder: Path, settings: dict[str, str]):  # type: ignore[no-untyped-def]
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_", "DATABASE_"))}
    env = {**clean, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake_url,
           "DATABASE_URL": database_url, "PORT": str(port), "SAMVERKAN_HOST": "127.0.0.1", "LOG_LEVEL": "WARNING",
           **settings}
    # /readyz: samverkan answers /healthz while it is still building the application (samverkan/starting.py)
    return serving([sys.executable, "-m", "samverkan.cli", "run"], env, port, folder / "samverkan.log", "/readyz")


def answers(fake) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for c in fake.calls_to("respond") if c.params.get("_token") == "bench" and c.delivered)


def one_run(args: argparse.Namespace, fake, generator, folder: Path, database_url: str,  # type: ignore[no-untyped-def]
            bare_last: bool = False) -> dict:
    def measure(url: str) -> dict:
        return summary(generator.submit(load, url, fake.response_url("bench"), args.clients, args.requests).result())

    bare = None
    if not bare_last:
        with bare_bolt(fake.base_url, folder) as url:
            bare = measure(url)
    fake.reset()
    fake.delay = args.delay
    sent = args.clients * WARMUP_PER_CLIENT + args.requests
    with samverkan(fake.base_url, database_url, folder, dict(args.set)) as url:
        ours = measure(url)
        ended = time.perf_counter()
        during = answers(fake)
        while answers(fake) < sent and time.perf_counter() - ended < args.drain_timeout:
            time.sleep(0.01)
        ours.update(answered=answers(fake), answered_during_load=during, drain_s=round(time.perf_counter() - ended, 2))
    if bare is None:
        with bare_bolt(fake.base_url, folder) as url:
            bare = measure(url)
    return {"bare bolt": bare, "samverkan": ours, "sent": sent}


def _setting(given: str) -> tuple[str, str]:
    name, equals, value = given.partition("=")
    if not equals or not name.isupper():
        raise argparse.ArgumentTypeError(f"{given!r} is not NAME=VALUE")
    return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ack_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", "--rounds", type=int, default=3)
    parser.add_argument("--alternate", action="store_true",
                        help="alternate the order (samverkan first in odd rounds, the bare app first in even ones) "
                             "and report the median of each round's p99 ratio, as issue 23 measured it")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per app, after the warm-up")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds the fake Slack takes for each call")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--set", action="append", default=[], type=_setting, metavar="NAME=VALUE",
                        help="a setting for samverkan run, e.g. SAMVERKAN_WORKER_PROCESSES=2 (repeatable)")
    args = parser.parse_args(argv)

    from tests.fakes.slack_api import FakeSlack
    from tests.postgres_server import PostgresServer

    postgres = PostgresServer.from_env() if args.backend == "postgres" else None
    if postgres:
        postgres.start()
    runs = []
    spawn = multiprocessing.get_context("spawn")
    try:
        with (FakeSlack(delay=args.delay) as fake, tempfile.TemporaryDirectory() as tmp,
              ProcessPoolExecutor(max_workers=1, mp_context=spawn) as generator):
            for n in range(args.runs):
                folder = Path(tmp)
                url = (postgres.create_database(f"bench{n}") if postgres
                       else f"sqlite:///{folder / f'bench{n}.db'}")
                fake.reset()
                fake.delay = args.delay
                runs.append(one_run(args, fake, generator, folder, url, bare_last=args.alternate and n % 2 == 0))
    finally:
        if postgres:
            postgres.stop()
    return report(args, runs)


def report(args: argparse.Namespace, runs: list[dict]) -> int:
    def median(app: str, figure: str) -> float:
        return statistics.median(run[app][figure] for run in runs)

    print(f"{args.runs} runs; {args.clients} clients, {args.requests} measured requests per app (after "
          f"{args.clients * WARMUP_PER_CLIENT} warm-up); fake Slack {args.delay * 1000:.0f} ms a call; "
          f"samverkan on {args.backend}")
    print(f"{'run':<4} {'app':<10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'cmd/s':>7} {'errors':>6} {'gen cpu':>7}"
          f" {'answered':>9} {'after burst s':>13}")
    for n, run in enumerate(runs, 1):
        for app in ("samverkan", "bare bolt"):
            r = run[app]
            extra = (f" {r['answered']:>5}/{run['sent']:<4} {r['drain_s']:>13.2f}" if app == "samverkan" else "")
            print(f"{n:<4} {app:<10} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['max_ms']:>7.1f} "
                  f"{r['commands_per_s']:>7.1f} {r['errors']:>6} {r['generator_cpu']:>7.2f}{extra}")
    ratio = median("samverkan", "p99_ms") / median("bare bolt", "p99_ms")
    if args.alternate:
        ratios = [run["samverkan"]["p99_ms"] / run["bare bolt"]["p99_ms"] for run in runs]
        print("p99 ratio of each round (samverkan first in rounds 1, 3, ...): "
              + ", ".join(f"{r:.2f}" for r in ratios))
        ratio = statistics.median(ratios)
        print(f"median of the rounds' ratios: {ratio:.2f} (target <= {RATIO_TARGET}: "
              f"{'met' if ratio <= RATIO_TARGET else 'NOT met'})")
    drain = median("samverkan", "drain_s")
    complete = all(run["samverkan"]["answered"] == run["sent"] for run in runs)
    print(f"median p99: samverkan {median('samverkan', 'p99_ms'):.1f} ms, bare bolt {median('bare bolt', 'p99_ms'):.1f}"
          f" ms; ratio {ratio:.2f} (target <= {RATIO_TARGET}: {'met' if ratio <= RATIO_TARGET else 'NOT met'})")
    print(f"median time from the end of the burst to the last answer: {drain:.2f} s (floor: one Slack call, "
          f"{args.delay:.2f} s; target <= {DRAIN_TARGET_S:.0f} s: {'met' if drain <= DRAIN_TARGET_S else 'NOT met'})"
          f"{'' if complete else '; NOT every command was answered'}")
    if args.json:
        args.json.write_text(json.dumps({"settings": vars(args) | {"json": str(args.json)}, "runs": runs,
                                         "p99_ratio": round(ratio, 2), "drain_s": drain}, indent=2), encoding="utf-8")
    errors = sum(run[app]["errors"] for run in runs for app in ("samverkan", "bare bolt"))
    return 1 if errors or not complete else 0


if __name__ == "__main__":
    sys.exit(main())
