"""Every text the bot shows comes from here: one catalogue per language, and dates in that language's form."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from babel.dates import format_date, format_datetime

from bot.clock import STOCKHOLM

Lang = Literal["sv", "en"]
LANGUAGES: tuple[Lang, ...] = ("sv", "en")
_LOCALES = {"sv": "sv_SE", "en": "en_GB"}


@cache
def catalogue(lang: Lang) -> dict[str, str]:
    """All texts of a language. Each subject keeps its own file (core.yaml, forum.yaml, ...) under the
    language's folder; a key defined in two files is an error, not a silent override."""
    merged: dict[str, str] = {}
    folder = resources.files(__package__).joinpath(lang)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        texts = _flatten(yaml.safe_load(entry.read_text(encoding="utf-8")) or {})
        clash = merged.keys() & texts.keys()
        if clash:
            raise ValueError(f"{lang}/{entry.name} redefines {sorted(clash)}")
        merged.update(texts)
    return merged


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value).rstrip("\n")
    return flat


class Texts:
    """The catalogue of one language, bound so that use cases say `t("directory.empty")`."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang
        self._texts = catalogue(lang)

    def __call__(self, key: str, /, **values: object) -> str:
        # A missing key is a programming error; the catalogue test keeps both languages complete.
        return self._texts[key].format(**values)

    def when(self, instant: datetime) -> str:
        """Date and time in Stockholm, as a reader of this language writes it."""
        pattern = "EEEE d MMMM y 'kl.' HH:mm" if self.lang == "sv" else "EEEE d MMMM y, HH:mm"
        return format_datetime(instant, pattern, tzinfo=STOCKHOLM, locale=_LOCALES[self.lang])

    def date(self, instant: datetime) -> str:
        return format_date(instant.astimezone(STOCKHOLM).date(), "d MMMM y", locale=_LOCALES[self.lang])
