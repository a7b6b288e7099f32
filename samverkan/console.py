"""The terminal adapter: the same commands and rules as Slack, typed as a chosen directory person, on SQLite,
with a clock you move yourself."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from typing import TextIO

from bot.chat import Command
from bot.clock import STOCKHOLM, ManualClock
from bot.directory.people import Person
from bot.i18n import Texts
from samverkan.wiring import Runtime

CHANNEL = "console"
_STEP = re.compile(r"^\+(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def console_user_id(person: Person) -> str:
    # People without a Slack account get a stable console identity; the console's own database remembers it.
    return person.slack_user or f"console:{person.key}"


class ConsoleChat:
    """ChatPort for the terminal: every message is printed with where it went."""

    def __init__(self, runtime: Runtime, out: TextIO) -> None:
        self.runtime = runtime
        self.out = out
        self.t = Texts(runtime.core.lang)
        self._posted: set[tuple[str, str]] = set()
        self._channels: dict[str, str] = {}  # name -> id; in the console a channel's id is its #name
        self._messages: dict[str, str] = {}  # reference -> text
        self.people: list[Person] = []
        self.refresh()

    def refresh(self) -> None:
        """Reads the directory between commands. The chat is asked about people while a command's transaction is
        open, and a second transaction then would wait for the first (SQLite takes its write lock at the start)."""
        with self.runtime.core.unit_of_work() as uow:
            self.people = list(uow.directory.people())

    def _people(self) -> list[Person]:
        return self.people

    def render(self, text: str) -> str:
        people = self._people()
        users = {p.slack_user: p.name for p in people if p.slack_user}
        groups = {p.slack_usergroup: p.name for p in people if p.slack_usergroup}
        text = re.sub(r"<@([A-Za-z0-9:._-]+)(?:\|[^>]*)?>", lambda m: "@" + users.get(m.group(1), m.group(1)), text)
        text = re.sub(r"<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>", lambda m: "@" + groups.get(m.group(1), m.group(1)),
                      text)
        text = re.sub(r"<#([^|>]+)(?:\|[^>]*)?>", lambda m: "#" + m.group(1).lstrip("#"), text)
        return re.sub(r"<(?:mailto:)?([^|>]+)\|([^>]+)>", r"\2", text)

    def _say(self, where: str, text: str) -> None:
        body = self.render(text).replace("\n", "\n    ")
        print(f"[{where}] Samverkan: {body}", file=self.out, flush=True)

    def reply(self, command: Command, text: str) -> None:
        self._say(self.t("console.to_you"), text)

    def post(self, channel: str, text: str, key: str | None = None) -> str:
        self._say(channel, text)
        if key:
            self._posted.add((channel, key))
        ref = f"{channel}/{len(self._messages) + 1}"
        self._messages[ref] = text
        return ref

    def direct(self, user_id: str, text: str, key: str | None = None) -> None:
        names = {console_user_id(p): p.name for p in self._people()}
        self._say(f"DM → {names.get(user_id, user_id)}", text)
        if key:
            self._posted.add((user_id, key))

    def was_posted(self, channel_or_user: str, key: str) -> bool:
        return (channel_or_user, key) in self._posted

    def find_user_by_email(self, email: str) -> str | None:
        return None  # no Slack behind the console: people added by e-mail stay e-mail contacts

    def email_of(self, user_id: str) -> str | None:
        return next((p.email for p in self._people() if console_user_id(p) == user_id), None)

    # -- the war room: printed, so a session shows what Slack would be asked to do ------------------------------
    def _note(self, text: str) -> None:
        print(f"  · {text}", file=self.out, flush=True)

    def create_channel(self, name: str, private: bool) -> str:
        from bot.incident.warroom import NameTaken

        if name in self._channels:
            raise NameTaken(name)
        self._channels[name] = f"#{name}"
        self._note(self.t("console.channel_created", channel=f"#{name}"))
        return f"#{name}"

    def find_channel(self, name: str) -> str | None:
        return self._channels.get(name)

    def set_topic(self, channel: str, topic: str) -> None:
        self._note(self.t("console.topic", channel=channel, topic=topic))

    def set_purpose(self, channel: str, purpose: str) -> None:
        pass  # the topic says it in the console

    def invite(self, channel: str, user_ids: list[str]) -> dict[str, str]:
        names = {console_user_id(p): p.name for p in self._people()}
        names.update({p.slack_usergroup: p.name for p in self._people() if p.slack_usergroup})
        self._note(self.t("console.invited", channel=channel,
                          names=", ".join(names.get(u, u) for u in user_ids)))
        return {}

    def invite_shared(self, channel: str, email: str) -> str | None:
        self._note(self.t("console.invited_shared", channel=channel, email=email))
        return None

    def usergroup_members(self, usergroup: str) -> list[str]:
        return [usergroup]  # no Slack behind the console: the group stands for its members

    def find_posted(self, channel: str, key: str) -> str | None:
        return None

    def pin(self, channel: str, ref: str) -> None:
        self._note(self.t("console.pinned", channel=channel))

    def archive(self, channel: str) -> None:
        self._note(self.t("console.archived", channel=channel))

    def message_text(self, channel: str, ref: str) -> str | None:
        return self._messages.get(ref)

    def open_declaration_form(self, command: Command, form: object) -> bool:
        return False  # no forms in a terminal: the usage is shown instead


class Console:
    def __init__(self, runtime: Runtime, clock: ManualClock, out: TextIO = sys.stdout) -> None:
        self.runtime = runtime
        self.clock = clock
        self.out = out
        self.chat = ConsoleChat(runtime, out)
        self.t = Texts(runtime.core.lang)
        self.me: Person | None = None
        self.runner = runtime.core.runner(self.chat, worker="console")

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def welcome(self) -> None:
        self._print(self.t("console.welcome"))

    def say(self, line: str) -> bool:
        """Handles one typed line; False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        word, _, rest = line.partition(" ")
        match word.lower():
            case "/quit" | "/exit" | "/avsluta":
                return False
            case "/help" | "/hjälp":
                self.welcome()
            case "/as" | "/som":
                self.chat.refresh()
                self._become(rest.strip())
            case "/people" | "/personer":
                for p in self.chat._people():
                    self._print(f"  {p.key:<20} {p.name} ({p.party})")
            case "/clock" | "/klocka":
                self._clock(rest.strip())
            case _ if word.startswith("/") and word[1:].lower() in self.runtime.core.sets:
                self._command(word[1:].lower(), rest)
            case _:
                self._print(self.t("console.unknown"))
        return True

    def _become(self, word: str) -> None:
        wanted = word.lstrip("@").lower()
        found = next(
            (p for p in self.chat._people() if wanted in (p.key, p.name.lower(), (p.email or "").lower())), None
        )
        if found is None:
            self._print(self.t("console.who_unknown", word=word))
            return
        self.me = found
        party = self.runtime.model.party(found.party)
        self._print(self.t("console.now_as", name=found.name, party=party.name(self.t.lang) if party else found.party))

    def _clock(self, arg: str) -> None:
        try:
            if m := _STEP.match(arg):
                self.clock.advance(timedelta(**{_UNITS[m.group(2)]: int(m.group(1))}))
            elif arg:
                self.clock.set(datetime.strptime(arg, "%Y-%m-%d %H:%M").replace(tzinfo=STOCKHOLM))
        except ValueError:
            self._print(self.t("console.bad_clock"))
            return
        self._print(self.t("console.clock", when=self.t.when(self.clock.now())))
        remember_clock(self.runtime, self.clock)
        # What fell due while the clock moved is done now, as the scheduler would have done it in real time.
        self.chat.refresh()
        self.runtime.core.tick(self.chat, self.runner)

    def _command(self, name: str, text: str) -> None:
        if self.me is None:
            self._print(self.t("console.pick_first"))
            return
        command = Command(name=name, text=text.strip(), user_id=console_user_id(self.me), channel_id=CHANNEL,
                          received_at=self.clock.now())
        self.chat.refresh()
        self.runtime.core.handle(command, self.chat)
        self.chat.refresh()


CLOCK_MARK = "console.clock"


def remembered_clock(runtime: Runtime, now: datetime) -> ManualClock:
    """The console's clock starts where it was left: what was done in a moved future stays done."""
    with runtime.core.unit_of_work() as uow:
        left = uow.forum.mark(CLOCK_MARK)
    return ManualClock(max(now, left) if left else now)


def remember_clock(runtime: Runtime, clock: ManualClock) -> None:
    with runtime.core.unit_of_work() as uow:
        uow.forum.set_mark(CLOCK_MARK, clock.now())
        uow.commit()


def repl(console: Console) -> None:
    console.welcome()
    while True:
        try:
            line = input("> ")
        except EOFError:
            break
        if not console.say(line):
            break
