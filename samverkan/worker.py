"""`samverkan run` is two processes: the web process answers Slack (it writes each command down and acknowledges
it), and this worker process does the work (commands, deliveries, the duties that fall due).

Two because Python runs one thread at a time per process: with the work beside them, acknowledgements waited their
turn behind it. The web process hands each command's inbox entry over a queue; the worker also sweeps the inbox, so
an entry handed to a worker that died (or written by another replica) is still done, once (bot.inbox).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from typing import Any

from samverkan.logs import configure_logging, settings_secrets
from samverkan.settings import Settings

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")
WORKER_NICENESS = 5


def serve(settings: dict[str, Any], entries: Queue, parent: int, log_level: str) -> None:  # type: ignore[type-arg]
    """The worker process's life: build, sweep, and take entries off the queue until told to stop."""
    chosen = Settings(**settings)
    configure_logging(log_level, chosen.samverkan_log_format, settings_secrets(chosen))
    # Beside the web process on the same cores, the worker yields: an acknowledgement is due within 3 s, an
    # answer may take a moment longer.
    os.nice(WORKER_NICENESS)
    from samverkan.wiring import build

    runtime = build(chosen, deliver_apart=True)
    held: set[int] = set()
    lock = threading.Lock()
    runtime.holding = lambda: set(held)
    runtime.start_scheduler()
    threading.Thread(target=_die_with, args=(parent,), name="parent-watch", daemon=True).start()
    pool = ThreadPoolExecutor(settings.get("samverkan_workers", 8), thread_name_prefix="work")

    def process(entry: int) -> None:
        try:
            runtime.process(entry)
        finally:
            with lock:
                held.discard(entry)

    try:
        while (entry := entries.get()) is not None:
            with lock:
                held.add(entry)
            runtime.telemetry.waiting(+1)
            pool.submit(process, entry)
    finally:
        pool.shutdown(wait=True)
        runtime.close()


def _die_with(parent: int) -> None:
    """A worker whose web process was killed (kill -9 leaves no goodbye) stops too: it must not go on alone."""
    stop = threading.Event()
    while not stop.wait(0.5):
        if os.getppid() != parent:
            log.warning("the web process is gone; the worker stops")
            os._exit(0)


def _forget_metrics_of(pid: int | None) -> None:
    """A dead worker's gauges (commands waiting) no longer count; its counters stay in the totals."""
    from samverkan.metrics import multiprocess

    if pid is not None and multiprocess():
        from prometheus_client import multiprocess as across

        across.mark_process_dead(pid)


class Worker:
    """The web process's handle on its worker: starts it, hands it entries, restarts it if it dies."""

    def __init__(self, settings: Settings, log_level: str) -> None:
        self._settings = settings.model_dump()
        self._log_level = log_level
        self.entries: Queue = _SPAWN.Queue()  # type: ignore[type-arg]
        self._process: SpawnProcess | None = None
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._keep_alive, name="worker-watch", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._watch.start()

    def hand_off(self, entry: int, _command: object = None) -> None:
        self.entries.put(entry)

    def _spawn(self) -> None:
        self._process = _SPAWN.Process(target=serve, args=(self._settings, self.entries, os.getpid(),
                                                          self._log_level), name="samverkan-worker")
        self._process.start()

    def _keep_alive(self) -> None:
        while not self._stopping.wait(1.0):
            if self._process is not None and not self._process.is_alive():
                log.error("the worker process stopped (exit code %s); starting another", self._process.exitcode)
                _forget_metrics_of(self._process.pid)
                self._spawn()

    def stop(self, timeout: float = 20.0) -> None:
        self._stopping.set()
        self.entries.put(None)
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.terminate()
