"""Every text the bot shows comes from here: one catalogue per language, and dates in that language's form.

A catalogue text is a small template: `{name}` is a value, `*…*` is emphasis, `` `…` `` a command as typed, and a
line starting with "• " a list item. The template is parsed before the values go in, so a value is never read as
markup: a title typed as "*<!channel>*" stays those characters. A text with plural forms is a mapping of Babel's
plural categories (`one`, `other`) and is chosen by its `count` value. A text that shows more numbers than one
chooses each one's words in place, as ICU MessageFormat writes it: `{days, plural, one {# dag} other {# dagar}}`
(`#` is the number; Babel's rules for the language say which form it takes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Literal

import yaml
from babel import Locale
from babel.dates import format_date, format_datetime

from bot.clock import STOCKHOLM
from bot.message import ChannelLink, Code, Inline, Line, Link, Mention, Message, Span, Strong, Text, plain

Lang = Literal["sv", "en"]
LANGUAGES: tuple[Lang, ...] = ("sv", "en")
_LOCALES = {"sv": "sv_SE", "en": "en_GB"}

Entry = str | dict[str, str]


# libyaml's safe loader when installed: the catalogues are read at every start.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def catalogue(lang: Lang) -> dict[str, Entry]:
    """All texts of a language. Each subject keeps its own file (core.yaml, forum.yaml, ...) under the
    language's folder; a key defined in two files is an error, not a silent override."""
    merged: dict[str, Entry] = {}
    folder = resources.files(__package__).joinpath(lang)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        texts = _flatten(yaml.load(entry.read_text(encoding="utf-8"), Loader=_LOADER) or {})
        clash = merged.keys() & texts.keys()
        if clash:
            raise ValueError(f"{lang}/{entry.name} redefines {sorted(clash)}")
        merged.update(texts)
    return merged


_PLURAL = {"zero", "one", "two", "few", "many", "other"}


def _flatten(tree: dict, prefix: str = "") -> dict[str, Entry]:
    flat: dict[str, Entry] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and set(value) <= _PLURAL:
            flat[name] = {k: str(v).rstrip("\n") for k, v in value.items()}
        elif isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value).rstrip("\n")
    return flat


# -- templates ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Slot:
    name: str


@dataclass(frozen=True)
class _Strong:
    tokens: tuple[str | _Slot | _Plural, ...]


@dataclass(frozen=True)
class _Code:
    tokens: tuple[str | _Slot | _Plural, ...]


@dataclass(frozen=True)
class _Plural:
    """A number and the words that go with it, by plural category: `{days, plural, one {# dag} other {# dagar}}`."""

    name: str
    forms: tuple[tuple[str, str], ...]


_Token = str | _Slot | _Plural | _Strong | _Code
_MARK = re.compile(r"\*([^*\n]+)\*|`([^`\n]+)`")
_CATEGORY = r"(?:zero|one|two|few|many|other)"
_SLOT = re.compile(r"\{([a-z_][a-z0-9_]*)(?:, plural,((?:\s*" + _CATEGORY + r"\s*\{[^{}]*\})+)\s*)?\}")
_FORM = re.compile(r"(" + _CATEGORY + r")\s*\{([^{}]*)\}")


def _slots(text: str) -> tuple[str | _Slot | _Plural, ...]:
    out: list[str | _Slot | _Plural] = []
    at = 0
    for m in _SLOT.finditer(text):
        if m.start() > at:
            out.append(text[at:m.start()])
        if m.group(2) is None:
            out.append(_Slot(m.group(1)))
        else:
            out.append(_Plural(m.group(1), tuple((f.group(1), f.group(2)) for f in _FORM.finditer(m.group(2)))))
        at = m.end()
    if at < len(text):
        out.append(text[at:])
    return tuple(out)


@cache
def _template(source: str) -> tuple[tuple[bool, tuple[_Token, ...]], ...]:
    lines = []
    for raw in source.split("\n"):
        bullet = raw.startswith("• ")
        body = raw[2:] if bullet else raw
        tokens: list[_Token] = []
        at = 0
        for m in _MARK.finditer(body):
            tokens.extend(_slots(body[at:m.start()]))
            tokens.append(_Strong(_slots(m.group(1))) if m.group(1) is not None else _Code(_slots(m.group(2))))
            at = m.end()
        tokens.extend(_slots(body[at:]))
        lines.append((bullet, tuple(tokens)))
    return tuple(lines)


Value = str | int | float | Inline | Span | Message


def as_span(value: Value) -> Span:
    match value:
        case str():
            return (Text(value),) if value else ()
        case bool() | int() | float():
            return (Text(str(value)),)
        case Message():
            return value.span
        case tuple():
            return value
        case Text() | Strong() | Code() | Mention() | ChannelLink() | Link():
            return (value,)
        case None:
            return ()
        case _:
            return (Text(str(value)),)


def _fill(tokens: tuple[str | _Slot | _Plural, ...], values: dict[str, object], locale: Locale | None) -> Span:
    out: list[Inline] = []
    for token in tokens:
        if isinstance(token, _Slot):
            out.extend(as_span(values[token.name]))  # type: ignore[arg-type]
        elif isinstance(token, _Plural):
            out.append(Text(_plural(token, values[token.name], locale)))
        elif token:
            out.append(Text(token))
    return tuple(out)


def _plural(token: _Plural, value: object, locale: Locale | None) -> str:
    forms = dict(token.forms)
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    category = locale.plural_form(number) if locale is not None and number is not None else "other"
    return (forms.get(category) or forms.get("other", "#")).replace("#", str(value))


def render(source: str, values: dict[str, object], locale: Locale | None = None) -> Message:
    lines = []
    for bullet, tokens in _template(source):
        parts: list[Inline] = []
        for token in tokens:
            match token:
                case _Strong(inner):
                    parts.append(Strong(_fill(inner, values, locale)))
                case _Code(inner):
                    parts.append(Code(plain(_fill(inner, values, locale))))
                case _Slot() | _Plural() | str():
                    parts.extend(_fill((token,), values, locale))
        lines.append(Line(tuple(parts), bullet))
    return Message(tuple(lines))


@lru_cache(maxsize=4096)
def _when(lang: Lang, instant: datetime) -> str:
    # Kept: the same few sittings and deadlines are written into every message of a sweep.
    pattern = "EEEE d MMMM y 'kl.' HH:mm" if lang == "sv" else "EEEE d MMMM y, HH:mm"
    return format_datetime(instant, pattern, tzinfo=STOCKHOLM, locale=_LOCALES[lang])


# The chat platform this process serves, as its people call it and how it reaches other organisations: the
# catalogue's `{chat}` and `{connect}`. One process serves one platform (samverkan.wiring sets it as it builds).
PLATFORM_WORDS: dict[str, dict[Lang, dict[str, str]]] = {
    "slack": {"sv": {"chat": "Slack", "connect": "Slack Connect", "home": "fliken Hem i Samverkan"},
              "en": {"chat": "Slack", "connect": "Slack Connect", "home": "Samverkan's Home tab"}},
    "teams": {"sv": {"chat": "Teams", "connect": "gästinbjudan", "home": "kortet Hem i din chatt med Samverkan"},
              "en": {"chat": "Teams", "connect": "guest access", "home": "the Home card in your chat with Samverkan"}},
}
_platform = ["slack"]


def speak_of(platform: str) -> None:
    """Which platform the catalogue's `{chat}` and `{connect}` name from now on, in this process."""
    _platform[0] = platform if platform in PLATFORM_WORDS else "slack"


def spoken_platform() -> str:
    """The platform this process serves (set by `speak_of`): what a platform-specific setting of the model means
    here, such as which reaction marks a message for a war room's timeline."""
    return _platform[0]


class Texts:
    """The catalogue of one language, bound so that use cases say `t("directory.empty")`."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang
        self._texts = catalogue(lang)
        self._locale = Locale.parse(_LOCALES[lang])

    def __call__(self, key: str, /, **values: object) -> Message:
        # A missing key is a programming error; the catalogue test keeps both languages complete.
        values = {**PLATFORM_WORDS[_platform[0]][self.lang], **values}
        return render(self._source(key, values), values, self._locale)

    def text(self, key: str, /, **values: object) -> str:
        """The same text as plain characters: for a channel topic, a form's label, a button."""
        return self(key, **values).plain(markup=False)

    def _source(self, key: str, values: dict[str, object]) -> str:
        entry = self._texts[key]
        if isinstance(entry, str):
            return entry
        count = values.get("count")
        form = self._locale.plural_form(count if isinstance(count, int | float) else 0)
        return entry.get(form) or entry["other"]

    def when(self, instant: datetime) -> str:
        """Date and time in Stockholm, as a reader of this language writes it."""
        return _when(self.lang, instant)

    def date(self, instant: datetime) -> str:
        return format_date(instant.astimezone(STOCKHOLM).date(), "d MMMM y", locale=_LOCALES[self.lang])
