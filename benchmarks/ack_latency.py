"""Ack latency of signed slash commands in HTTP mode: samverkan against a bare slack-bolt app that only acks.

    .venv/bin/python -m benchmarks.ack_latency [--clients 50] [--requests 2000] [--delay 0.1] [--json FILE]

Both apps are served by the same code (handlers.server on waitress, same thread count) on 127.0.0.1, one after the
other in the same run, by the same load generator. Target: samverkan's p99 under 100 ms and within 2x of the bare app.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.fakes.slack_http import SIGNING_SECRET, command_body, signed_headers

USER = "U02JOHANEK"  # a person seeded from the model: whoami is answered from the database, not the Web API
# How tests.fakes.slack_http.SlackAppServer serves the real app; the bare app gets the same, so only the apps differ.
WAITRESS_THREADS, WAITRESS_LOOP_TIMEOUT = 8, 0.1
WARMUP_PER_CLIENT = 2  # 100 uncounted requests at 50 clients: connections open, code paths and pools warm
P99_TARGET_MS = 100.0
RATIO_TARGET = 2.0


# -- the load generator: runs in its own process so it never competes with the server for the GIL -----------------
def load(url: str, response_url: str, clients: int, requests: int) -> dict:
    lock = threading.Lock()
    left = [requests]
    latencies: list[float] = []
    errors = [0]
    window: dict[str, float] = {}
    barrier = threading.Barrier(clients, action=lambda: window.update(start=time.perf_counter(),
                                                                       cpu=time.process_time()), timeout=60)

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
            barrier.wait()  # every client starts the measured part together
            while True:
                with lock:
                    if left[0] == 0:
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
    # Near 1.0 the generator itself is the bottleneck and the figures say more about it than about the server.
    cpu = (time.process_time() - window["cpu"]) / seconds
    return {"latencies": latencies, "errors": errors[0], "seconds": seconds, "measured": requests, "cpu": cpu}


def summary(result: dict) -> dict:
    ms = sorted(x * 1000 for x in result["latencies"]) or [float("nan")]
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {"p50_ms": round(cuts[49], 2), "p99_ms": round(cuts[98], 2), "max_ms": round(ms[-1], 2),
            "commands_per_s": round(result["measured"] / result["seconds"], 1), "errors": result["errors"],
            "generator_cpu": round(result["cpu"], 2)}


# -- the servers under test, in this process ------------------------------------------------------------------------
@contextmanager
def watch(figures: dict):  # type: ignore[no-untyped-def]
    """Two server-side causes of ack delay: requests waiting for a waitress thread (waitress warns for each one)
    and full garbage collections, which hold the GIL and so stall every thread of the server at once."""
    figures.update(waitress_queue_max=0, gc_full_max_ms=0.0)
    started: list[float] = []

    class Queue(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            figures["waitress_queue_max"] = max(figures["waitress_queue_max"], int(record.args[0]))  # type: ignore

    def collected(phase: str, info: dict) -> None:
        if phase == "start":
            started[:] = [time.perf_counter()]
        elif info["generation"] == 2 and started:
            pause = round((time.perf_counter() - started[0]) * 1000, 1)
            figures["gc_full_max_ms"] = max(figures["gc_full_max_ms"], pause)

    queue, handler = logging.getLogger("waitress.queue"), Queue()
    queue.addHandler(handler)
    queue.propagate = False
    gc.callbacks.append(collected)
    try:
        yield
    finally:
        gc.callbacks.remove(collected)
        queue.removeHandler(handler)
        queue.propagate = True


@contextmanager
def bare_bolt(fake):  # type: ignore[no-untyped-def]
    from slack_bolt import App
    from slack_sdk import WebClient

    from handlers.server import serve, wsgi_app
    from tests.fakes.slack_http import InThread

    app = App(signing_secret=SIGNING_SECRET, token_verification_enabled=False,
              client=WebClient(token="xoxb-x", base_url=fake.base_url))

    @app.command("/samverkan")
    def only_ack(ack) -> None:  # type: ignore[no-untyped-def]
        ack()

    server = serve(wsgi_app(app, SIGNING_SECRET, lambda: True), "127.0.0.1", 0, threads=WAITRESS_THREADS,
                   asyncore_loop_timeout=WAITRESS_LOOP_TIMEOUT)
    background = InThread(server)
    background.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}/slack/events"
    finally:
        background.stop()


def settle() -> None:
    """What `samverkan run` does once started: long-lived start-up objects are frozen out of the collector."""
    gc.collect()
    gc.freeze()


def answers(fake) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.params.get("text", "") for c in fake.calls_to("respond") if c.params.get("_token") == "bench"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ack_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per app, after the warm-up")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds the fake Slack takes for each call")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    from bot.clock import SystemClock
    from tests.fakes.slack_api import FakeSlack
    from tests.fakes.slack_http import SlackAppServer

    sent = args.clients * WARMUP_PER_CLIENT + args.requests
    results: dict[str, dict] = {"samverkan": {}, "bare bolt": {}}
    spawn = multiprocessing.get_context("spawn")
    with (FakeSlack(delay=args.delay) as fake, tempfile.TemporaryDirectory() as tmp,
          ProcessPoolExecutor(max_workers=1, mp_context=spawn) as generator):
        response_url = fake.response_url("bench")

        def measure(url: str) -> dict:
            return summary(generator.submit(load, url, response_url, args.clients, args.requests).result())

        ours, bare = results["samverkan"], results["bare bolt"]
        with bare_bolt(fake) as url, watch(bare):
            settle()
            bare.update(measure(url))

        with SlackAppServer(f"sqlite:///{Path(tmp) / 'samverkan.db'}", fake, SystemClock()) as app:
            url = f"http://127.0.0.1:{app.server.effective_port}/slack/events"
            settle()
            with watch(ours):
                ours.update(measure(url))
            # The ack promises work; it must really be done afterwards, so wait for every answer to arrive.
            ended = time.perf_counter()
            during = len(answers(fake))
            while len(answers(fake)) < sent and time.perf_counter() - ended < args.drain_timeout:
                time.sleep(0.05)
            got = answers(fake)
            ours.update(sent=sent, answered_during_load=during, answered=len(got),
                        drain_s=round(time.perf_counter() - ended, 2),
                        correct_answers=sum(text.startswith("Du är *Johan Ek*") for text in got))

    ratio = ours["p99_ms"] / bare["p99_ms"]
    targets = {"p99_under_100ms": ours["p99_ms"] < P99_TARGET_MS, "p99_within_2x_bare": ratio <= RATIO_TARGET}
    warmup = args.clients * WARMUP_PER_CLIENT
    print(f"{args.clients} clients, {args.requests} measured requests per app (after {warmup} warm-up), "
          f"fake Slack delay {args.delay}s, waitress threads {WAITRESS_THREADS}")
    print(f"{'app':<10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'cmd/s':>7} {'errors':>6} {'queue':>5} "
          f"{'gc2 ms':>6} {'gen cpu':>7}")
    for name in ("samverkan", "bare bolt"):
        r = results[name]
        print(f"{name:<10} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['max_ms']:>7.1f} {r['commands_per_s']:>7.1f} "
              f"{r['errors']:>6} {r['waitress_queue_max']:>5} {r['gc_full_max_ms']:>6.1f} {r['generator_cpu']:>7.2f}")
    print("queue: most requests waiting for a waitress thread; gc2: longest full garbage collection in the server;\n"
          "gen cpu: cores used by the load generator (near 1 it, not the server, is the bottleneck)")
    print(f"samverkan work after the ack: {ours['answered']}/{sent} answers ({ours['correct_answers']} correct), "
          f"{ours['answered_during_load']} during the load, all done {ours['drain_s']} s after it")
    print(f"p99 samverkan / bare bolt: {ratio:.2f}")
    print(f"target p99 < {P99_TARGET_MS:.0f} ms: {'met' if targets['p99_under_100ms'] else 'NOT met'}; "
          f"p99 within {RATIO_TARGET:.0f}x of bare bolt: {'met' if targets['p99_within_2x_bare'] else 'NOT met'}")
    if args.json:
        settings = {"clients": args.clients, "requests": args.requests, "delay": args.delay,
                    "warmup": warmup, "waitress_threads": WAITRESS_THREADS}
        args.json.write_text(json.dumps({"settings": settings, **results, "p99_ratio": round(ratio, 2),
                                         "targets": targets}, indent=2, ensure_ascii=False), encoding="utf-8")
    return 1 if ours["errors"] or bare["errors"] or ours["answered"] < sent else 0


if __name__ == "__main__":
    sys.exit(main())
