"""The terminal adapter: the same commands and rules as Slack, typed as a chosen directory person, on SQLite,
with a clock you move yourself."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TextIO

from bot.chat import Command, NameTaken
from bot.clock import STOCKHOLM, ManualClock
from bot.directory.people import Person
from bot.forms import Form
from bot.i18n import LANGUAGES, Lang, Texts
from bot.message import Button, Message, Page
from bot.native import buttons, home, language
from bot.ports import UnitOfWorkFactory
from samverkan.settings import Settings
from samverkan.wiring import Runtime, build

CHANNEL = "console"
_STEP = re.compile(r"^\+(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def console_user_id(person: Person) -> str:
    # People without a Slack account get a stable console identity; the console's own database remembers it.
    return person.account or f"console:{person.key}"


class ConsoleChat:
    """ChatPort for the terminal: every message is printed as plain text, with where it went."""
    seats_at_creation = False  # a channel is created empty; its people are invited afterwards


    def __init__(self, unit_of_work: UnitOfWorkFactory, out: TextIO, lang: Lang = "sv") -> None:
        self.unit_of_work = unit_of_work
        self.out = out
        self.t = Texts(lang)
        self._posted: dict[tuple[str, str], str] = {}  # (channel or user, key) -> reference
        self._channels: dict[str, str] = {}  # name -> id; in the console a channel's id is its #name
        self._messages: dict[str, str] = {}  # reference -> text
        self.people: list[Person] = []
        # Buttons are numbered choices: those of what was said to whoever is at the keyboard (`me`), since they last
        # typed something, are pressed by typing their number.
        self.me: str | None = None
        self.choices: list[Button] = []
        self.refresh()

    def refresh(self) -> None:
        """Reads the directory between commands, for naming people in what is printed."""
        with self.unit_of_work() as uow:
            self.people = list(uow.directory.people())

    def _say(self, where: str, message: Message, mine: bool = True) -> str:
        body = message.plain().replace("\n", "\n    ")
        print(f"[{where}] Samverkan: {body}", file=self.out, flush=True)
        self.show_buttons(message.buttons, mine)
        ref = f"{where}/{len(self._messages) + 1}"
        self._messages[ref] = message.plain()
        return ref

    def show_buttons(self, shown: tuple[Button, ...], mine: bool = True, indent: str = "    ") -> None:
        """Numbered when whoever is at the keyboard may press them (typing the number); others' only named."""
        if not shown:
            return
        labels = []
        for button in shown:
            if mine:
                self.choices.append(button)
                labels.append(f"[{len(self.choices)}] {button.label}")
            else:
                labels.append(f"[{button.label}]")
        print(indent + "  ".join(labels), file=self.out, flush=True)

    def _keep(self, where: str, key: str | None, ref: str) -> str:
        if key:
            self._posted[(where, key)] = ref
        return ref

    def reply(self, to: Command, message: Message) -> None:
        self._say(self.t.text("console.to_you"), message)

    def post(self, channel: str, message: Message, key: str | None = None) -> str:
        return self._keep(channel, key, self._say(channel, message))

    def direct(self, user_id: str, message: Message, key: str | None = None) -> str:
        names = {console_user_id(p): p.name for p in self.people}
        return self._keep(user_id, key, self._say(f"DM → {names.get(user_id, user_id)}", message,
                                                  mine=user_id == self.me))

    def find_posted(self, channel_or_user: str, key: str) -> str | None:
        return self._posted.get((channel_or_user, key))

    def update(self, channel_or_user: str, ref: str, message: Message) -> bool:
        """A message kept current: printed again, marked as the same message updated."""
        names = {console_user_id(p): p.name for p in self.people}
        where = f"DM → {names[channel_or_user]}" if channel_or_user in names else channel_or_user
        self._messages[ref] = message.plain()
        body = message.plain().replace("\n", "\n    ")
        print(f"[{where}, {self.t.text('console.updated')}] Samverkan: {body}", file=self.out, flush=True)
        self.show_buttons(message.buttons, mine=channel_or_user == self.me or channel_or_user not in names)
        return True

    def publish_home(self, user_id: str, page: Page) -> None:
        pass  # no Home tab in a terminal: /home draws it when asked

    def locale_of(self, user_id: str) -> str | None:
        return None  # a terminal has no locale to tell: SAMVERKAN_LANG, or /lang

    def find_user_by_email(self, email: str) -> str | None:
        return None  # no Slack behind the console: people added by e-mail stay e-mail contacts

    def email_of(self, user_id: str) -> str | None:
        return next((p.email for p in self.people if console_user_id(p) == user_id), None)

    def usergroup_members(self, usergroup: str, *, fresh: bool = False) -> list[str]:
        # No Slack behind the console: a group's entry is spoken for by choosing it with /as.
        return [console_user_id(p) for p in self.people if p.group == usergroup]

    # -- the war room: printed, so a session shows what Slack would be asked to do ------------------------------
    def _note(self, text: str) -> None:
        print(f"  · {text}", file=self.out, flush=True)

    def create_channel(self, name: str, private: bool, members: Sequence[str] = ()) -> str:
        if name in self._channels:
            raise NameTaken(name)
        self._channels[name] = f"#{name}"
        self._note(self.t.text("console.channel_created", channel=f"#{name}"))
        return f"#{name}"

    def find_channel(self, name: str) -> str | None:
        return self._channels.get(name)

    def set_topic(self, channel: str, topic: str) -> None:
        self._note(self.t.text("console.topic", channel=channel, topic=topic))

    def set_purpose(self, channel: str, purpose: str) -> None:
        pass  # the topic says it in the console

    def invite(self, channel: str, user_ids: list[str]) -> dict[str, str]:
        names = {console_user_id(p): p.name for p in self.people}
        self._note(self.t.text("console.invited", channel=channel, names=", ".join(names.get(u, u) for u in user_ids)))
        return {}

    def invite_shared(self, channel: str, email: str) -> str | None:
        self._note(self.t.text("console.invited_shared", channel=channel, email=email))
        return None

    def pin(self, channel: str, ref: str) -> None:
        self._note(self.t.text("console.pinned", channel=channel))

    def archive(self, channel: str) -> None:
        self._note(self.t.text("console.archived", channel=channel))

    def message_text(self, channel: str, ref: str) -> str | None:
        return self._messages.get(ref)

    def open_form(self, command: Command, form: Form) -> bool:
        return False  # no forms in a terminal: the command's usage is shown instead


class Console:
    def __init__(self, runtime: Runtime, clock: ManualClock, chat: ConsoleChat, out: TextIO = sys.stdout) -> None:
        self.runtime = runtime
        self.clock = clock
        self.out = out
        self.chat = chat
        self.t = Texts(runtime.core.lang)
        self.me: Person | None = None

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def welcome(self) -> None:
        self._print(self.t.text("console.welcome"))
        self._print(self.t.text("console.native"))

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
                for p in self.chat.people:
                    self._print(f"  {p.key:<20} {p.name} ({p.party})")
            case "/clock" | "/klocka":
                self._clock(rest.strip())
            case "/home" | "/hem" | "/start":
                self._home()
            case "/lang" | "/språk" | "/sprak":
                self._lang(rest.strip().lower())
            case _ if word.isdigit():
                self._press(int(word))
            case _ if word.startswith("/") and word[1:].lower() in self.runtime.core.sets:
                self._command(word[1:].lower(), rest)
            case _:
                self._print(self.t.text("console.unknown"))
        return True

    def _become(self, word: str) -> None:
        wanted = word.lstrip("@").lower()
        found = next(
            (p for p in self.chat.people if wanted in (p.key, p.name.lower(), (p.email or "").lower())), None
        )
        if found is None:
            self._print(self.t.text("console.who_unknown", word=word))
            return
        self.me = found
        self.chat.me = console_user_id(found)
        self.chat.choices = []
        # The console speaks the language of whoever is at the keyboard.
        self.t = self.chat.t = Texts(language.of(self.runtime.core, console_user_id(found)))
        party = self.runtime.model.party(found.party)
        self._print(self.t.text("console.now_as", name=found.name,
                                party=party.name(self.t.lang) if party else found.party))

    def _clock(self, arg: str) -> None:
        try:
            if m := _STEP.match(arg):
                self.clock.advance(timedelta(**{_UNITS[m.group(2)]: int(m.group(1))}))
            elif arg:
                self.clock.set(datetime.strptime(arg, "%Y-%m-%d %H:%M").replace(tzinfo=STOCKHOLM))
        except ValueError:
            self._print(self.t.text("console.bad_clock"))
            return
        self._print(self.t.text("console.clock", when=self.t.when(self.clock.now())))
        remember_clock(self.runtime, self.clock)
        # What fell due while the clock moved is done now, as the scheduler would have done it in real time.
        self.chat.refresh()
        self.runtime.core.tick()

    def _command(self, name: str, text: str) -> None:
        if self.me is None:
            self._print(self.t.text("console.pick_first"))
            return
        self._run(Command(name=name, text=text.strip(), user_id=console_user_id(self.me), channel_id=CHANNEL,
                          received_at=self.clock.now()))

    def _run(self, command: Command) -> None:
        self.chat.refresh()
        self.chat.choices = []
        self.runtime.core.handle(command)
        self.chat.refresh()

    def _press(self, number: int) -> None:
        """A numbered choice: the button's command, as a click in Slack is; a button that needs a form is answered
        with the words to type instead."""
        if self.me is None:
            self._print(self.t.text("console.pick_first"))
            return
        if not 1 <= number <= len(self.chat.choices):
            self._print(self.t.text("console.no_choice", number=number))
            return
        button = self.chat.choices[number - 1]
        command = buttons.click(button.action, button.value, console_user_id(self.me), CHANNEL, self.clock.now())
        if command is not None:
            self._run(command)

    def _home(self) -> None:
        """The person's Home, as Slack's Home tab shows it, with its buttons as numbered choices."""
        if self.me is None:
            self._print(self.t.text("console.pick_first"))
            return
        core = self.runtime.core
        user = console_user_id(self.me)
        t = Texts(language.of(core, user))
        with core.unit_of_work(read_only=True) as uow:
            page = home.compose(home.Snapshot(core, uow, self.clock.now()), uow.directory.by_key(self.me.key), t)
        self.chat.choices = []
        for section in page.sections:
            self._print(section.heading.plain())
            for item in section.items:
                self._print("  • " + item.plain().replace("\n", "\n    "))
                self.chat.show_buttons(item.buttons, indent="      ")
            if not section.items and section.empty is not None:
                self._print("  " + section.empty.plain())

    def _lang(self, word: str) -> None:
        if self.me is None:
            self._print(self.t.text("console.pick_first"))
            return
        if word not in LANGUAGES:
            self._print(self.t.text("console.lang_usage"))
            return
        lang: Lang = word  # type: ignore[assignment]
        language.choose(self.runtime.core, console_user_id(self.me), lang)
        self.t = self.chat.t = Texts(lang)
        self._print(self.t.text("console.lang_set"))


def open_console(settings: Settings, clock: ManualClock, out: TextIO = sys.stdout) -> Console:
    """The application with the terminal as its chat. Close `console.runtime` when done."""
    chats: list[ConsoleChat] = []

    def chat(unit_of_work: UnitOfWorkFactory) -> ConsoleChat:
        chats.append(ConsoleChat(unit_of_work, out, settings.samverkan_lang or "sv"))
        return chats[-1]

    runtime = build(settings, clock, chat)
    return Console(runtime, clock, chats[0], out)


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
