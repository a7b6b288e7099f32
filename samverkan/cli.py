"""`samverkan`: run (Slack), console, check, doctor, schema, migrate, export, verify, erase, hold."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from samverkan.logs import configure_logging, safe_url, scrub, settings_secrets, url_secrets
from samverkan.settings import Settings

if TYPE_CHECKING:
    from bot.i18n import Lang

# The catalogue (with Babel's locale data), the model and SQLAlchemy are imported where they are used, not here:
# `samverkan run` listens for /healthz before it imports them (samverkan/starting.py).

log = logging.getLogger("samverkan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="samverkan", description="Samverkan: the contract's collaboration in chat")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("run", help="serve Slack (Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on PORT) or, with "
                   "TEAMS_APP_ID and no Slack token, Microsoft Teams (HTTP on PORT)")
    manifest = sub.add_parser("teams-manifest", help="write the Teams app package (manifest.json and icons)")
    manifest.add_argument("--out", default="samverkan-teams.zip", help="the package file (default: %(default)s)")
    manifest.add_argument("--url", default="https://samverkan.example.se",
                          help="where the bot is served (for the manifest's valid domains)")
    console = sub.add_parser("console", help="chat with the bot in the terminal, no Slack needed")
    console.add_argument("--database", help="database URL (default: samverkan-console.db in this folder)")
    check = sub.add_parser("check", help="validate a governance model file")
    check.add_argument("file", nargs="?", help="the model file (default: SAMVERKAN_MODEL or the shipped model)")
    sub.add_parser("doctor", help="check the Slack token, its scopes, the channels, the roles and the database")
    sub.add_parser("schema", help="print the JSON Schema of model files")
    sub.add_parser("migrate", help="bring the database schema up to date")
    ics = sub.add_parser("ics", help="print the forum calendar as iCalendar (RFC 5545)")
    ics.add_argument("--forum", help="one forum's key (default: every forum)")
    export = sub.add_parser("export", help="disagreements with their history, and deployments, as JSON or CSV")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--case", help="one case (MI-7, D-3) as JSON, instead of everything")
    export.add_argument("--release", action="store_true", help="with --case: the copy to hand out on request, "
                        "confidential fields masked, the release written to the event log")
    export.add_argument("--by", help="with --release: who releases it (default: the operating system's user)")
    subject = sub.add_parser("subject-export", help="everything about one person, as JSON (an access request)")
    subject.add_argument("person", help="the person's key in the directory")
    erase = sub.add_parser("erase", help="pseudonymise one person wherever retention and legal holds allow")
    erase.add_argument("person", help="the person's key in the directory")
    erase.add_argument("--by", help="who erases (default: the operating system's user)")
    hold = sub.add_parser("hold", help="put a case (MI-7, D-3) under legal hold, or release it with --release")
    hold.add_argument("case", help="the case's reference")
    hold.add_argument("--release", action="store_true", help="release the hold")
    hold.add_argument("--by", help="who holds or releases it (default: the operating system's user)")
    archive = sub.add_parser("archive", help="write one archive package per closed case (E-ARK CSIP-style METS), "
                             "or check one with --verify")
    archive.add_argument("--out", help="the folder the packages are written into")
    archive.add_argument("--verify", metavar="DIR", help="check a package: exit 1 naming each altered file")
    archive.add_argument("--period", metavar="YYYY[-MM]",
                         help="also a package per forum of its decisions and actions in this closed period "
                              "(default: the last whole calendar year)")
    verify = sub.add_parser("verify", help="walk the event log's hash chain; exit 0 when intact, 1 naming the first "
                            "event changed, removed or inserted")
    verify.add_argument("--head", help="a file of chain heads written out earlier (default: "
                        "SAMVERKAN_CHAIN_HEAD_FILE when it exists); its last head must still be in the chain")
    args = parser.parse_args(argv)
    level = os.environ.get("LOG_LEVEL", "INFO")
    configure_logging(level)
    try:
        settings = Settings()
    except ValidationError as error:
        from bot.i18n import Texts

        print(Texts("sv").text("cli.bad_setting", reason=scrub(_setting_error(error), _environment_secrets())),
              file=sys.stderr)
        return 2
    configure_logging(level, settings.samverkan_log_format, settings_secrets(settings))
    lang = settings.samverkan_lang or "sv"
    try:
        match args.action:
            case "check":
                return _check(args.file or settings.samverkan_model, lang)
            case "doctor":
                from samverkan.doctor import run as doctor

                return doctor(settings)
            case "schema":
                from bot.model import GovernanceModel

                print(json.dumps(GovernanceModel.model_json_schema(), indent=2, ensure_ascii=False))
                return 0
            case "migrate":
                from storage.db import make_engine, migrate

                migrate(make_engine(settings.database_url))
                return 0
            case "console":
                return _console(settings, args.database)
            case "ics":
                return _ics(settings, args.forum)
            case "export":
                if args.case:
                    return _export_case(settings, args.case, args.release, args.by, lang)
                return _export(settings, args.format)
            case "subject-export":
                return _subject_export(settings, args.person)
            case "verify":
                return _verify(settings, args.head, lang)
            case "erase":
                return _erase(settings, args.person, args.by)
            case "hold":
                return _hold(settings, args.case, args.release, args.by)
            case "archive":
                return _archive(settings, args.out, args.verify, lang, args.period)
            case "run":
                return _run(settings)
            case "teams-manifest":
                return _teams_manifest(settings, args.out, args.url)
    except Exception as error:
        from sqlalchemy.exc import SQLAlchemyError

        from bot.i18n import Texts
        from bot.model import ModelError

        if isinstance(error, ModelError):
            print(error.explain(lang), file=sys.stderr)
            return 2
        if not isinstance(error, SQLAlchemyError | OSError):
            raise
        # A database that cannot be reached, read or written, or a URL that names none: one sentence, not a trace.
        # Neither the URL nor what a parser made of it shows any part of a password, however the URL is written.
        url = getattr(args, "database", None) or settings.database_url
        reason = scrub(_first_line(error), url_secrets(url) + settings_secrets(settings))
        print(Texts(lang).text("cli.database_unusable", url=safe_url(url), reason=reason), file=sys.stderr)
        return 2
    return 2


def _setting_error(error: ValidationError) -> str:
    """Which setting is wrong and why, in one line: `PORT: Input should be a valid integer`. Never the value, which
    may be a secret (pydantic's own text quotes the input)."""
    found = error.errors(include_input=False, include_url=False)
    if not found:
        return _first_line(error)
    field = ".".join(str(part) for part in found[0]["loc"]).upper()
    reason = str(found[0]["msg"]).removeprefix("Value error, ")
    return f"{field}: {reason}" if field else reason


def _environment_secrets() -> list[str]:
    """The secrets as the environment gives them, for an error before the settings could be read."""
    names = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SAMVERKAN_METRICS_TOKEN",
             "TEAMS_APP_PASSWORD")
    return [v for v in (os.environ.get(n) for n in names) if v] + url_secrets(os.environ.get("DATABASE_URL", ""))


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]


def _check(file: str | Path | None, lang: Lang) -> int:
    from bot.i18n import Texts
    from bot.model import ModelError, load_model

    try:
        model = load_model(file)
    except ModelError as error:
        print(error.explain(lang), file=sys.stderr)
        return 2
    t = Texts(lang)
    print(t.text("model.valid", file=file or "stockholm.yaml", parties=len(model.parties), roles=len(model.roles),
            people=len(model.people), forums=len(model.forums), services=len(model.services)))
    return 0


def _export(settings: Settings, fmt: str) -> int:
    from samverkan.export import export
    from samverkan.wiring import open_database

    database = open_database(settings)  # an older database exports its empty new tables rather than failing
    try:
        with database.unit_of_work() as uow:
            export(uow, database.model, fmt, sys.stdout)
    finally:
        database.engine.dispose()
    return 0


def _archive(settings: Settings, out: str | None, package: str | None, lang: Lang, period: str | None = None) -> int:
    from bot.i18n import Texts
    from samverkan import archive

    t = Texts(lang)
    if package:
        problems = archive.verify_package(Path(package))
        if problems:
            print(t.text("archive.broken", package=package), file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print(t.text("archive.intact", package=package))
        return 0
    if not out:
        print(t.text("archive.no_out"), file=sys.stderr)
        return 2
    from bot.clock import SystemClock
    from samverkan.wiring import open_database

    now = SystemClock().now()
    period = period or str(now.year - 1)
    if not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", period):
        print(t.text("archive.bad_period", period=period), file=sys.stderr)
        return 2
    since, until = archive.period_of(period)
    if until > now:
        print(t.text("archive.open_period", period=period), file=sys.stderr)
        return 2
    database = open_database(settings)
    try:
        with database.unit_of_work(read_only=True) as uow:
            cases = archive.closed_cases(uow, database.model)
            cases += archive.forum_cases(uow, database.model, since, until, period)
    finally:
        database.engine.dispose()
    for case in cases:
        print(archive.write_package(case, Path(out), now))
    print(t.text("archive.written", count=len(cases), out=out), file=sys.stderr)
    return 0


def _verify(settings: Settings, head_file: str | None, lang: Lang) -> int:
    from bot.chain import walk
    from bot.chain_head import last_head
    from bot.i18n import Texts
    from storage.db import make_engine, migrate, session_factory
    from storage.uow import SqlUnitOfWork

    t = Texts(lang)
    expected = None
    path = Path(head_file) if head_file else settings.samverkan_chain_head_file
    if path is not None and (head_file or path.exists()):
        expected = last_head(path.read_text(encoding="utf-8"))
        if expected is None:
            print(t.text("chain.bad_head_file", file=path), file=sys.stderr)
            return 2
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)  # a database from before the chain has its events chained as they stand (migration 0012)
        with SqlUnitOfWork(session_factory(engine), read_only=True) as uow:
            count = 0

            def counted():  # type: ignore[no-untyped-def]
                nonlocal count
                for link in uow.events.links():
                    count += 1
                    yield link

            head, breaks = walk(counted(), expected, uow.events.seals())
    finally:
        engine.dispose()
    if not breaks:
        print(t.text("chain.intact", count=count, seq=head.seq, hash=head.hash))
        return 0
    print(t.text("chain.broken", count=len(breaks)), file=sys.stderr)
    for found in breaks:
        print(f"  {found.finding}: " + t.text(f"chain.{found.reason}", **found.values), file=sys.stderr)
    return 1


def _export_case(settings: Settings, ref: str, release: bool, by: str | None, lang: Lang) -> int:
    import getpass

    from bot.clock import SystemClock
    from samverkan import records
    from samverkan.archive import cases
    from samverkan.wiring import open_database

    database = open_database(settings)
    try:
        with database.unit_of_work() as uow:
            if release:
                copy = records.release(uow, database.model, ref, by or f"os:{getpass.getuser()}",
                                       SystemClock().now())
                uow.commit()
            else:
                found = next((c for c in cases(uow, database.model) if c.ref.lower() == ref.lower()), None)
                copy = {"ref": found.ref, "kind": found.kind, "record": found.record,
                        "people": found.people} if found else None
    finally:
        database.engine.dispose()
    if copy is None:
        from bot.i18n import Texts

        print(Texts(lang).text("records.unknown_case", ref=ref), file=sys.stderr)
        return 2
    print(json.dumps(copy, ensure_ascii=False, indent=2))
    return 0


def _subject_export(settings: Settings, person: str) -> int:
    from samverkan import records
    from samverkan.wiring import open_database

    database = open_database(settings)
    try:
        with database.unit_of_work(read_only=True) as uow:
            found = records.subject(uow, database.model, person)
    finally:
        database.engine.dispose()
    print(json.dumps(found, ensure_ascii=False, indent=2))
    return 0


def _erase(settings: Settings, person: str, by: str | None) -> int:
    import getpass

    from bot.clock import SystemClock
    from samverkan.wiring import open_database

    database = open_database(settings)
    try:
        with database.unit_of_work() as uow:
            done = uow.erasure.erase(person, database.model, SystemClock().now(), by or f"os:{getpass.getuser()}")
            uow.commit()
    finally:
        database.engine.dispose()
    if done is None:
        print(f"nothing names {person!r}", file=sys.stderr)
        return 2
    print(json.dumps({"person": done.pseudonym, "rows": done.rows, "events": done.events, "kept": done.kept},
                     ensure_ascii=False, indent=2))
    return 0


def _hold(settings: Settings, ref: str, release: bool, by: str | None) -> int:
    import getpass

    from bot.clock import SystemClock
    from bot.events import Event
    from samverkan.wiring import open_database
    from storage.erasure import HOLD, HOLD_RELEASED

    database = open_database(settings)
    try:
        with database.unit_of_work() as uow:
            if not uow.erasure.case_exists(ref):
                print(f"no case {ref!r}", file=sys.stderr)
                return 2
            uow.events.record(Event(SystemClock().now(), by or f"os:{getpass.getuser()}",
                                    HOLD_RELEASED if release else HOLD, ref.strip().upper(), {}))
            uow.commit()
            held = sorted(uow.erasure.held())
    finally:
        database.engine.dispose()
    print(json.dumps({"held": held}))
    return 0


def _console(settings: Settings, database: str | None) -> int:
    from bot.clock import ManualClock, SystemClock
    from samverkan.console import open_console, remembered_clock, repl

    # The console is a sandbox: its own SQLite file unless told otherwise, never the server's database.
    url = database or os.environ.get("SAMVERKAN_CONSOLE_DATABASE") or "sqlite:///samverkan-console.db"
    configure_logging("ERROR")  # the console shows what the bot says, not its logs
    clock = ManualClock(SystemClock().now())
    console = open_console(settings.model_copy(update={"database_url": url}), clock)
    clock.set(remembered_clock(console.runtime, clock.now()).now())
    try:
        repl(console)
    finally:
        console.runtime.close()
    return 0


def _ics(settings: Settings, forum: str | None) -> int:
    from bot.clock import SystemClock
    from bot.i18n import Texts
    from samverkan.wiring import calendar, open_database

    database = open_database(settings)
    try:
        feed = calendar(database.model, database.unit_of_work, SystemClock(), Texts(settings.samverkan_lang or
                                                                                   database.model.language), forum)
    finally:
        database.engine.dispose()
    if feed is None:
        print(Texts(settings.samverkan_lang or "sv")("forum.unknown_forum", word=forum).plain(), file=sys.stderr)
        return 2
    sys.stdout.buffer.write(feed)
    return 0


def _run(settings: Settings) -> int:
    teams = settings.platform == "teams"
    if (teams and not settings.teams_configured) or (not teams and not settings.slack_configured):
        from bot.i18n import Texts

        print(Texts(settings.samverkan_lang or "sv")("cli.no_teams" if teams else "cli.no_slack").plain(),
              file=sys.stderr)
        return 2
    from samverkan.metrics import prepare_multiprocess, remove_multiprocess

    # Before anything imports prometheus_client: the web process and its worker keep their metrics in files.
    metrics_dir = prepare_multiprocess() if settings.samverkan_metrics else None
    try:
        if settings.slack_app_token and not teams:
            return _run_socket_mode(settings)
        return _run_http(settings, teams)
    finally:
        remove_multiprocess(metrics_dir)


def _run_http(settings: Settings, teams: bool) -> int:
    from handlers.server import serve
    from samverkan.starting import Starting

    # Listening first, before the core, the catalogue, the model, bolt and the metrics are imported and the database
    # is checked: /healthz answers while they are (samverkan/starting.py), /readyz says "starting", and a request
    # that arrives meanwhile waits for the application. Then the worker: what arrives while it starts waits in the
    # inbox and on the queue.
    starting = Starting(settings.database_url)
    server = serve(starting, settings.samverkan_host, settings.port)
    serving = threading.Thread(target=server.run, name="serve", daemon=True)
    serving.start()
    # SIGTERM (a deploy, `docker stop`, systemd) ends the serving, so the worker finishes what it holds.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    runtime = worker = None
    try:
        from bot.i18n import Texts
        from samverkan.wiring import build, http_app
        from samverkan.worker import Worker

        runtime = build(settings)  # migrated and seeded here, before the worker starts: the two never race to do it
        worker = Worker(settings, os.environ.get("LOG_LEVEL", "INFO"))
        runtime.handoff = worker.hand_off
        starting.open(http_app(runtime))
        _settle()
        worker.start()
        log.info(Texts(settings.samverkan_lang or "sv").text("cli.serving_teams" if teams else "cli.serving_http",
                                                             host=settings.samverkan_host, port=settings.port))
        while serving.is_alive():
            serving.join(1)
    finally:
        server.task_dispatcher.shutdown()  # what waitress does when its loop ends: requests in flight finish
        starting.close()
        if worker is not None:
            worker.stop()
        if runtime is not None:
            runtime.close()
    return 0


def _run_socket_mode(settings: Settings) -> int:
    from bot.i18n import Texts
    from samverkan.wiring import build, socket_mode
    from samverkan.worker import Worker

    runtime = build(settings)  # migrated and seeded here, before the worker starts: the two never race to do it
    worker = Worker(settings, os.environ.get("LOG_LEVEL", "INFO"))
    runtime.handoff = worker.hand_off
    # SIGTERM (a deploy, `docker stop`, systemd) ends the serving loop, so the worker finishes what it holds.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        handler = socket_mode(runtime)
        _settle()
        worker.start()
        log.info(Texts(settings.samverkan_lang or "sv").text("cli.serving_socket"))
        handler.start()
    finally:
        worker.stop()
        runtime.close()
    return 0


def _teams_manifest(settings: Settings, out: str, url: str) -> int:
    from bot.model import load_model
    from teams.manifest import write_package

    app_id = settings.teams_app_id or "00000000-0000-0000-0000-000000000000"
    write_package(Path(out), load_model(settings.samverkan_model), app_id, url)
    print(out)
    return 0


def _settle() -> None:
    # What start-up built lives as long as the process: moved out of the collector's sight, a full collection
    # no longer stalls every request thread at once for ~100 ms.
    gc.collect()
    gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
