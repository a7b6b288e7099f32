"""`/samverkan`: who is who, and the City's administrators keeping the directory current."""

from __future__ import annotations

from bot import bounds
from bot.commands import CommandSet, Context, UserError
from bot.directory.accounts import link_duty
from bot.directory.lookup import find_party, find_role, parse_reference, require_person
from bot.directory.people import AUTHORITIES, Authority, Person, key_for, mention, scope_of, scoped
from bot.domain_events import WorkPlanned
from bot.i18n import Texts
from bot.message import Inline, Span, Strong, Text, join, line, separated
from bot.model import GovernanceModel
from bot.permissions import oversees

samverkan = CommandSet("samverkan")


def describe(person: Person, model: GovernanceModel, t: Texts, with_party: bool = True) -> Span:
    party = model.party(person.party)
    roles = sorted(
        (r for r in (model.role(k) for k in person.roles) if r),
        key=lambda r: (r.letter is None, r.letter or "", r.key),
    )
    role_text = ", ".join(f"{r.name(t.lang)} ({r.letter})" if r.letter else r.name(t.lang) for r in roles)
    parts: list[Span | Inline | str] = [Strong((Text(person.name),))]
    if with_party:
        parts.append(party.name(t.lang) if party else person.party)
    if role_text:
        parts.append(role_text)
    parts.extend(authority_text(model, t, a) for a in sorted(person.authority))
    parts.append(_route(person, t))
    return separated(parts, " · ")


def authority_text(model: GovernanceModel, t: Texts, held: str) -> str:
    """"Behörig Godkännare", or scoped to a supplier's services, "Behörig Godkännare för Leverantör av
    Skolplattformens tjänster"."""
    kind, party = scope_of(held)
    name = t.text(f"directory.authority.{kind}")
    if party is None:
        return name
    found = model.party(party)
    return t.text("directory.authority_scoped", authority=name, party=found.name(t.lang) if found else party)


def _route(person: Person, t: Texts) -> Span:
    if person.group:
        return t("directory.route.group", group=mention(person)).span
    if person.external and person.email:
        return t("directory.route.connect", email=person.email).span
    if person.account:
        return t("directory.route.slack", key=person.key).span
    return t("directory.route.email", email=person.email or "").span


@samverkan.add("whoami", "vem", "jag")
def whoami(ctx: Context) -> None:
    person = ctx.person
    if person is None:
        ctx.reply(ctx.t("directory.whoami_unknown"))
        return
    ctx.reply(ctx.t("directory.whoami", description=describe(person, ctx.model, ctx.t), key=person.key))


@samverkan.add("home", "hem")
def home(ctx: Context) -> None:
    """The person's Home, drawn anew and shown where their platform shows it (Slack's Home tab; on Teams a card in
    their personal chat with the bot, kept current in place), right after this command: as opening the Home tab
    does on Slack (bot.native.home.opened)."""
    from bot.native import home as homes

    homes.open_after(ctx)
    ctx.reply(ctx.t("directory.home_opened"))


@samverkan.add("directory", "katalog", "personer")
def directory(ctx: Context) -> None:
    party = find_party(ctx.model, " ".join(ctx.args)) if ctx.args else None
    people = ctx.uow.directory.people(party.key if party else None)
    if not people:
        ctx.reply(ctx.t("directory.empty"))
        return
    order = {p.key: i for i, p in enumerate(ctx.model.parties)}
    lines = [ctx.t("directory.heading", count=len(people))]
    current = None
    for person in sorted(people, key=lambda p: (order.get(p.party, 999), p.name)):
        if person.party != current:
            current = person.party
            found = ctx.model.party(current)
            lines.append(line(Strong((Text(found.name(ctx.t.lang) if found else current),))))
        lines.append(line(*describe(person, ctx.model, ctx.t, with_party=False), bullet=True))
    ctx.reply(join(lines))


@samverkan.add("person", "personer")
def person(ctx: Context) -> None:
    action = ctx.args[0].lower() if ctx.args else ""
    if action in ("add", "lägg", "ny") and len(ctx.args) >= 4:
        _add_person(ctx, ctx.args[1], ctx.args[2], " ".join(ctx.args[3:]))
    elif action in ("remove", "ta", "bort") and len(ctx.args) == 2:
        _remove_person(ctx, ctx.args[1])
    else:
        raise UserError("directory.usage.person")


def _add_person(ctx: Context, party_word: str, who: str, name: str) -> None:
    party = find_party(ctx.model, party_word)
    ref = parse_reference(who)
    if ref.key:
        raise UserError("directory.bad_contact", word=who)
    directory = ctx.uow.directory
    existing = (
        (ref.account and directory.by_account(ref.account))
        or (ref.email and directory.by_email(ref.email))
        or (ref.group and directory.by_usergroup(ref.group))
    )
    if existing:
        raise UserError("directory.already_there", name=existing.name, key=existing.key)
    name = bounds.text(name, bounds.NAME)
    new = Person(
        key=key_for(name, directory.keys()),
        name=name,
        party=party.key,
        account=ref.account,
        email=ref.email,
        group=ref.group,
    )
    directory.save(new)
    ctx.record("directory.person_added", new.key, party=party.key, name=name, contact=who)
    if ref.email:
        # Their chat account is looked up once, after the commit, and remembered: later invitations need no lookup.
        duty = link_duty(new.key, ctx.clock.now())
        ctx.uow.duties.plan(duty)
        ctx.emit(WorkPlanned(duty))
    ctx.reply(ctx.t("directory.added", description=describe(new, ctx.model, ctx.t), key=new.key))


def _remove_person(ctx: Context, who: str) -> None:
    gone = require_person(ctx.uow, who)
    ctx.uow.directory.remove(gone.key)
    ctx.record("directory.person_removed", gone.key, name=gone.name, party=gone.party)
    ctx.reply(ctx.t("directory.removed", name=gone.name))


@samverkan.add("role", "roll")
def role(ctx: Context) -> None:
    if len(ctx.args) < 3 or ctx.args[0].lower() not in ("add", "remove", "lägg", "ta"):
        raise UserError("directory.usage.role")
    adding = ctx.args[0].lower() in ("add", "lägg")
    person = require_person(ctx.uow, ctx.args[1])
    found = find_role(ctx.model, " ".join(ctx.args[2:]))
    if adding and found.administers_directory and not oversees(ctx.model, person):
        # Administrators keep the City's register of who may act: only the City's own people can be one.
        raise UserError("directory.admin_city_only", name=person.name, role=found.name(ctx.t.lang))
    if adding == (found.key in person.roles):
        key = "directory.role_already" if adding else "directory.role_missing"
        raise UserError(key, name=person.name, role=found.name(ctx.t.lang))
    changed = person.with_role(found.key) if adding else person.without_role(found.key)
    ctx.uow.directory.save(changed)
    ctx.record("directory.role_added" if adding else "directory.role_removed", person.key, role=found.key)
    key = "directory.role_added" if adding else "directory.role_removed"
    ctx.reply(ctx.t(key, name=person.name, role=found.name(ctx.t.lang)))


@samverkan.add("authority", "behörighet", "behorighet")
def authority(ctx: Context) -> None:
    words = [w.lower() for w in ctx.args]
    if len(words) not in (3, 4) or words[0] not in ("grant", "revoke", "ge", "ta"):
        raise UserError("directory.usage.authority")
    granting = words[0] in ("grant", "ge")
    kind: str = _authority(words[2])
    if len(words) == 4:
        kind = scoped(kind, _supplier(ctx, ctx.args[3]))
    person = require_person(ctx.uow, ctx.args[1])
    # Only the City names authorised orderers and approvers (section 4.7), and only for its own people.
    city = next((p for p in ctx.model.parties if p.oversight), None)
    if city is None or person.party != city.key:
        raise UserError("directory.authority_city_only", name=person.name)
    if granting == (kind in person.authority):
        raise UserError("directory.authority_unchanged", name=person.name)
    changed = (person.with_authority(kind) if granting  # type: ignore[arg-type]
               else person.without_authority(kind))  # type: ignore[arg-type]
    ctx.uow.directory.save(changed)
    ctx.record("directory.authority_granted" if granting else "directory.authority_revoked", person.key,
               authority=kind)
    notify_authority(ctx, changed, kind, granting)
    ctx.reply(ctx.t("directory.authority_changed", description=describe(changed, ctx.model, ctx.t)))


def notify_authority(ctx: Context, person: Person, kind: str, granting: bool) -> None:
    """4.7: "Staden kommer skriftligen att meddela Leverantören ... förändringar": the people who represent the
    supplier concerned in matters of its agreement (its Kundansvarig) are told directly – the lead supplier's for an
    authority under this contract, the other supplier's for one limited to its services – and the notice is in the
    log."""
    representing = set(ctx.model.ladder.representative_roles) if ctx.model.ladder else set()
    _, limited_to = scope_of(kind)
    concerned = [limited_to] if limited_to else [p.key for p in ctx.model.parties if p.lead_supplier]
    told: list[Person] = []
    for party in concerned:
        people = list(ctx.uow.directory.people(party))
        told.extend([p for p in people if p.roles & representing] or people)
    key = "directory.authority_notice_granted" if granting else "directory.authority_notice_revoked"
    by = ctx.person.name if ctx.person else ctx.actor
    model = ctx.model
    for someone in told:
        ctx.direct(someone, lambda t: t(key, name=person.name, authority=authority_text(model, t, kind), by=by))
    ctx.record("directory.authority_notified", person.key, authority=kind, granted=granting,
               told=[p.key for p in told])


def _supplier(ctx: Context, word: str) -> str:
    """The supplier an authority is limited to: `supplier=school-platform` (`leverantör=`). The lead supplier's is
    the unscoped authority, and the City's own units are no supplier."""
    name, _, value = word.partition("=")
    if name.lower() not in ("supplier", "leverantör", "leverantor") or not value:
        raise UserError("directory.usage.authority")
    party = find_party(ctx.model, value)
    if party.oversight or party.lead_supplier or party.represented_by:
        raise UserError("directory.authority_scope_other_supplier", party=party.name(ctx.t.lang))
    return party.key


def _authority(word: str) -> Authority:
    aliases = {"orderer": "orderer", "beställare": "orderer", "bestallare": "orderer",
               "approver": "approver", "godkännare": "approver", "godkannare": "approver"}
    if word not in aliases:
        raise UserError("directory.usage.authority")
    kind = aliases[word]
    assert kind in AUTHORITIES
    return kind  # type: ignore[return-value]


@samverkan.add("history", "historik")
def history(ctx: Context) -> None:
    subject = require_person(ctx.uow, ctx.args[0]).key if ctx.args else None
    events = ctx.uow.events.history(subject=subject, kind_prefix="directory.", limit=30)
    if not events:
        ctx.reply(ctx.t("directory.no_history"))
        return
    lines = [ctx.t("directory.history_heading")]
    for e in events:
        details = ", ".join(f"{k}={v}" for k, v in sorted(e.data.items()))
        lines.append(line(f"{ctx.t.when(e.at)} · {e.actor} · {ctx.t.text('event.' + e.kind)} · {e.subject} {details}",
                          bullet=True))
    ctx.reply(join(lines))
