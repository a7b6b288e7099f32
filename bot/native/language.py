"""Each person reads Swedish or English: from their platform's locale the first time they are seen (Slack's
users.info `locale`), remembered, unless they chose (the console's `/lang`); `SAMVERKAN_LANG` (or the model's
language) for anyone the platform says nothing about, and for channels, which everyone reads."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.i18n import LANGUAGES, Lang, Texts
from bot.native.records import Language
from bot.ports import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Samverkan

log = logging.getLogger(__name__)


def from_locale(locale: str | None) -> Lang | None:
    """`sv-SE`, `sv_FI` -> sv; `en-US`, `en-GB` -> en; anything else says nothing."""
    prefix = (locale or "").replace("_", "-").split("-")[0].lower()
    return prefix if prefix in LANGUAGES else None  # type: ignore[return-value]


def of(core: Samverkan, user_id: str, fresh: bool = False) -> Lang:
    """The person's language, asking the platform the first time (or, `fresh`, again, for someone who did not
    choose). Asks outside any transaction: call it before one opens."""
    with core.unit_of_work(read_only=True) as uow:
        known = uow.languages.get(user_id)
    if known is not None and (known.chosen or not fresh):
        return known.lang
    try:
        told = from_locale(core.chat.locale_of(user_id))
    except Exception:  # a person's language is worth no failed command: the default serves until next time
        log.warning("could not read the locale of %s", user_id, exc_info=True)
        return known.lang if known else core.lang
    if told is None:
        if known is not None:
            return known.lang
        # The platform has no locale for them: the default is remembered (not as their choice), so that their next
        # command need not ask again; opening their Home asks afresh.
        told = core.lang
    if known is None or known.lang != told:
        with core.unit_of_work() as uow:
            uow.languages.remember(user_id, Language(told, False, core.clock.now()))
            uow.commit()
    return told


def remembered(uow: UnitOfWork, user_id: str | None, default: Lang) -> Lang:
    """The language remembered for a platform user, without asking the platform (inside a transaction, or where
    only a read is allowed: the acknowledgement of a form)."""
    if not user_id:
        return default
    known = uow.languages.get(user_id)
    return known.lang if known else default


def texts_for(uow: UnitOfWork, user_ids: Iterable[str | None], default: Lang) -> dict[str | None, Texts]:
    """The catalogue each of these people reads, looked up at once."""
    wanted = [u for u in dict.fromkeys(user_ids) if u]
    known = uow.languages.get_many(wanted)
    texts = {lang: Texts(lang) for lang in LANGUAGES}
    found: dict[str | None, Texts] = {u: texts[known[u].lang] if u in known else texts[default] for u in wanted}
    found[None] = texts[default]
    return found


def choose(core: Samverkan, user_id: str, lang: Lang) -> None:
    """The person chose a language: it stays, whatever the platform's locale says."""
    with core.unit_of_work() as uow:
        uow.languages.remember(user_id, Language(lang, True, core.clock.now()))
        uow.commit()
