"""`GET /metrics`: what the operators watch, in Prometheus's text format (bot.telemetry's measurements).

`samverkan run` is two processes (samverkan.worker), so the measurements are kept the way prometheus_client keeps
them for several processes: each writes its own files in PROMETHEUS_MULTIPROC_DIR and the web process adds them up
when scraped. That directory must be chosen before prometheus_client is first imported (`prepare_multiprocess`).
What the database knows (the inbox's backlog, the duties due) is counted at scrape time instead.

Labels are bounded sets of the product's words: a command's and sub-command's name, a duty's kind, an outcome, a
Slack method. Never a person, a channel or a text.
"""

from __future__ import annotations

import glob
import hmac
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator

from bot.clock import Clock
from bot.ports import UnitOfWorkFactory
from bot.telemetry import LATE_AFTER

log = logging.getLogger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Slack gives 3 s for an ack; the buckets are finest where a healthy server is and mark the limit itself.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
WORK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LATENESS_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)
WAR_ROOM_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def prepare_multiprocess() -> str | None:
    """Before prometheus_client is imported: the operator's PROMETHEUS_MULTIPROC_DIR emptied of an earlier run's
    files, or a new temporary one. Returns a directory to remove at exit (the temporary one), or None."""
    chosen = os.environ.get(MULTIPROCESS_ENV)
    if chosen:
        os.makedirs(chosen, exist_ok=True)
        for stale in glob.glob(os.path.join(chosen, "*.db")):
            os.remove(stale)
        return None
    made = tempfile.mkdtemp(prefix="samverkan-metrics-")
    os.environ[MULTIPROCESS_ENV] = made
    return made


def remove_multiprocess(directory: str | None) -> None:
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


class PrometheusTelemetry:
    """bot.telemetry.Telemetry kept in prometheus_client's metrics. In one process they are registered in
    `registry`; across processes they go to files, and `exposition` reads those."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        into = None if multiprocess() else self.registry
        self._acks = Histogram("samverkan_ack_duration_seconds", "Time to acknowledge a request from Slack.",
                               ["kind"], buckets=ACK_BUCKETS, registry=into)
        self._commands = Counter("samverkan_commands_total", "Commands processed, by name and outcome.",
                                 ["command", "subcommand", "outcome"], registry=into)
        self._work = Histogram("samverkan_command_duration_seconds",
                               "Time from taking up a received command to handing on its answer.", ["command"],
                               buckets=WORK_BUCKETS, registry=into)
        self._waiting = Gauge("samverkan_commands_waiting", "Commands handed to the workers and not yet done.",
                              registry=into, multiprocess_mode="livesum")
        self._duties = Counter("samverkan_duties_total", "Duties performed, by kind and outcome (retry: failed "
                               "and given back).", ["kind", "outcome"], registry=into)
        self._late = Counter("samverkan_duties_late_total",
                             f"Duties performed more than {LATE_AFTER:.0f} s after they fell due.", ["kind"],
                             registry=into)
        self._lateness = Histogram("samverkan_duty_lateness_seconds", "How long after falling due a duty was "
                                   "performed.", ["kind"], buckets=LATENESS_BUCKETS, registry=into)
        self._takeovers = Counter("samverkan_claim_takeovers_total", "Duties taken over from a process that "
                                  "stopped renewing its claim.", ["kind"], registry=into)
        self._slack = Counter("samverkan_slack_calls_total", "Calls to Slack's Web API, by method and outcome.",
                              ["method", "outcome"], registry=into)
        self._war_rooms = Histogram("samverkan_war_room_assembly_seconds", "Time to assemble a war room.",
                                    buckets=WAR_ROOM_BUCKETS, registry=into)

    def acknowledged(self, kind: str, seconds: float) -> None:
        self._acks.labels(kind).observe(seconds)

    def command_done(self, command: str, subcommand: str, outcome: str, seconds: float) -> None:
        self._commands.labels(command, subcommand, outcome).inc()
        self._work.labels(command).observe(seconds)

    def waiting(self, change: int) -> None:
        self._waiting.inc(change)

    def duty_done(self, kind: str, outcome: str, late: float) -> None:
        self._duties.labels(kind, outcome).inc()
        if outcome != "retry":
            self._lateness.labels(kind).observe(max(late, 0.0))
            if late > LATE_AFTER:
                self._late.labels(kind).inc()

    def claim_taken_over(self, kind: str) -> None:
        self._takeovers.labels(kind).inc()

    def slack_call(self, method: str, outcome: str) -> None:
        self._slack.labels(method, outcome).inc()

    def war_room_ready(self, seconds: float) -> None:
        self._war_rooms.observe(seconds)


class Backlog:
    """What the database says is waiting, counted when scraped: every process's backlog, not only this one's."""

    def __init__(self, unit_of_work: UnitOfWorkFactory, clock: Clock) -> None:
        self.unit_of_work = unit_of_work
        self.clock = clock

    def describe(self) -> list:
        return []  # nothing to describe before a scrape: no query at registration

    def collect(self) -> Iterator:
        from prometheus_client.core import GaugeMetricFamily

        try:
            with self.unit_of_work(read_only=True) as uow:
                backlog = uow.inbox.backlog()
                due = uow.duties.due_counts(self.clock.now())
        except Exception as error:  # a scrape must answer; /readyz says the database is gone
            log.warning("metrics: the database did not answer: %s", error)
            return
        yield GaugeMetricFamily("samverkan_inbox_backlog", "Received commands waiting to be processed.",
                                value=backlog)
        family = GaugeMetricFamily("samverkan_duties_due", "Duties due now and not taken up, by kind.",
                                   labels=["kind"])
        for kind, count in sorted(due.items()):
            family.add_metric([kind], count)
        yield family


WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


def exposition(telemetry: PrometheusTelemetry, unit_of_work: UnitOfWorkFactory, clock: Clock,
               token: str | None = None) -> WsgiApp:
    """The WSGI app of `GET /metrics`: this process's metrics (or every process's, in multiprocess mode) and the
    backlog, to a scraper that sends `token` as `Authorization: Bearer <token>`. Without a token it is served to
    nobody: the figures tell how busy the bot is and what fails, which is not for the world (and an address that is
    not public today may be tomorrow), so the operator chooses a token to read them."""
    from prometheus_client import CollectorRegistry, make_wsgi_app

    if multiprocess():
        from prometheus_client import multiprocess as across

        registry = CollectorRegistry()
        across.MultiProcessCollector(registry)
    else:
        registry = telemetry.registry
    registry.register(Backlog(unit_of_work, clock))  # type: ignore[arg-type]
    serve = make_wsgi_app(registry)
    expected = f"Bearer {token}".encode() if token else None
    if expected is None:
        log.warning("GET /metrics answers nobody until SAMVERKAN_METRICS_TOKEN is set (a scraper then sends it as "
                    "a bearer token); SAMVERKAN_METRICS=false turns the metrics off")

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            return _plain(start_response, "405 Method Not Allowed", "GET only")
        if expected is None:
            return _plain(start_response, "401 Unauthorized",
                          "a bearer token is required: the operator sets SAMVERKAN_METRICS_TOKEN")
        if not hmac.compare_digest(environ.get("HTTP_AUTHORIZATION", "").encode(), expected):
            return _plain(start_response, "401 Unauthorized", "a bearer token is required")
        return serve(environ, start_response)

    return application


def _plain(start_response: Callable, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
