"""`samverkan doctor`: is everything `samverkan run` needs in place? One line per check, ok or what is wrong and
how to fix it; a failed check does not stop the others, so one report shows all that is wrong.

The database is read first and let go before Slack is asked anything: no transaction waits on the network.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.directory.people import Person
from bot.i18n import Texts
from bot.model import GovernanceModel, ModelError, load_model
from bot.model import parties as seats
from handlers.slack_chat import web_client
from samverkan.logs import safe_url, scrub, url_secrets
from samverkan.settings import Settings
from storage.db import make_engine, revisions, session_factory
from storage.uow import SqlUnitOfWork

MANIFEST = Path(__file__).parents[1] / "manifest.yml"
# What Slack answers when it will not take the token at all: nothing else can be asked of it then.
REFUSED = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
           "not_allowed_token_type"}


@dataclass(frozen=True)
class Result:
    ok: bool | None  # None: not checked, and the summary says why
    summary: str
    details: tuple[str, ...] = ()
    warning: bool = False  # with ok: works, but something is degraded (shown as a warning, the exit code stays 0)


def run(settings: Settings, out: TextIO = sys.stdout) -> int:
    """Prints each check's line as soon as it is done; 0 when all is well, 1 otherwise."""
    t = Texts(settings.samverkan_lang or "sv")
    words = {True: t.text("doctor.ok"), False: t.text("doctor.fail"), None: t.text("doctor.skipped")}
    warning = t.text("doctor.warning")
    width = max(map(len, [*words.values(), warning]))
    failed = False
    for result in checks(settings, t):
        word = warning if result.warning and result.ok is not False else words[result.ok]
        print(f"{word:<{width}}  {result.summary}", file=out)
        for detail in result.details:
            print(f"{'':<{width}}    {detail}", file=out)
        out.flush()
        failed |= result.ok is False
    return 1 if failed else 0


def checks(settings: Settings, t: Texts) -> Iterator[Result]:
    model_result, model = check_model(settings.samverkan_model, t)
    yield model_result
    yield from database_checks(settings.database_url, model, t)
    if settings.platform == "teams":
        from samverkan.doctor_teams import teams_checks

        yield from teams_checks(settings, model, t, model_channels(model) if model else [], Result, _say)
    else:
        yield from slack_checks(settings, model, t)


def check_model(path: Path | None, t: Texts) -> tuple[Result, GovernanceModel | None]:
    try:
        model = load_model(path)
    except ModelError as error:
        explained = error.explain(t.lang).splitlines()[1:]
        return Result(False, t.text("doctor.model.invalid", file=error.source),
                      (*(line.strip() for line in explained), _say(t, "doctor.model.fix"))), None
    return Result(True, t.text("doctor.model.ok", file=str(path or "stockholm.yaml"), forums=len(model.calendar),
                               channels=len(model_channels(model)))), model


# -- the database ---------------------------------------------------------------------------------------------------
def database_checks(url: str, model: GovernanceModel | None, t: Texts) -> Iterator[Result]:
    """The schema's revision, then the directory's role holders: both read, nothing written or created."""
    shown = safe_url(url)  # never the password, nor any part of it
    people: Sequence[Person] | None = None
    if (absent := _absent_sqlite_file(url)) is not None:
        # Connecting would create an empty file: a check must not.
        yield Result(False, t.text("doctor.database.no_file", path=absent), (_say(t, "doctor.database.fix_migrate"),))
    else:
        try:
            engine = make_engine(url)
            try:
                result = check_schema(engine, shown, t)
                if result.ok:
                    people = read_people(engine)
            finally:
                engine.dispose()
        except (SQLAlchemyError, OSError, ImportError) as error:
            reason = scrub(_first_line(error), url_secrets(url))  # a parser's "host" may be a password's tail
            result = Result(False, t.text("doctor.database.unusable", url=shown, reason=reason),
                            (_say(t, "doctor.database.fix_reach"),))
        yield result
    if model is None:
        yield Result(None, t.text("doctor.roles.skipped_model"))
    elif people is None:
        yield Result(None, t.text("doctor.roles.skipped_database"))
    else:
        yield check_roles(model, people, t)


def check_schema(engine: Engine, shown: str, t: Texts) -> Result:
    current, heads = revisions(engine)
    head = ", ".join(sorted(heads))
    if current == heads:
        return Result(True, t.text("doctor.database.ok", url=shown, head=head))
    at = ", ".join(sorted(current)) or t.text("doctor.database.none")
    return Result(False, t.text("doctor.database.behind", url=shown, current=at, head=head),
                  (_say(t, "doctor.database.fix_migrate"),))


def read_people(engine: Engine) -> Sequence[Person]:
    with SqlUnitOfWork(session_factory(engine), read_only=True) as uow:
        return uow.directory.people()


def check_roles(model: GovernanceModel, people: Sequence[Person], t: Texts) -> Result:
    """Every role a forum requires of a party (of each party of a class) is held by someone of that party: the
    same gap a forum's reminder warns about, found before a sitting instead of in it. And every key person of the
    lead supplier (6.2, the roles with a letter A–J) is named, whether a forum requires the role or not (the
    information security officer, the transition manager and the sustainability manager sit at none)."""
    if not people:
        return Result(False, t.text("doctor.roles.empty"), (_say(t, "doctor.roles.fix_empty"),))
    lacking: dict[tuple[str, str], dict[str, None]] = {}  # (party, role) -> the forums requiring it, in order
    for forum in model.calendar:
        for seat in forum.attendees:
            for party in seats.members(model, seat.ref):
                for role in seat.roles:
                    if not any(p.party == party and role in p.roles for p in people):
                        lacking.setdefault((party, role), {})[forum.name(t.lang)] = None
    for lead in (p for p in model.parties if p.lead_supplier):
        for key_role in (r for r in model.roles if r.letter):
            if not any(p.party == lead.key and key_role.key in p.roles for p in people):
                lacking.setdefault((lead.key, key_role.key), {})[
                    t.text("doctor.roles.key_person", letter=key_role.letter)] = None
    if not lacking:
        return Result(True, t.text("doctor.roles.ok", forums=len(model.calendar)))
    details = []
    for (party, role_key), forums in lacking.items():
        role = model.role(role_key)
        details.append(_say(t, "doctor.roles.nobody", party=seats.name(model, party, t.lang), role_key=role_key,
                            role=role.name(t.lang) if role else role_key, forums=", ".join(forums)))
    return Result(False, t.text("doctor.roles.fail", count=len(lacking)), tuple(details))


# -- Slack ----------------------------------------------------------------------------------------------------------
def slack_checks(settings: Settings, model: GovernanceModel | None, t: Texts) -> Iterator[Result]:
    client = web_client(settings.slack_bot_token, settings.slack_api_url) if settings.slack_bot_token else None
    if client is None:
        result, auth = Result(False, t.text("doctor.token.unset"), (_say(t, "doctor.token.fix"),)), None
    else:
        result, auth = check_token(client, settings.slack_api_url, t)
    yield result
    if client is None or auth is None:
        yield Result(None, t.text("doctor.scopes.skipped"))
        yield Result(None, t.text("doctor.channels.skipped"))
        return
    yield check_scopes(auth.headers, manifest_scopes(), t)
    if model is None:
        yield Result(None, t.text("doctor.channels.skipped_model"))
    else:
        yield check_channels(client, model_channels(model), str(auth.get("user") or "samverkan"), t)


def check_token(client: WebClient, url: str, t: Texts) -> tuple[Result, Any]:
    """auth.test: whether Slack takes the token. Its answer also carries the token's scopes."""
    fix_token, fix_reach = _say(t, "doctor.token.fix"), _say(t, "doctor.token.fix_reach")
    try:
        auth = client.auth_test()
    except SlackApiError as error:
        code = str(error.response.get("error") or "")
        if code in REFUSED:
            return Result(False, t.text("doctor.token.refused", error=code), (fix_token,)), None
        return Result(False, t.text("doctor.token.failed", url=url, reason=_reason(error)), (fix_reach,)), None
    except (SlackClientError, OSError) as error:
        return Result(False, t.text("doctor.token.failed", url=url, reason=_reason(error)), (fix_reach,)), None
    return Result(True, t.text("doctor.token.ok", bot=str(auth.get("user") or auth.get("user_id") or "?"),
                               team=str(auth.get("team") or "?"))), auth


def manifest_scopes(path: Path = MANIFEST) -> set[str] | None:
    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        return None
    return set(manifest["oauth_config"]["scopes"]["bot"])


def check_scopes(headers: dict[str, Any], wanted: set[str] | None, t: Texts) -> Result:
    """Slack sends the token's scopes in the x-oauth-scopes header of every Web API answer."""
    if wanted is None:
        return Result(None, t.text("doctor.scopes.no_manifest", file=MANIFEST.name))
    granted = next((value for name, value in headers.items() if name.lower() == "x-oauth-scopes"), None)
    if granted is None:
        return Result(None, t.text("doctor.scopes.unknown"))
    if isinstance(granted, list):
        granted = ",".join(granted)
    missing = sorted(wanted - {scope.strip() for scope in str(granted).split(",")})
    if not missing:
        return Result(True, t.text("doctor.scopes.ok", count=len(wanted)))
    return Result(False, t.text("doctor.scopes.missing", scopes=", ".join(missing)), (_say(t, "doctor.scopes.fix"),))


def model_channels(model: GovernanceModel) -> list[str]:
    """Every channel the model names: each sitting forum's (one per catalogue where a forum is held per catalogue)
    and the major incidents' announcement channel. War rooms are the bot's own, made when needed."""
    named = [forum.channel for forum in model.calendar]
    if model.major_incidents:
        named.append(model.major_incidents.announcement_channel)
    return list(dict.fromkeys(named))


def check_channels(client: WebClient, channels: list[str], bot: str, t: Texts) -> Result:
    """One listing of the channels the bot can see, page by page (slack_sdk follows the cursor and waits out 429s):
    a few calls for the whole model, where asking channel by channel would take one each."""
    found: dict[str, dict[str, Any]] = {}
    try:
        for page in client.conversations_list(types="public_channel,private_channel", exclude_archived=True,
                                              limit=1000):
            for channel in page.get("channels") or []:
                found[f"#{channel['name']}"] = found[str(channel["id"])] = channel
    except (SlackClientError, OSError) as error:
        return Result(False, t.text("doctor.channels.unlisted", reason=_reason(error)))
    missing, outside = [], []
    for name in channels:
        channel = found.get(name) or found.get(f"#{name}")  # the model may name a channel by id or without its #
        if channel is None:
            missing.append(name)
        elif not channel.get("is_member"):
            outside.append(name)
    if not missing and not outside:
        return Result(True, t.text("doctor.channels.ok", count=len(channels)))
    details = [_say(t, "doctor.channels.missing", channel=name) for name in missing]
    details += [_say(t, "doctor.channels.outside", channel=name) for name in outside]
    details += [_say(t, f"doctor.channels.fix_{kind}", bot=bot) for kind, names in
                (("missing", missing), ("outside", outside)) if names]
    return Result(False, t.text("doctor.channels.fail", count=len(missing) + len(outside), total=len(channels)),
                  tuple(details))


# -- helpers --------------------------------------------------------------------------------------------------------
def _say(t: Texts, key: str, **values: object) -> str:
    """A detail line, with the catalogue's `code` marks kept: they show what to type."""
    return t(key, **values).plain()


def _absent_sqlite_file(url: str) -> str | None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # make_engine says what is wrong with it
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        return None
    return None if Path(path).exists() else path


def _reason(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error") or f"HTTP {error.response.status_code}")
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0][:300]
