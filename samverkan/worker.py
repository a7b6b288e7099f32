"""`samverkan run` is a web process that answers Slack (it writes each command down and acknowledges it) and worker
processes that do the work (commands, deliveries, the duties that fall due).

Apart because Python runs one thread at a time per process: with the work beside them, acknowledgements waited
their turn behind it; and several workers because one is one core. The web process hands each command's inbox entry
to the workers in turn, each over a queue of its own (a worker killed while reading a shared queue would leave its
lock taken for good). Every worker also sweeps the inbox, so an entry handed to a worker that died (or written by
another replica) is still done, once (bot.inbox).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from typing import Any

from bot.chat import Command
from samverkan.logs import configure_logging, settings_secrets
from samverkan.settings import Settings

log = logging.getLogger(__name__)

_SPAWN = multiprocessing.get_context("spawn")


def serve(settings: dict[str, Any], entries: Queue, parent: int, log_level: str) -> None:  # type: ignore[type-arg]
    """The worker process's life: build, sweep, and take entries off the queue until told to stop."""
    # A stop is the web process's to give (over the queue, after the work in hand): systemd and a terminal's Ctrl-C
    # signal the whole process group, and a worker dying of that signal would drop what it holds.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    chosen = Settings(**settings)
    configure_logging(log_level, chosen.samverkan_log_format, settings_secrets(chosen))
    # Beside the web process on the same cores, the worker yields: an acknowledgement is due within 3 s, an
    # answer may take a moment longer.
    os.nice(chosen.samverkan_worker_niceness)
    from samverkan.wiring import build

    runtime = build(chosen, deliver_apart=True)
    held: set[int] = set()
    lock = threading.Lock()
    runtime.holding = lambda: set(held)
    runtime.start_scheduler()
    threading.Thread(target=_die_with, args=(parent,), name="parent-watch", daemon=True).start()
    pool = ThreadPoolExecutor(settings.get("samverkan_workers", 8), thread_name_prefix="work")

    def process(entry: int, command: Command) -> None:
        try:
            runtime.process(entry, command)
        finally:
            with lock:
                held.discard(entry)

    try:
        while (handed := entries.get()) is not None:
            entry, command = handed
            with lock:
                held.add(entry)
            runtime.telemetry.waiting(+1)
            pool.submit(process, entry, command)
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


@dataclass
class _Slot:
    process: SpawnProcess
    entries: Queue  # type: ignore[type-arg]


class Worker:
    """The web process's handle on its workers: starts them, hands them entries in turn, replaces one that dies."""

    def __init__(self, settings: Settings, log_level: str) -> None:
        self._settings = settings.model_dump()
        self._log_level = log_level
        self._slots: list[_Slot] = []
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._count = settings.worker_processes
        self._stopping = threading.Event()
        self._watch = threading.Thread(target=self._keep_alive, name="worker-watch", daemon=True)

    def start(self) -> None:
        with self._lock:
            self._slots = [self._spawn(n) for n in range(self._count)]
        self._watch.start()

    def hand_off(self, entry: int, command: Command) -> None:
        # The command goes along (it is what the inbox holds under `entry`): the worker need not read it back.
        with self._lock:
            slot = self._slots[next(self._turn) % len(self._slots)]
        slot.entries.put((entry, command))

    def _spawn(self, n: int) -> _Slot:
        entries: Queue = _SPAWN.Queue()  # type: ignore[type-arg]
        process = _SPAWN.Process(target=serve, args=(self._settings, entries, os.getpid(), self._log_level),
                                 name=f"samverkan-worker-{n}")
        process.start()
        return _Slot(process, entries)

    def _keep_alive(self) -> None:
        while not self._stopping.wait(1.0):
            with self._lock:
                for n, slot in enumerate(self._slots):
                    if not slot.process.is_alive() and not self._stopping.is_set():
                        log.error("worker process %d stopped (exit code %s); starting another", n,
                                  slot.process.exitcode)
                        _forget_metrics_of(slot.process.pid)
                        # What was on its queue is in the inbox: the sweeps do it.
                        self._slots[n] = self._spawn(n)

    def stop(self, timeout: float = 20.0) -> None:
        self._stopping.set()
        with self._lock:
            slots = list(self._slots)
        for slot in slots:
            slot.entries.put(None)
        for slot in slots:
            slot.process.join(timeout)
            if slot.process.is_alive():
                slot.process.kill()  # it ignores SIGTERM (above)
