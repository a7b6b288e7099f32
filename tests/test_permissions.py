"""The permission matrix, tried the way an attacker would: every sub-command of every command, as every kind of
person, over signed HTTP against the fake Slack. A refused one is explained, written to the event log, changes
nothing and posts nothing; an allowed one gets past the check. A sub-command without a row fails here.

The kinds each person is, relative to each scenario's subject, are written out by hand below, not computed by the
code under test: the test checks the code against the matrix, not the matrix against itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.app import CAPABILITIES
from bot.commands import HELP_WORDS
from bot.permissions import KINDS, MATRIX, Kind, table
from tests.fakes.slack_http import SlackAppServer

OUT, U, IN, H, S, A = (Kind.OUTSIDER, Kind.UNINVOLVED, Kind.INVOLVED, Kind.HOLDER, Kind.OVERSIGHT, Kind.ADMIN)

NOBODY, EVA, KARIN, LARS = "U0NOBODY", "U01EVALIND", "U01KARINBG", "U01LARSHLM"
JOHAN, MARIA, SDJOUR = "U02JOHANEK", "U02MARIASD", "U02SDJOUR1"
PER, NOC, STERIK, NINA, GSIT = "U0PERSTRAND", "U0NOC", "U0STERIK", "U0NINA", "U0GSITSD"
# People of other organisations are in the directory by e-mail; Slack tells their address, and they are linked.
ADDRESSES = {PER: "per.strand@skolplattform.example", NOC: "noc@netops.example", STERIK: "drift@sterik.example",
             NINA: "nina.vik@devices.example", GSIT: "servicedesk@gsit.example"}

Personas = dict[str, tuple[str, frozenset[Kind]]]


def personas(**people: tuple[str, set[Kind]]) -> Personas:
    return {label: (user, frozenset(kinds)) for label, (user, kinds) in people.items()}


# Relative to nothing in particular: everyone in the directory is "involved".
NOTHING = personas(outsider=(NOBODY, {OUT}), supplier=(PER, {IN}), city=(KARIN, {IN, S}), admin=(EVA, {IN, S, A}))
# Samverkan om datakommunikation: chaired by the lead supplier, attended by S:t Erik and network operations.
FORUM = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), involved=(NOC, {IN}), chair=(JOHAN, {IN, H}),
                 city=(LARS, {U, S}), admin=(EVA, {U, S, A}))
# A-n in that forum, owned by S:t Erik's operations.
ACTION = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), involved=(NOC, {IN}), owner=(STERIK, {IN, H}),
                  chair=(JOHAN, {IN, H}), city=(LARS, {U, S}), admin=(EVA, {U, S, A}))
# WLAN: network operations and S:t Erik are responsible; the lead supplier may act on every service.
SERVICE = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), responsible=(NOC, {IN, H}),
                   lead=(JOHAN, {U, H}), city=(LARS, {U, S}), admin=(EVA, {U, S, A}))
# P-n, announced on WLAN by network operations.
DEPLOYMENT = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), also_responsible=(STERIK, {U}),
                      announcer=(NOC, {IN, H}), lead=(JOHAN, {U, H}), city=(LARS, {U, S}), admin=(EVA, {U, S, A}))
# Declaring: the lead supplier and whoever holds the commander's role (the Service Desk's rota, a NOC) may.
DECLARING = personas(outsider=(NOBODY, {OUT}), supplier=(PER, {IN}), on_duty=(SDJOUR, {IN, H}), noc=(NOC, {IN, H}),
                     lead=(JOHAN, {IN, H}), city=(LARS, {IN, S}), admin=(EVA, {IN, S, A}))
# MI-n on WLAN: the Service Desk's rota (commander), the City's contact, network operations and S:t Erik in the room.
INCIDENT = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), involved=(NOC, {IN}), lead_supplier=(JOHAN, {IN}),
                    commander=(SDJOUR, {IN, H}), city=(LARS, {IN, S}), contact=(EVA, {IN, S, A, H}))
# Problemmöte's problem report, owed by the lead supplier: the other suppliers attend (by their class), the product
# supplier does not.
REPORT = personas(outsider=(NOBODY, {OUT}), uninvolved=(NINA, {U}), involved=(PER, {IN}), owner=(JOHAN, {IN, H}),
                  city=(LARS, {IN, S}), admin=(EVA, {IN, S, A}))
# D-n between the lead supplier and the school platform's supplier, at the City-led collaboration forum.
DISAGREEMENT = personas(outsider=(NOBODY, {OUT}), uninvolved=(NINA, {U}), involved=(MARIA, {IN}),
                        city=(LARS, {IN, S}), admin=(EVA, {IN, S, A}), supplier=(JOHAN, {IN, H}),
                        other_supplier=(PER, {IN, H}))
# D-n between the City and the lead supplier, past Affärsforum: informal dispute resolution is exhausted. Only the
# Director of Education and the supplier's Kundansvarig answer there; the school platform's supplier does not see it.
FORMAL = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), involved=(MARIA, {IN}), city=(KARIN, {IN, S}),
                  admin=(EVA, {IN, S, A}), signatory=(LARS, {IN, S, H}), supplier=(JOHAN, {IN, H}))
# A month's service levels at Leveransuppföljning: the City's authorised approvers decide; the Director of Education
# and the supplier (who convenes it) do not; the school platform's supplier has no seat there.
SERVICE_LEVELS = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), supplier=(JOHAN, {IN}),
                          city=(LARS, {IN, S}), approver=(KARIN, {IN, S, H}), admin=(EVA, {IN, S, A, H}))
# 4.6: the City's central ordering organisation asks for reports at short notice; the lead supplier delivers them
# and its input to the City's IT reporting (U-1, the tertial input the planner wrote down); both see the list.
ASKING = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), supplier=(JOHAN, {IN}),
                  city=(KARIN, {IN, S, H}), admin=(EVA, {IN, S, A, H}))
UNDERLAG = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), city=(KARIN, {IN, S}),
                    admin=(EVA, {IN, S, A}), kundansvarig=(JOHAN, {IN, H}), colleague=(MARIA, {IN, H}))
UNDERLAG_LIST = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), supplier=(JOHAN, {IN, H}),
                         city=(KARIN, {IN, S, H}), admin=(EVA, {IN, S, A, H}))
# GSIT 2.0's weekly meeting: its service desk chairs and calls the lead supplier when needed (8.9).
CALLING = personas(outsider=(NOBODY, {OUT}), uninvolved=(PER, {U}), supplier=(JOHAN, {IN}), chair=(GSIT, {IN, H}),
                   city=(LARS, {U, S}), admin=(EVA, {U, S, A}))


@dataclass(frozen=True)
class Scenario:
    text: str
    people: Personas
    setup: tuple[str, ...] = ()  # commands run first, each as "<user> /command words"
    reset: bool = field(default=False)  # each person tries on a fresh copy (their success would change the answer)


DAT = "datakommunikation"
SETUP_ACTION = (f"{JOHAN} /forum action {DAT} sterik-drift 2027-02-01 Byt kärnswitch",)
SETUP_DEPLOYMENT = (f"{NOC} /deploy announce wlan 2027-02-03 18:00 Ny firmware",)
SETUP_INCIDENT = (f'{EVA} /incident declare "WLAN nere" wlan 1',)
SETUP_DISAGREEMENT = (f"{JOHAN} /disagreement open school-platform Gränsdragning för inloggning",
                      f"{JOHAN} /disagreement propose D-1 Leverantören äger inloggningen")
SETUP_EXHAUSTED = (f"{EVA} /disagreement open supplier nivå=affarsforum Vite för tillgänglighet",
                   f"{JOHAN} /disagreement escalate D-1 Ingen enighet")

SCENARIOS: dict[tuple[str, str], Scenario] = {
    ("samverkan", "whoami"): Scenario("whoami", NOTHING),
    ("samverkan", "home"): Scenario("home", NOTHING),
    ("samverkan", "directory"): Scenario("directory", NOTHING),
    ("samverkan", "person"): Scenario("person add supplier anna@supplier.example Anna Berg", NOTHING),
    ("samverkan", "role"): Scenario("role add maria.sund G", NOTHING),
    ("samverkan", "authority"): Scenario("authority grant lars.holm orderer", NOTHING),
    ("samverkan", "history"): Scenario("history", NOTHING),
    ("forum", "list"): Scenario("list", NOTHING),
    ("forum", "next"): Scenario("next", NOTHING),
    ("forum", "agenda"): Scenario(f"agenda {DAT}", FORUM),
    ("forum", "move"): Scenario(f"move {DAT} 2027-03-23 2027-03-25", FORUM, reset=True),
    ("forum", "cancel"): Scenario(f"cancel {DAT} 2027-03-23", FORUM, reset=True),
    ("forum", "extra"): Scenario(f"extra {DAT} 2027-02-10 13:00", FORUM),
    ("forum", "decision"): Scenario(f"decision {DAT} Kärnnätet byts i vår", FORUM),
    ("forum", "action"): Scenario(f"action {DAT} johan.ek 2027-02-01 Ta fram tidplan", FORUM),
    ("forum", "done"): Scenario("done A-1", ACTION, SETUP_ACTION, reset=True),
    ("forum", "report"): Scenario("report problemmote https://intranat.example/problem.pdf", REPORT),
    ("forum", "subscribe"): Scenario(f"subscribe {DAT}", FORUM),
    ("forum", "unsubscribe"): Scenario(f"unsubscribe {DAT}", FORUM),
    ("deploy", "announce"): Scenario("announce wlan 2027-02-03 18:00 Ny firmware", SERVICE),
    ("deploy", "list"): Scenario("list", NOTHING),
    ("deploy", "cancel"): Scenario("cancel P-1", DEPLOYMENT, SETUP_DEPLOYMENT, reset=True),
    ("incident", "declare"): Scenario('declare "Skrivarna står" service-desk 3', DECLARING),
    ("incident", "list"): Scenario("list", NOTHING),
    ("incident", "update"): Scenario("update MI-1 Switchen felsöks", INCIDENT, SETUP_INCIDENT),
    ("incident", "note"): Scenario("note MI-1 Switchen i hus B blinkar rött", INCIDENT, SETUP_INCIDENT),
    ("incident", "role"): Scenario("role MI-1 kommunikation maria.sund", INCIDENT, SETUP_INCIDENT),
    ("incident", "invite"): Scenario("invite MI-1 maria.sund", INCIDENT, SETUP_INCIDENT),
    ("incident", "severity"): Scenario("severity MI-1 2", INCIDENT, SETUP_INCIDENT),
    ("incident", "resolve"): Scenario("resolve MI-1 Switchen bytt", INCIDENT, SETUP_INCIDENT, reset=True),
    ("incident", "close"): Scenario("close MI-1", INCIDENT, (*SETUP_INCIDENT, f"{SDJOUR} /incident resolve MI-1 Klart"),
                                    reset=True),
    ("incident", "classify"): Scenario("classify MI-1 gdpr", INCIDENT, SETUP_INCIDENT, reset=True),
    ("incident", "reported"): Scenario("reported MI-1 imy-notification IMY-2027-1", INCIDENT,
                                       (*SETUP_INCIDENT, f"{EVA} /incident classify MI-1 gdpr"), reset=True),
    ("disagreement", "open"): Scenario("open city Vem betalar för laddarna", NOTHING),
    ("disagreement", "list"): Scenario("list all", NOTHING),
    ("disagreement", "stats"): Scenario("stats", NOTHING),
    ("disagreement", "show"): Scenario("show D-1", DISAGREEMENT, SETUP_DISAGREEMENT),
    ("disagreement", "comment"): Scenario("comment D-1 Avtalet säger inget", DISAGREEMENT, SETUP_DISAGREEMENT),
    ("disagreement", "propose"): Scenario("propose D-1 Staden avgör", DISAGREEMENT, SETUP_DISAGREEMENT[:1],
                                          reset=True),
    ("disagreement", "escalate"): Scenario("escalate D-1 Ingen enighet", DISAGREEMENT, SETUP_DISAGREEMENT,
                                           reset=True),
    ("disagreement", "accept"): Scenario("accept D-1", DISAGREEMENT, SETUP_DISAGREEMENT, reset=True),
    ("disagreement", "reject"): Scenario("reject D-1 Nej", DISAGREEMENT, SETUP_DISAGREEMENT, reset=True),
    ("disagreement", "clarify"): Scenario("clarify D-1 Leverantören äger inloggningen", DISAGREEMENT,
                                          SETUP_DISAGREEMENT, reset=True),
    ("forum", "sla"): Scenario("sla 2026-12 godkänn Samtliga nivåer uppfyllda", SERVICE_LEVELS, reset=True),
    ("forum", "call"): Scenario("call gsit-veckomote 2027-01-18", CALLING, reset=True),
    ("incident", "alert"): Scenario("alert wlan Kärnan startas om", SERVICE),
    ("forum", "request"): Scenario("request 2027-01-20 Kostnad per elevdator", ASKING),
    ("forum", "deliver"): Scenario("deliver U-1 https://intranat.example/tertial.xlsx", UNDERLAG, reset=True),
    ("forum", "underlag"): Scenario("underlag", UNDERLAG_LIST),
    ("disagreement", "formal"): Scenario("formal D-1 Avtalsbrott", FORMAL, SETUP_EXHAUSTED, reset=True),
}
# Help is for everyone, in the directory or not, for every command.
for capability in CAPABILITIES:
    SCENARIOS[(capability.name, "help")] = Scenario("help", NOTHING)


def test_every_sub_command_has_a_row_and_every_row_a_sub_command() -> None:
    registered = {(c.name, sub.name) for c in CAPABILITIES for sub in c.subcommands}
    registered |= {(c.name, "help") for c in CAPABILITIES}
    rows = {(command, sub) for command, subs in MATRIX.items() for sub in subs}
    assert registered == rows
    assert set(SCENARIOS) == rows, "a row of the matrix that nobody tries"
    assert "help" in HELP_WORDS


def test_the_readme_shows_the_matrix() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    shown = readme.split("<!-- permissions -->")[1]
    assert shown.strip() == table().strip()


# -- the matrix, tried over HTTP ----------------------------------------------------------------------------------
@pytest.fixture
def server(tmp_path, fake_slack, clock):  # type: ignore[no-untyped-def]
    servers: list[SlackAppServer] = []

    def start(name: str) -> SlackAppServer:
        fake_slack.reset()
        fake_slack.users.clear()
        fake_slack.users.update(ADDRESSES)
        fake_slack.usergroups["S02SDJOUR"] = [SDJOUR, "U02SDJOUR2"]
        app = SlackAppServer(f"sqlite:///{tmp_path / name}.db", fake_slack, clock).__enter__()
        servers.append(app)
        return app

    yield start
    for app in servers:
        app.__exit__(None, None, None)


def say(app: SlackAppServer, line: str) -> str:
    user, command, words = line.split(" ", 2)
    return app.ask(command, words, user)


# What any command writes whoever sends it: its inbox entry, and the language its sender reads, remembered the first
# time they are seen; on Teams also where it came from (chat_conversation, written on receipt, before the
# permission matrix is consulted) and the keyed messages delivered (chat_posted, the answer's delivery).
DOMAIN_EXCLUDED = {"inbox", "user_language", "chat_conversation", "chat_posted"}


def snapshot(app: SlackAppServer) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """Every row of every table, but for what a refusal itself writes: its inbox entry, the sender's language,
    its answer's delivery and its line in the event log."""
    engine = app.runtime.engine
    rows: dict[str, list[tuple]] = {}  # type: ignore[type-arg]
    with engine.connect() as connection:
        for table_name in inspect(engine).get_table_names():
            if table_name in DOMAIN_EXCLUDED or table_name == "alembic_version":
                continue
            query = f"SELECT * FROM {table_name}"  # noqa: S608 - names from the schema itself
            if table_name == "event":
                query += " WHERE kind != 'permission.refused'"
            if table_name == "duty":
                query += " WHERE kind != 'chat.deliver'"
            rows[table_name] = sorted(map(tuple, connection.execute(text(query))), key=repr)
    return rows


def settled(app: SlackAppServer, timeout: float = 30.0) -> None:
    """Until the work the setup started after its answers (a war room's assembly) is finished: from then on only
    the command under test can change anything."""
    deadline = time.monotonic() + timeout
    while True:
        with app.runtime.engine.connect() as connection:
            busy = connection.execute(text("SELECT count(*) FROM duty WHERE state = 'claimed' OR "
                                           "(state = 'pending' AND kind NOT LIKE 'forum.%' AND kind NOT LIKE "
                                           "'disagreement.%' AND kind NOT LIKE 'incident.update%' AND kind NOT "
                                           "LIKE 'incident.legal%' AND kind NOT LIKE 'records.%')")).scalar()
        if not busy:
            return
        assert time.monotonic() < deadline, "the setup's work never finished"
        time.sleep(0.02)


def refusals(app: SlackAppServer, user: str) -> int:
    with app.runtime.core.unit_of_work() as uow:
        return sum(1 for e in uow.events.history(kind_prefix="permission.refused", limit=1000)
                   if e.data.get("user") == user)


# Lookups that telling who someone is may take; anything else a refused command must not ask of Slack.
LOOKUPS = {"respond", "users.info", "usergroups.users.list"}


@pytest.mark.slow
@pytest.mark.parametrize(("command", "sub"), sorted(SCENARIOS), ids=[f"{c}.{s}" for c, s in sorted(SCENARIOS)])
def test_each_kind_of_person_is_allowed_exactly_what_the_matrix_says(server: Callable[[str], SlackAppServer],
                                                                      command: str, sub: str) -> None:
    scenario, rule = SCENARIOS[(command, sub)], MATRIX[command][sub]
    refused = {label: who for label, who in scenario.people.items() if not who[1] & rule.allowed}
    allowed = {label: who for label, who in scenario.people.items() if who[1] & rule.allowed}
    assert set(scenario.people) == set(refused) | set(allowed)

    def fresh(name: str) -> SlackAppServer:
        app = server(name)
        for user in {*ADDRESSES, SDJOUR}:
            say(app, f"{user} /samverkan whoami")  # people of other organisations get linked, once, before
        for line in scenario.setup:
            answer = say(app, line)
            assert refusals(app, line.split()[0]) == 0, f"setup refused: {line}: {answer}"
        # A setup that changed the calendar is planned anew after its answer, and may have started work (a war
        # room's assembly): planning once more (it is idempotent) and waiting for that work to finish leaves only
        # the command under test to change anything.
        app.runtime.core.plan()
        settled(app)
        return app

    app = fresh("shared")
    for label, (user, kinds) in refused.items():
        before, calls = snapshot(app), len(app.fake.calls)
        answer = say(app, f"{user} /{command} {scenario.text}")
        assert refusals(app, user) == 1, f"{label} ({sorted(kinds)}) was not refused: {answer}"
        assert snapshot(app) == before, f"{label}'s refused /{command} {sub} changed something"
        extra = {c.method for c in app.fake.calls[calls:]} - LOOKUPS
        assert not extra, f"{label}'s refused /{command} {sub} called Slack: {extra}"
        assert answer and "gick fel" not in answer
    for label, (user, kinds) in allowed.items():
        app = fresh(label) if scenario.reset else app
        answer = say(app, f"{user} /{command} {scenario.text}")
        assert refusals(app, user) == 0, f"{label} ({sorted(kinds)}) was refused: {answer}"
        assert "gick fel" not in answer, answer


def test_the_kinds_are_the_columns_of_the_table() -> None:
    header = table().splitlines()[0]
    assert [cell.strip() for cell in header.strip("|").split("|")][1:] == [k.value for k in KINDS]
    assert "| `/incident role` | – | – | – | ✓ | ✓ | ✓ |" in table()
