"""Reading a model file, and saying what is wrong with it where it is wrong: file, line and field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from bot.i18n import Lang, Texts
from bot.model.schema import Forum, GovernanceModel, MajorIncidents

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    line: int | None
    field: str
    text_key: str
    values: dict[str, object]


class ModelError(Exception):
    def __init__(self, source: str, problems: list[Problem]) -> None:
        super().__init__(f"{source}: {len(problems)} problem(s)")
        self.source = source
        self.problems = problems

    def explain(self, lang: Lang) -> str:
        t = Texts(lang)
        lines = [t("model.invalid", file=self.source, count=len(self.problems)).plain()]
        for p in self.problems:
            where = t("model.at_line", line=p.line).plain() if p.line else t("model.at_top").plain()
            lines.append(f"  {self.source}, {where}, {p.field}: {t(p.text_key, **p.values).plain()}")
        return "\n".join(lines)

# The model is read at every start: libyaml's parser is ten times faster than the pure-Python one.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def shipped_model_path() -> Path:
    return Path(str(resources.files("bot.model").joinpath("stockholm.yaml")))


def load_model(path: Path | str | None = None) -> GovernanceModel:
    path = Path(path) if path else shipped_model_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(str(path), [Problem(None, "-", "model.unreadable", {"reason": exc.strerror})]) from exc
    except UnicodeDecodeError as exc:
        raise ModelError(str(path), [Problem(None, "-", "model.unreadable", {"reason": "UTF-8"})]) from exc
    return load_model_text(text, source=str(path))


def load_model_text(text: str, source: str = "<model>") -> GovernanceModel:
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader, libyaml's when installed
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ModelError(source, [Problem(line, "-", "model.yaml_syntax", {"reason": exc.problem})]) from exc
    if not isinstance(data, dict):
        raise ModelError(source, [Problem(1, "-", "model.not_mapping", {})])
    try:
        model = GovernanceModel.model_validate(data)
    except ValidationError as exc:
        lines = _line_numbers(text)
        raise ModelError(source, [_problem(e, lines) for e in exc.errors()]) from exc
    if references := list(_references(model)):
        lines = _line_numbers(text)
        raise ModelError(source, [Problem(_line_of(loc, lines), _dotted(loc), key, values)
                                  for loc, key, values in references])
    return model


def _line_numbers(text: str) -> dict[Loc, int]:
    """Where each value is in the file, for the explanation of a problem: a second reading, only when needed."""
    root = yaml.compose(text, Loader=_Loader)
    return dict(_lines(root)) if root is not None else {}


def _lines(node: yaml.Node, loc: Loc = ()) -> Iterator[tuple[Loc, int]]:
    yield loc, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*loc, key.value)
            yield child, key.start_mark.line + 1
            yield from ((k, v) for k, v in _lines(value, child) if k != child)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _lines(item, (*loc, index))


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    # Pydantic's location may point below what the file has (a missing field): use the nearest parent.
    while loc not in lines and loc:
        loc = loc[:-1]
    return lines.get(loc)


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "-"


# Pydantic's error types, in words for whoever maintains the model: not the library's.
_PLAIN = {
    "missing": "model.missing",
    "extra_forbidden": "model.unknown_field",
    "string_type": "model.want_text",
    "string_too_short": "model.empty",
    "list_type": "model.want_list",
    "too_short": "model.empty_list",
    "bool_type": "model.want_yes_no",
    "bool_parsing": "model.want_yes_no",
    "int_type": "model.want_number",
    "int_parsing": "model.want_number",
    "literal_error": "model.one_of",
    "string_pattern_mismatch": "model.bad_format",
    "model_type": "model.want_mapping",
    "dict_type": "model.want_mapping",
    "greater_than_equal": "model.too_small",
    "less_than_equal": "model.too_large",
    "time_parsing": "model.want_time",
    "time_type": "model.want_time",
    "date_parsing": "model.want_date",
    "date_type": "model.want_date",
    "date_from_datetime_parsing": "model.want_date",
}


def _problem(error: dict, lines: dict[Loc, int]) -> Problem:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    values: dict[str, object] = {"value": error.get("input"), "expected": error.get("ctx", {}).get("expected", "")}
    if kind == "value_error":
        # Our own validators raise a short code; the catalogue explains it.
        code = str(error.get("ctx", {}).get("error", "")) or "invalid"
        return Problem(_line_of(loc, lines), _dotted(loc), f"model.rule.{code}", values)
    return Problem(_line_of(loc, lines), _dotted(loc), _PLAIN.get(kind, "model.invalid_value"), values)


def _references(model: GovernanceModel) -> Iterator[tuple[Loc, str, dict[str, object]]]:
    """Cross-references the schema alone cannot check: every key used must be defined, and defined once. Each
    mistake is reported once, where it is."""
    parties = {p.key for p in model.parties}
    classes = {c.key for c in model.party_classes}
    roles = {r.key for r in model.roles}
    forums = {f.key for f in model.forums}
    people = {p.key for p in model.people}
    for name, items in (("party_classes", model.party_classes), ("parties", model.parties), ("roles", model.roles),
                        ("people", model.people), ("forums", model.forums), ("services", model.services)):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.key in seen:
                yield (name, i, "key"), "model.duplicate", {"value": item.key}
            seen.add(item.key)
    # A chair names a party or a class by its key alone: the two must not share one.
    for i, party_class in enumerate(model.party_classes):
        if party_class.key in parties:
            yield ("party_classes", i, "key"), "model.class_is_party", {"value": party_class.key}
    yield from _parties(model, parties, classes)
    oversight = {p.key for p in model.parties if p.oversight}
    administering = {r.key for r in model.roles if r.administers_directory}
    for i, person in enumerate(model.people):
        if person.party not in parties:
            yield ("people", i, "party"), "model.unknown_party", {"value": person.party}
        elif set(person.roles) & administering and person.party not in oversight:
            yield ("people", i, "roles"), "model.admin_city_only", {"value": person.key}
        for j, role in enumerate(person.roles):
            if role not in roles:
                yield ("people", i, "roles", j), "model.unknown_role", {"value": role}
    catalogues = {c.key for c in model.catalogues}
    for i, catalogue in enumerate(model.catalogues):
        for j, role in enumerate(catalogue.owner_roles):
            if role not in roles:
                yield ("catalogues", i, "owner_roles", j), "model.unknown_role", {"value": role}
    for i, forum in enumerate(model.forums):
        yield from _forum(model, i, forum, parties, classes, roles)
    for field in ("deployment_forum", "problem_forum"):
        value = getattr(model, field)
        if value and value not in forums:
            yield (field,), "model.unknown_forum", {"value": value}
    for i, service in enumerate(model.services):
        if service.catalogue and service.catalogue not in catalogues:
            yield ("services", i, "catalogue"), "model.unknown_catalogue", {"value": service.catalogue}
        for j, party in enumerate(service.responsible):
            if party not in parties:
                yield ("services", i, "responsible", j), "model.unknown_party", {"value": party}
        for j, contact in enumerate(service.contacts):
            if contact not in people:
                yield ("services", i, "contacts", j), "model.unknown_person", {"value": contact}
        yield from _requirements(("services", i, "contact_roles"), service.contact_roles, parties, roles)
    if model.major_incidents:
        yield from _major_incidents(model.major_incidents, parties, classes, roles, forums)
    if model.ladder:
        for i, rung in enumerate(model.ladder.rungs):
            if rung.forum not in forums:
                yield ("ladder", "rungs", i, "forum"), "model.unknown_forum", {"value": rung.forum}
        for field in ("supplier_to_supplier", "product_supplier_forum"):
            value = getattr(model.ladder, field)
            if value and value not in forums:
                yield ("ladder", field), "model.unknown_forum", {"value": value}
        for j, key in enumerate(model.ladder.city_and_other_supplier):
            if key not in forums:
                yield ("ladder", "city_and_other_supplier", j), "model.unknown_forum", {"value": key}
        for j, role in enumerate(model.ladder.representative_roles):
            if role not in roles:
                yield ("ladder", "representative_roles", j), "model.unknown_role", {"value": role}
    for i, owed in enumerate(model.underlag):
        for field in ("owner", "to"):
            if getattr(owed, field) not in parties:
                yield ("underlag", i, field), "model.unknown_party", {"value": getattr(owed, field)}
        for j, role in enumerate(owed.roles):
            if role not in roles:
                yield ("underlag", i, "roles", j), "model.unknown_role", {"value": role}
    if model.short_notice:
        for field in ("requested_by", "owner"):
            if getattr(model.short_notice, field) not in parties:
                yield ("short_notice", field), "model.unknown_party", {"value": getattr(model.short_notice, field)}
        for j, role in enumerate(model.short_notice.roles):
            if role not in roles:
                yield ("short_notice", "roles", j), "model.unknown_role", {"value": role}


def _parties(model: GovernanceModel, parties: set[str], classes: set[str]) -> Iterator[tuple[Loc, str, dict]]:
    for i, party in enumerate(model.parties):
        for j, party_class in enumerate(party.classes):
            if party_class not in classes:
                yield ("parties", i, "classes", j), "model.unknown_class", {"value": party_class}
        if party.represented_by and party.represented_by not in parties:
            yield ("parties", i, "represented_by"), "model.unknown_party", {"value": party.represented_by}
        elif party.represented_by == party.key:
            yield ("parties", i, "represented_by"), "model.represents_itself", {"value": party.key}


def _forum(model: GovernanceModel, i: int, forum: Forum, parties: set[str], classes: set[str],
           roles: set[str]) -> Iterator[tuple[Loc, str, dict]]:
    for j, key in enumerate(forum.chair):
        if key not in parties and key not in classes:
            yield ("forums", i, "chair", j), "model.unknown_party_or_class", {"value": key}
    for j, seat in enumerate(forum.attendees):
        if seat.party is not None and seat.party not in parties:
            yield ("forums", i, "attendees", j, "party"), "model.unknown_party", {"value": seat.party}
        if seat.party_class is not None and seat.party_class not in classes:
            yield ("forums", i, "attendees", j, "class"), "model.unknown_class", {"value": seat.party_class}
        for k, role in enumerate(seat.roles):
            if role not in roles:
                yield ("forums", i, "attendees", j, "roles", k), "model.unknown_role", {"value": role}
    seen: set[str] = set()
    for j, report in enumerate(forum.reports):
        if report.key in seen:
            yield ("forums", i, "reports", j, "key"), "model.duplicate", {"value": report.key}
        seen.add(report.key)
        if report.owner not in parties:
            yield ("forums", i, "reports", j, "owner"), "model.unknown_party", {"value": report.owner}
    for j, key in enumerate(forum.followers):
        if key not in parties and key not in classes:
            yield ("forums", i, "followers", j), "model.unknown_party_or_class", {"value": key}
    if forum.service_levels and forum.service_levels.decided_by not in parties:
        yield ("forums", i, "service_levels", "decided_by"), "model.unknown_party", {
            "value": forum.service_levels.decided_by}
    if forum.per_catalogue:
        # Each catalogue's sitting seats its owners: a side the forum requires roles of must keep one.
        for c, catalogue in enumerate(model.catalogues):
            owners = set(catalogue.owner_roles)
            for seat in forum.attendees:
                if owners and seat.roles and not owners & set(seat.roles):
                    yield ("catalogues", c, "owner_roles"), "model.no_owner_for", {
                        "value": seat.ref, "forum": forum.key}


def _major_incidents(mi: MajorIncidents, parties: set[str], classes: set[str], roles: set[str],
                     forums: set[str]) -> Iterator[tuple[Loc, str, dict]]:
    for field in ("always", "administrative"):
        yield from _requirements(("major_incidents", field), getattr(mi, field), parties, roles)
    for field in ("commander", "city_contact"):
        yield from _requirements(("major_incidents",), [getattr(mi, field)], parties, roles, field)
    for j, forum in enumerate(mi.report_forums):
        if forum not in forums:
            yield ("major_incidents", "report_forums", j), "model.unknown_forum", {"value": forum}
    if not mi.update_minutes or any(not 1 <= s <= 9 or m < 1 for s, m in mi.update_minutes.items()):
        yield ("major_incidents", "update_minutes"), "model.rule.invalid", {"value": dict(mi.update_minutes)}
    for j, reach in enumerate(mi.reached_through):
        if reach.party_class not in classes:
            yield ("major_incidents", "reached_through", j, "class"), "model.unknown_class", {
                "value": reach.party_class}
        yield from _requirements(("major_incidents", "reached_through", j, "via"), reach.via, parties, roles)


def _requirements(loc: Loc, requirements, parties: set[str], roles: set[str],  # type: ignore[no-untyped-def]
                  field: str | None = None) -> Iterator[tuple[Loc, str, dict[str, object]]]:
    for j, req in enumerate(requirements):
        at: Loc = (*loc, field) if field else (*loc, j)
        if req.party not in parties:
            yield (*at, "party"), "model.unknown_party", {"value": req.party}
        for k, role in enumerate(req.roles):
            if role not in roles:
                yield (*at, "roles", k), "model.unknown_role", {"value": role}
