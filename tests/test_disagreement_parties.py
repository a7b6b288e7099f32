"""Issue 18, item 9: every party of a disagreement is told directly when it is opened and at each level, whoever
opened it, in every pairing the shipped model allows (the City and its units, the lead supplier, the product
supplier, the central and the other suppliers)."""

from __future__ import annotations

from bot.model.schema import GovernanceModel
from tests.conftest import Dialogue


def _accounts(talk: Dialogue, model: GovernanceModel) -> dict[str, list[str]]:
    """Each party's people as platform users: whoever the directory knows by e-mail only gets an account the
    platform finds by that address, as a Slack Connect user or a Teams guest would."""
    by_party: dict[str, list[str]] = {}
    for person in model.people:
        user = person.slack_user
        if not user and person.email:
            user = "U0" + person.key.replace(".", "").replace("-", "").upper()
            talk.chat.emails[user] = person.email
        if user:
            by_party.setdefault(person.party, []).append(user)
    return by_party


def _told_since(talk: Dialogue, before: int, ref: str) -> set[str]:
    return {user for user, text in talk.chat.directs[before:] if ref in text}


def test_every_party_but_the_opener_is_told_in_every_pairing(dialogue: Dialogue, model: GovernanceModel) -> None:
    people = _accounts(dialogue, model)
    missed: list[str] = []
    pairings = 0
    for opener in model.parties:
        if opener.key not in people:
            continue  # nobody of it can open anything
        who = people[opener.key][0]
        for other in model.parties:
            if other.key == opener.key:
                continue
            before = len(dialogue.chat.directs)
            answer = dialogue.say(who, f"/disagreement open {other.key} Vem ansvarar för gränssnittet")
            assert "registrerad som *D-" in answer, (opener.key, other.key, answer)
            ref = answer.split("*")[1]
            pairings += 1
            told = _told_since(dialogue, before, ref)
            assert who not in told  # the opener has the answer, not a notice
            # The counterparty, and the City when it leads a question between suppliers (section 8.10).
            owed = {other.key} | ({"city"} if "Staden" in answer and "leder" in answer else set())
            missed += [f"{opener.key} opened against {other.key}: nobody of {party} told"
                       for party in sorted(owed) if party in people and not told & set(people[party])]
    assert pairings > 100
    assert not missed, "\n".join(missed)


def test_every_party_is_told_at_each_level(dialogue: Dialogue, model: GovernanceModel) -> None:
    """The City against the lead supplier: at the service forum nobody holds the supplier's catalogue role, and
    the supplier is still told; as it climbs, at each level both parties are told again."""
    people = _accounts(dialogue, model)
    answer = dialogue.say("eva.lind", "/disagreement open supplier Vem betalar för utbytta laddare")
    ref = answer.split("*")[1]
    levels = 0
    while True:
        before = len(dialogue.chat.directs)
        escalated = dialogue.say("eva.lind", f"/disagreement escalate {ref} Ingen rörelse")
        if ref not in escalated or "formell" in escalated or "högsta" in escalated:
            break
        told = _told_since(dialogue, before, ref)
        assert told & set(people["supplier"]), escalated  # the party that neither opened nor escalated it
        assert told & set(people["city"]) - {"U01EVALIND"}, escalated  # and the City's others who attend
        levels += 1
        if levels > 6:
            break
    assert levels >= 2
