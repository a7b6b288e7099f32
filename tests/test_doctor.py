"""`samverkan doctor`: every check against the fake Slack Web API over real HTTP and a real SQLite database, on a
small model whose three channels and four role seats are easy to break one at a time."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command

from bot.i18n import Texts
from bot.model import load_model
from samverkan.doctor import check_roles, database_checks, run
from samverkan.settings import Settings
from samverkan.wiring import open_database
from storage.db import HEADS, alembic_config, make_engine, revisions, session_factory
from storage.uow import SqlUnitOfWork
from tests.fakes.slack_api import FakeSlack, Fault

HEAD = ", ".join(sorted(HEADS))

TOKEN = "xoxb-1234-5678-doktorns-hemlighet"
CHANNELS = ("forum-kontraktsforum", "forum-produktionssattning", "storingar")
CHECKS = ("model", "database", "roles", "token", "scopes", "channels")

MODEL = """\
name: {sv: "Provmodell", en: "Trial model"}
party_classes:
  - {key: other-supplier, name: {sv: "Stadens Övriga Leverantörer", en: "The City's other suppliers"}}
parties:
  - {key: city, name: {sv: Staden, en: The City}, oversight: true}
  - {key: supplier, name: {sv: Leverantören, en: Lead supplier}, lead_supplier: true}
  - {key: network-ops, name: {sv: Nätdriften, en: Network operations}, classes: [other-supplier]}
  - {key: telephony, name: {sv: Telefonin, en: Telephony}, classes: [other-supplier]}
roles:
  - {key: kundansvarig, letter: A, name: {sv: Kundansvarig, en: Account manager}}
  - {key: avtalsansvarig, name: {sv: Avtalsansvarig, en: Contract manager}}
  - {key: driftansvarig, name: {sv: Driftansvarig, en: Operations manager}}
people:
  - {key: eva.lind, name: Eva Lind, party: city, roles: [avtalsansvarig], slack_user: U01EVALIND}
  - {key: johan.ek, name: Johan Ek, party: supplier, roles: [kundansvarig], slack_user: U02JOHANEK}
  - {key: nils.nat, name: Nils Nät, party: network-ops, roles: [driftansvarig], email: nils@natdrift.se}
  - {key: tova.tele, name: Tova Tele, party: telephony, roles: [driftansvarig], email: tova@telefoni.se}
forums:
  - key: kontraktsforum
    name: {sv: Kontraktsforum, en: Contract forum}
    channel: "#forum-kontraktsforum"
    cadence: {sv: kvartalsvis, en: quarterly}
    chair: [city]
    attendees: [{party: city, roles: [avtalsansvarig]}, {party: supplier, roles: [kundansvarig]}]
    rrule: "FREQ=MONTHLY;INTERVAL=3;BYDAY=+3TU"
    starts: 2026-01-01
  - key: produktionssattning
    name: {sv: Samverkan om produktionssättningar, en: Production-deployment coordination}
    channel: "#forum-produktionssattning"
    cadence: {sv: varannan vecka, en: every other week}
    chair: [supplier]
    attendees: [{party: city}, {class: other-supplier, roles: [driftansvarig]}]
    rrule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"
    starts: 2026-01-01
major_incidents:
  announcement_channel: "#storingar"
  commander: {party: supplier, roles: [kundansvarig]}
  city_contact: {party: city, roles: [avtalsansvarig]}
"""


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "modell.yaml"
    path.write_text(MODEL, encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path: Path, model_file: Path, fake_slack: FakeSlack) -> Settings:
    """Everything in place: the database migrated and seeded as `samverkan run` leaves it, the model's channels
    created with the bot in them, the token granted the manifest's scopes (the fake's default)."""
    settings = Settings(_env_file=None, slack_bot_token=TOKEN, slack_api_url=fake_slack.base_url,  # type: ignore[call-arg]
                        database_url=f"sqlite:///{tmp_path / 'samverkan.db'}", samverkan_model=model_file,
                        samverkan_lang="sv")
    open_database(settings).engine.dispose()
    for name in CHANNELS:
        fake_slack.add_channel(name)
    return settings


def doctor(settings: Settings, **changes: object) -> tuple[int, dict[str, tuple[str, list[str]]], str]:
    """Runs the doctor; returns its exit code, each check's status word and lines (the summary, then the
    details), in the order they were printed, and the whole output."""
    out = io.StringIO()
    code = run(settings.model_copy(update=changes), out)
    text = out.getvalue()
    assert TOKEN not in text and "doktorns-hemlighet" not in text
    reports: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith(" "):
            reports[-1][1].append(line.strip())
        else:
            word, summary = line.split(maxsplit=1)
            reports.append((word, [summary]))
    assert len(reports) == len(CHECKS), text
    return code, dict(zip(CHECKS, reports, strict=True)), text


def words(report: dict[str, tuple[str, list[str]]]) -> dict[str, str]:
    return {check: word for check, (word, _) in report.items()}


ALL_OK = dict.fromkeys(CHECKS, "ok")


@pytest.mark.slow
def test_all_is_well(settings: Settings, fake_slack: FakeSlack, model_file: Path) -> None:
    code, report, text = doctor(settings)
    assert code == 0, text
    assert words(report) == ALL_OK
    assert report["model"][1] == [f"Styrmodellen {model_file}: giltig, 2 forum och 3 kanaler"]
    assert report["database"][1] == [f"Databasen {settings.database_url}: schemat är på senaste migreringen ({HEAD})"]
    assert report["token"][1] == ["Slack-token: fungerar, boten är @samverkan i Stockholm"]
    assert report["channels"][1] == ["Kanalerna: alla 3 som styrmodellen nämner finns och boten är med i dem"]
    # The scopes come with auth.test's answer; the channels are one listing: two calls in all.
    assert [c.method for c in fake_slack.calls] == ["auth.test", "conversations.list"]


@pytest.mark.slow
@pytest.mark.parametrize("error", ["invalid_auth", "not_authed", "account_inactive", "token_revoked"])
def test_a_refused_token_says_which_setting_and_where_to_get_it(settings: Settings, fake_slack: FakeSlack,
                                                                error: str) -> None:
    fake_slack.refused_tokens[TOKEN] = error
    code, report, text = doctor(settings)
    assert code == 1
    assert words(report) == {**ALL_OK, "token": "fel", "scopes": "överhoppad", "channels": "överhoppad"}
    summary, fix = report["token"][1]
    assert summary == f"Slack-token: Slack tar inte emot token ({error})"
    assert "SLACK_BOT_TOKEN" in fix and "Bot User OAuth Token (xoxb-…)" in fix and '"OAuth & Permissions"' in fix
    assert report["channels"][1] == ["Kanalerna: kontrolleras inte förrän Slack tar emot token"]
    assert [c.method for c in fake_slack.calls] == ["auth.test"]  # nothing more is asked of a refused token


@pytest.mark.slow
def test_no_token_at_all_says_so(settings: Settings, fake_slack: FakeSlack) -> None:
    code, report, _ = doctor(settings, slack_bot_token=None)
    assert code == 1
    assert report["token"][1][0] == "Slack-token: SLACK_BOT_TOKEN är inte satt"
    assert words(report)["scopes"] == words(report)["channels"] == "överhoppad"
    assert fake_slack.calls == []


@pytest.mark.slow
def test_missing_scopes_are_listed_with_the_reinstall(settings: Settings, fake_slack: FakeSlack) -> None:
    fake_slack.scopes -= {"pins:write", "reactions:read"}
    code, report, _ = doctor(settings)
    assert code == 1
    assert words(report) == {**ALL_OK, "scopes": "fel"}
    summary, fix = report["scopes"][1]
    assert summary == "Behörigheter: token saknar pins:write, reactions:read"
    assert "Installera om appen" in fix and "manifest.yml" in fix and "Reinstall to Workspace" in fix


@pytest.mark.slow
def test_a_missing_channel_is_named_with_how_to_make_it(settings: Settings, fake_slack: FakeSlack) -> None:
    fake_slack.reset()  # a workspace where only the announcement channel exists, and a private forum channel
    fake_slack.add_channel("storingar")
    fake_slack.add_channel("forum-produktionssattning", bot_member=False, private=True)
    code, report, _ = doctor(settings)
    assert code == 1
    assert words(report) == {**ALL_OK, "channels": "fel"}
    assert report["channels"][1] == [
        "Kanalerna: 2 av 3 är inte klara",
        "• #forum-kontraktsforum finns inte (eller är arkiverad, eller privat utan boten)",
        # Slack shows the bot no private channel it is not in: to the bot, that one does not exist either.
        "• #forum-produktionssattning finns inte (eller är arkiverad, eller privat utan boten)",
        "→ Skapa de kanaler som inte finns (eller ändra dem i styrmodellen) och skriv `/invite @samverkan` i dem; "
        "en privat kanal syns för boten först när den är inbjuden.",
    ]


@pytest.mark.slow
def test_a_channel_without_the_bot_says_to_invite_it(settings: Settings, fake_slack: FakeSlack) -> None:
    fake_slack.members[fake_slack.channel_id("#storingar")].discard("UBOT")
    code, report, _ = doctor(settings)
    assert code == 1
    assert report["channels"][1] == ["Kanalerna: 1 av 3 är inte klara", "• #storingar: boten är inte med",
                                     "→ Skriv `/invite @samverkan` i varje kanal där boten inte är med."]


@pytest.mark.slow
def test_the_channels_are_found_across_pages_and_a_rate_limit(settings: Settings, fake_slack: FakeSlack) -> None:
    for n in range(5):
        fake_slack.add_channel(f"annat-{n}", bot_member=n % 2 == 0)
    fake_slack.page_size = 2
    fake_slack.fail("conversations.list", Fault(429, {"Retry-After": "0"}))
    code, report, text = doctor(settings)
    assert code == 0, text
    listed = fake_slack.calls_to("conversations.list")
    # 8 channels, 2 a page: 4 pages, and the first asked twice because of the 429 that slack_sdk waited out.
    assert [c.status for c in listed] == [429, 200, 200, 200, 200]
    assert [c.params.get("cursor") for c in listed] == [None, None, "2", "4", "6"]


@pytest.mark.slow
def test_a_forum_role_nobody_holds_is_named_with_the_command_that_fills_it(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    with SqlUnitOfWork(session_factory(engine)) as uow:
        johan = uow.directory.by_key("johan.ek")
        assert johan is not None
        uow.directory.save(johan.without_role("kundansvarig"))
        uow.commit()
    engine.dispose()
    code, report, _ = doctor(settings)
    assert code == 1
    assert words(report) == {**ALL_OK, "roles": "fel"}
    assert report["roles"][1] == [
        "Rollerna: 1 roll som forumen kräver har ingen i katalogen",
        "• Ingen hos Leverantören är Kundansvarig (krävs i Kontraktsforum, avsnitt 6.2, nyckelperson A) → en "
        "administratör ger någon hos "
        "Leverantören rollen: `/samverkan role add <person> kundansvarig`"]


@pytest.mark.slow
def test_an_unmigrated_database_gives_its_revision_and_the_command(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite:///{tmp_path / 'gammal.db'}"
    engine = make_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
    code, report, _ = doctor(settings, database_url=url)
    assert code == 1
    assert words(report) == {**ALL_OK, "database": "fel", "roles": "överhoppad"}
    assert report["database"][1] == [
        f"Databasen {url}: schemat är på 0005, den här versionen av Samverkan behöver {HEAD}",
        "→ Kör `samverkan migrate` med samma DATABASE_URL: den skapar eller uppdaterar schemat."]
    assert revisions(engine) == ({"0005"}, set(HEADS))  # the doctor looked, and changed nothing
    engine.dispose()


@pytest.mark.slow
def test_an_unreachable_database_is_reported_without_its_password(settings: Settings) -> None:
    code, report, text = doctor(settings, database_url="postgresql+psycopg://samverkan:hemligt@127.0.0.1:1/x")
    assert code == 1
    assert words(report) == {**ALL_OK, "database": "fel", "roles": "överhoppad"}
    assert report["database"][1][0].startswith("Databasen postgresql+psycopg://samverkan:***@127.0.0.1:1/x går "
                                               "inte att läsa (")
    assert "hemligt" not in text


@pytest.mark.slow
def test_one_report_shows_everything_wrong_in_english(tmp_path: Path, settings: Settings,
                                                      fake_slack: FakeSlack) -> None:
    fake_slack.scopes.discard("chat:write")
    fake_slack.members[fake_slack.channel_id("#storingar")].clear()
    code, report, _ = doctor(settings, samverkan_lang="en", database_url=f"sqlite:///{tmp_path / 'ny.db'}")
    assert code == 1
    assert words(report) == {"model": "ok", "database": "fail", "roles": "skipped", "token": "ok",
                             "scopes": "fail", "channels": "fail"}
    assert report["database"][1][0] == f"The database file {tmp_path / 'ny.db'} does not exist"
    assert report["scopes"][1][0] == "Scopes: the token lacks chat:write"
    assert report["channels"][1][1] == "• #storingar: the bot is not in it"
    assert not (tmp_path / "ny.db").exists()  # a check creates nothing


# -- without Slack: the fast tier ---------------------------------------------------------------------------------
def test_each_party_of_a_seated_class_needs_its_own_holder(model_file: Path) -> None:
    from bot.directory.people import Person

    model = load_model(model_file)
    people = [Person("eva.lind", "Eva Lind", "city", frozenset({"avtalsansvarig"})),
              Person("johan.ek", "Johan Ek", "supplier", frozenset({"kundansvarig"})),
              Person("nils.nat", "Nils Nät", "network-ops", frozenset({"driftansvarig"}))]
    result = check_roles(model, people, Texts("en"))
    assert result.ok is False
    assert result.details == ("• Nobody at Telephony is Operations manager (required at Production-deployment "
                              "coordination) → an administrator gives someone at Telephony the role: `/samverkan "
                              "role add <person> driftansvarig`",)
    assert check_roles(model, [], Texts("sv")).summary == "Rollerna: katalogen är tom"


def test_a_database_that_is_not_there_is_not_created(tmp_path: Path, model_file: Path) -> None:
    url = f"sqlite:///{tmp_path / 'saknas.db'}"
    database, roles = database_checks(url, load_model(model_file), Texts("sv"))
    assert (database.ok, roles.ok) == (False, None)
    assert database.details == ("→ Kör `samverkan migrate` med samma DATABASE_URL: den skapar eller uppdaterar "
                                "schemat.",)
    assert not (tmp_path / "saknas.db").exists()


# -- the command ------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_command_exits_0_when_all_is_well_and_1_otherwise(tmp_path: Path, settings: Settings,
                                                             fake_slack: FakeSlack) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "SAMVERKAN_", "DATABASE_"))}
    env = {**clean, "SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake_slack.base_url,
           "DATABASE_URL": settings.database_url, "SAMVERKAN_MODEL": str(settings.samverkan_model)}

    def doctor_command(**extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "samverkan.cli", "doctor"], capture_output=True, text=True,
                              cwd=tmp_path, env={**env, **extra}, timeout=60)
        assert TOKEN not in done.stdout + done.stderr
        return done

    well = doctor_command()
    assert well.returncode == 0, well.stdout + well.stderr
    assert [line.split()[0] for line in well.stdout.splitlines()] == ["ok"] * len(CHECKS)
    fake_slack.refused_tokens[TOKEN] = "token_revoked"
    refused = doctor_command(SAMVERKAN_LANG="en")
    assert refused.returncode == 1
    assert "fail     Slack token: Slack refuses the token (token_revoked)" in refused.stdout
    assert "skipped  Channels: not checked until Slack accepts the token" in refused.stdout



# -- Teams: the Graph permissions, the app catalogue and resource-specific consent --------------------------------
# Against the fake Microsoft side over real HTTP: its Entra ID issues a Graph token whose `roles` claim is
# `fake.granted`, its catalogue is `fake.catalog`, and its channels answer the bot's reading only with
# ChannelMessage.Read.Group in `fake.rsc` (tests/fakes/teams_api.py).
GRAPH = ("User.Read.All", "Channel.ReadBasic.All", "Chat.Create", "ChatMember.ReadWrite.All",
         "TeamsAppInstallation.ReadWriteAndConsentSelfForChat.All", "AppCatalog.Read.All", "Chat.ReadWrite.All",
         "GroupMember.Read.All")


@pytest.fixture
def fake_teams():  # type: ignore[no-untyped-def]
    from tests.fakes.teams_api import FakeTeams

    with FakeTeams() as fake:
        yield fake


@pytest.fixture
def teams_settings(tmp_path: Path, model_file: Path, fake_teams) -> Settings:  # type: ignore[no-untyped-def]
    """A Teams deployment with everything in place: the model's three channels in the team, the war rooms' owner
    known to the tenant, every permission granted and consented (the fake's default), the app in the catalogue."""
    from tests.fakes.teams_api import APP_ID, TEAM, TENANT

    settings = Settings(_env_file=None, samverkan_platform="teams", teams_app_id=APP_ID,  # type: ignore[call-arg]
                        teams_app_password="doktorns-hemlighet", teams_tenant_id=TENANT, teams_team_id=TEAM,
                        teams_login_url=f"{fake_teams.base_url}/login", teams_graph_url=f"{fake_teams.base_url}/graph",
                        teams_war_room_owner=fake_teams.add_user("krisrum@stockholm.example"),
                        database_url=f"sqlite:///{tmp_path / 'samverkan.db'}", samverkan_model=model_file,
                        samverkan_lang="en")
    open_database(settings).engine.dispose()
    for name in CHANNELS:
        fake_teams.add_channel(name)
    return settings


def teams_doctor(settings: Settings, **changes: object) -> tuple[int, list[tuple[str, str, list[str]]], str]:
    """The doctor's exit code, each line as (word, summary, details), and the whole output."""
    out = io.StringIO()
    code = run(settings.model_copy(update=changes), out)
    text = out.getvalue()
    assert "doktorns-hemlighet" not in text
    lines: list[tuple[str, str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith(" "):
            lines[-1][2].append(line.strip())
        else:
            word, summary = line.split(maxsplit=1)
            lines.append((word, summary, []))
    return code, lines, text


def line(lines: list[tuple[str, str, list[str]]], start: str) -> tuple[str, str, list[str]]:
    [found] = [entry for entry in lines if entry[1].startswith(start)]
    return found


@pytest.mark.slow
def test_teams_with_every_permission_is_ok_line_by_line(teams_settings: Settings, fake_teams) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.teams_api import APP_ID, CATALOG_ID

    code, lines, text = teams_doctor(teams_settings)
    assert code == 0, text
    assert {word for word, _, _ in lines} == {"ok"}, text
    for permission in GRAPH:  # one line each, in this order
        assert line(lines, f"Graph permission {permission}: granted (")[0] == "ok"
    assert [s.split(":")[0] for _, s, _ in lines if s.startswith("Graph permission")] == [
        f"Graph permission {p}" for p in GRAPH]
    assert line(lines, "App catalogue:")[1] == (f"App catalogue: Samverkan ({APP_ID}) is in the tenant's catalogue "
                                                f"as {CATALOG_ID}")
    assert line(lines, "Reading back:")[1] == ("Reading back: the bot may read its messages in all 3 channels "
                                               "(ChannelMessage.Read.Group)")
    assert line(lines, "War rooms:")[0] == "ok"
    # The catalogue was asked for this app by its manifest id, and each channel's newest message was read.
    assert ("GET", "/graph/appCatalogs/teamsApps") in fake_teams.requests
    assert sum(1 for m, p in fake_teams.requests if m == "GET" and p.endswith("/messages")) == 3


@pytest.mark.slow
def test_teams_missing_permissions_are_named_with_how_to_grant_them(teams_settings: Settings, fake_teams) -> None:  # type: ignore[no-untyped-def]
    fake_teams.granted -= {"Chat.Create", "User.Read.All"}
    code, lines, text = teams_doctor(teams_settings)
    assert code == 1, text
    # Without User.Read.All Graph also refuses to say who the war rooms' owner is: that line fails too.
    failed = [entry for entry in lines if entry[0] == "fail" and not entry[1].startswith("War rooms:")]
    assert [summary for _, summary, _ in failed] == [
        "Graph permission User.Read.All: not granted, and it is needed for a person's e-mail and language, and "
        "finding someone by e-mail",
        "Graph permission Chat.Create: not granted, and it is needed for creating a war room (a group chat)"]
    for (_, _, [fix]), permission in zip(failed, ("User.Read.All", "Chat.Create"), strict=True):
        assert fix == ("→ Microsoft Entra admin centre > App registrations > the app (TEAMS_APP_ID) > API permissions "
                       f"> Add a permission > Microsoft Graph > Application permissions > {permission}, then "
                       '"Grant admin consent" for the tenant.')
    assert line(lines, "Graph permission Chat.ReadWrite.All")[0] == "ok"  # the others are still checked and ok


@pytest.mark.slow
def test_teams_without_chat_readwrite_all_warns_that_the_brief_is_not_pinned(teams_settings: Settings,  # type: ignore[no-untyped-def]
                                                                           fake_teams) -> None:
    fake_teams.granted.discard("Chat.ReadWrite.All")
    code, lines, text = teams_doctor(teams_settings)
    assert code == 0, text  # a warning is not a failure
    word, summary, details = line(lines, "Graph permission Chat.ReadWrite.All")
    assert (word, summary) == ("warning", "Graph permission Chat.ReadWrite.All: not granted, so the brief will not be "
                                          "pinned in a war room (it is the room's first message instead)")
    assert "Application permissions > Chat.ReadWrite.All" in details[0]
    assert {w for w, _, _ in lines} == {"ok", "warning"}
    # Swedish, aligned under the longest word as the other lines are.
    _, _, swedish = teams_doctor(teams_settings, samverkan_lang="sv")
    assert ("varning     Graph-behörigheten Chat.ReadWrite.All: inte beviljad, så genomgången nålas inte fast i "
            "krisrummet") in swedish
    assert '"Bevilja administratörsmedgivande" för tenanten.' in swedish


@pytest.mark.slow
def test_teams_app_not_in_the_catalogue_says_to_upload_the_package(teams_settings: Settings, fake_teams) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.teams_api import APP_ID

    fake_teams.catalog.clear()
    code, lines, text = teams_doctor(teams_settings)
    assert code == 1, text
    assert line(lines, "App catalogue:") == (
        "fail", f"App catalogue: Samverkan ({APP_ID}) is not in the tenant's app catalogue, so it cannot be installed "
                "in a war room",
        ["→ Upload the package from `samverkan teams-manifest` in the Teams admin centre (Teams apps > Manage apps > "
         "Upload new app), with TEAMS_APP_ID as its id."])
    assert [w for w, _, _ in lines].count("fail") == 1
    # Without AppCatalog.Read.All, the permission's line fails and the catalogue is not asked (Graph would say 403).
    fake_teams.catalog[APP_ID] = "some-id"
    fake_teams.granted.discard("AppCatalog.Read.All")
    fake_teams.requests.clear()
    code, lines, _ = teams_doctor(teams_settings)
    assert code == 1
    assert line(lines, "Graph permission AppCatalog.Read.All")[0] == "fail"
    assert line(lines, "App catalogue:")[:2] == ("skipped", "App catalogue: not checked without AppCatalog.Read.All")
    assert ("GET", "/graph/appCatalogs/teamsApps") not in fake_teams.requests


@pytest.mark.slow
def test_teams_without_rsc_in_the_team_says_to_update_the_app_there(teams_settings: Settings, fake_teams) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.teams_api import TEAM

    fake_teams.rsc.discard("ChannelMessage.Read.Group")
    code, lines, text = teams_doctor(teams_settings)
    assert code == 1, text
    word, summary, details = line(lines, "Reading back:")
    assert (word, summary) == ("fail", "Reading back: the bot may not read its messages in 3 of 3 channels")
    assert details[:3] == [f"• #{name}: Graph refuses (403): ChannelMessage.Read.Group is not consented in the team"
                           for name in CHANNELS]
    assert details[3].startswith(f"→ Update Samverkan in the team {TEAM} from the package `samverkan teams-manifest` "
                                 "writes")
    assert "consents to its RSC permissions" in details[3]
    assert [w for w, _, _ in lines].count("fail") == 1  # the Graph permissions (in the token) are all there


@pytest.mark.slow
def test_teams_rsc_reading_returns_the_bots_own_messages(teams_settings: Settings, fake_teams) -> None:  # type: ignore[no-untyped-def]
    """The fake's channel messages are the bot's posts, newest first, as Graph's chatMessage."""
    import httpx

    from tests.fakes.teams_api import APP_ID, TEAM, Sent

    channel = fake_teams.channel_named("storingar")
    fake_teams.sent += [Sent(channel, {"text": "första"}, "msg-a", 1.0), Sent(channel, {"text": "andra"}, "msg-b", 2.0)]
    answer = httpx.get(f"{fake_teams.base_url}/graph/teams/{TEAM}/channels/{channel}/messages?$top=1").json()
    [message] = answer["value"]
    assert message["id"] == "msg-b" and message["from"]["application"]["id"] == APP_ID
    assert message["body"] == {"contentType": "html", "content": "andra"}
    assert message["createdDateTime"].endswith("Z")


@pytest.mark.slow
def test_teams_a_token_that_is_no_jwt_skips_the_permission_lines(teams_settings: Settings, fake_teams,  # type: ignore[no-untyped-def]
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Microsoft calls access tokens opaque to clients: one the doctor cannot read is reported, not failed, and the
    catalogue is still asked."""
    monkeypatch.setattr(fake_teams, "_graph_token",
                        lambda: {"access_token": "ej-en-jwt", "expires_in": 3600, "token_type": "Bearer"})
    code, lines, text = teams_doctor(teams_settings)
    assert code == 0, text
    word, summary, _ = line(lines, "Graph permissions:")
    assert word == "skipped" and summary.startswith("Graph permissions: not checked, the app's Graph token could not "
                                                    "be read (")
    assert not [s for _, s, _ in lines if s.startswith("Graph permission ")]
    assert line(lines, "App catalogue:")[0] == "ok"


def test_every_key_person_of_the_lead_supplier_is_checked_whether_a_forum_requires_the_role_or_not() -> None:
    from bot.directory.people import Person
    from bot.model import load_model as shipped

    model = shipped()
    letters = {r.key: r.letter for r in model.roles if r.letter}
    everyone = [Person(f"p{n}", f"P {n}", "supplier", frozenset({key})) for n, key in enumerate(letters)]
    city = [Person(f"c{n}", f"C {n}", p.party, frozenset(p.roles)) for n, p in enumerate(model.people)]
    holders = [*city, *everyone]
    without_c_d_i = [p for p in holders if not p.roles & {"informationssakerhetsansvarig", "inforandeansvarig",
                                                          "hallbarhetsansvarig"} or p.party != "supplier"]
    details = "\n".join(check_roles(model, without_c_d_i, Texts("sv")).details)
    # C, D and I sit at no forum: still each is named as missing, with the clause that names them.
    for role, letter in (("Informationssäkerhetsansvarig", "C"), ("Införandeansvarig", "D"),
                         ("Hållbarhetsansvarig", "I")):
        assert f"Ingen hos Leverantören är {role} (krävs i avsnitt 6.2, nyckelperson {letter})" in details
    assert "nyckelperson A" not in check_roles(model, holders, Texts("sv")).details.__repr__()
