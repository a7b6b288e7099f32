"""docs/contract.md maps each enactable clause to what enacts it and what shows it. The table is parsed here: a model
entry it names that disappears from the shipped model (or changes the value the table states), a file or name of
code that is gone, a test that no longer exists, a cited test that does not name the row's forum, parties or roles:
each fails this test."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.model import load_model
from bot.model.schema import GovernanceModel

ROOT = Path(__file__).parents[1]
DOC = ROOT / "docs" / "contract.md"
_REF = re.compile(r"`([^`]+)`")
_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\]]+\])*)")
_SELECTOR = re.compile(r"\[([^\]]+)\]")


def rows() -> list[tuple[str, str, str, str]]:
    table = DOC.read_text(encoding="utf-8").split("<!-- clauses -->")[1]
    found = []
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 4, line
        found.append((cells[0], cells[1], cells[2], cells[3]))
    return found


def references(cell: str) -> list[str]:
    return _REF.findall(cell)


class Missing(LookupError):
    pass


def resolve(data: Any, path: str, empty: bool = False) -> Any:
    """A model entry as the table writes it: `forums[kontraktsforum].attendees[party=city].roles`. An empty one is
    missing, unless the table says it is empty (`empty`)."""
    value = data
    parts = _split(path)
    for n, part in enumerate(parts):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise Missing(f"{path}: cannot read {part!r}")
        name, selectors = match.groups()
        last = n == len(parts) - 1 and not selectors
        if not isinstance(value, dict) or name not in value or (
                value[name] in (None, "", []) and not (empty and last)):
            raise Missing(f"{path}: no {name!r}")
        value = value[name]
        for selector in _SELECTOR.findall(selectors):
            value = _select(value, selector, path)
    return value


def _split(path: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in path:
        depth += char == "["
        depth -= char == "]"
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _select(items: Any, selector: str, path: str) -> Any:
    if not isinstance(items, list):
        raise Missing(f"{path}: [{selector}] of something that is no list")
    field, _, wanted = selector.partition("=") if "=" in selector else ("key", "", selector)
    for item in items:
        if isinstance(item, dict) and str(item.get(field)) == wanted:
            return item
        if item == wanted:
            return item
    raise Missing(f"{path}: no [{selector}]")


def model_data(model: GovernanceModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def check_model_reference(data: dict[str, Any], reference: str) -> None:
    path, _, expected = reference.partition(" = ")
    found = resolve(data, path, empty=bool(expected) and yaml.safe_load(expected) in ([], None, ""))
    if expected:
        assert found == yaml.safe_load(expected), f"{path} is {found!r}, the table says {expected}"


def is_model_reference(reference: str) -> bool:
    head = re.match(r"[A-Za-z_]+", reference)
    return bool(head) and head.group(0) in GovernanceModel.model_fields  # type: ignore[union-attr]


def check_code_reference(reference: str) -> None:
    file, _, name = reference.partition(":")
    source = ROOT / file
    assert source.is_file(), f"{file} does not exist"
    if name:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        assert name in defined, f"{file} defines no {name}"


def test_the_table_names_only_what_exists() -> None:
    data = model_data(load_model())
    table = rows()
    assert len(table) >= 45
    for section, clause, enacted, shown in table:
        refs = references(enacted)
        assert refs, f"§{section} {clause}: nothing enacts it"
        for reference in refs:
            if is_model_reference(reference):
                check_model_reference(data, reference)
            else:
                assert ".py" in reference, f"§{section}: {reference!r} is neither a model entry nor code"
                check_code_reference(reference)
        tests = references(shown)
        assert tests, f"§{section} {clause}: no test shows it"
        for test in tests:
            file, _, name = test.partition("::")
            check_code_reference(f"{file}:{name}")


def test_every_section_with_enactable_clauses_is_in_the_table() -> None:
    sections = {section for section, *_ in rows()}
    assert sections >= {"2.1", "2.2", "2.3", "4.7", "5.2", "5.3", "5.4", "6.2", "7", "7.1", "7.2", "7.3", "8.5",
                        "8.6", "8.7", "8.8", "8.9", "8.10"}


@pytest.mark.parametrize(("reference", "removed"), [
    ("forums[arkitekturrad].rrule", ("arkitekturrad", "rrule")),
    ("forums[samverkansforum].attendees[class=other-supplier]", ("samverkansforum", "attendees")),
    ("forums[produktionssattning].announcements = all", ("produktionssattning", "announcements")),
])
def test_a_model_entry_that_disappears_fails_the_check(reference: str, removed: tuple[str, str]) -> None:
    data = model_data(load_model())
    check_model_reference(data, reference)  # there now
    forum = next(f for f in data["forums"] if f["key"] == removed[0])
    forum[removed[1]] = [] if removed[1] == "attendees" else None
    with pytest.raises((Missing, AssertionError)):
        check_model_reference(data, reference)


# -- a cited test shows the clause's content --------------------------------------------------------------------------
_FORUM_KEY = re.compile(r"^forums\[([^\]=]+)\]")
_PARTY_SELECTOR = re.compile(r"\[(?:party|class)=([^\]]+)\]")
_PARTIES_VALUE = re.compile(r"\.(?:chair|owner|decided_by|to|requested_by|followers)\s*=\s*(.+)$")
_ROLES_VALUE = re.compile(r"\.roles\s*=\s*(.+)$")


def key_facts(enacted: str) -> dict[str, set[str]]:
    """What a row's model entries say the clause is about: its forums, its parties (or classes) and its roles, each
    as its key."""
    facts: dict[str, set[str]] = {"forum": set(), "party": set(), "role": set()}
    for reference in references(enacted):
        if not is_model_reference(reference):
            continue
        if match := _FORUM_KEY.match(reference):
            facts["forum"].add(match.group(1))
        facts["party"].update(_PARTY_SELECTOR.findall(reference))
        for pattern, kind in ((_PARTIES_VALUE, "party"), (_ROLES_VALUE, "role")):
            if match := pattern.search(reference):
                value = yaml.safe_load(match.group(1))
                facts[kind].update(value if isinstance(value, list) else [value])
    return facts


def spellings(model: GovernanceModel, kind: str, key: str) -> set[str]:
    """The ways a test may name a fact: its key, or its Swedish or English name."""
    found = {key}
    named = {"forum": model.forum, "party": model.party, "role": model.role}[kind](key)
    if named is None and kind == "party":
        named = model.party_class(key)
    if named is not None:
        found |= {named.name.sv, named.name.en}
    return {s.lower() for s in found}


def cited_source(test: str) -> str:
    """A cited test's own source, with the module's constants and helpers it may name facts through."""
    file, _, name = test.partition("::")
    source = (ROOT / file).read_text(encoding="utf-8")
    tree = ast.parse(source)
    function = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
    segments = [ast.get_source_segment(source, function) or ""]
    # Parametrised cases and module-level constants (a forum's key in FORUM = "...") belong to the test.
    segments += [ast.get_source_segment(source, d) or "" for d in function.decorator_list]
    segments += [ast.get_source_segment(source, n) or "" for n in tree.body if isinstance(n, ast.Assign)]
    return "\n".join(segments).lower()


def test_every_cited_test_mentions_the_rows_key_facts() -> None:
    model = load_model()
    lacking = []
    for section, clause, enacted, shown in rows():
        sources = "\n".join(cited_source(t) for t in references(shown))
        for kind, keys in key_facts(enacted).items():
            for key in sorted(keys):
                if not any(name in sources for name in spellings(model, kind, key)):
                    lacking.append(f"§{section} {clause[:50]}: no cited test mentions the {kind} {key}")
    assert not lacking, "\n".join(lacking)


def test_a_cited_test_that_does_not_show_the_clause_fails_the_check() -> None:
    model = load_model()
    facts = key_facts(
        "`forums[leveransuppfoljning].attendees[party=supplier].roles = [uppdragsledare, kundansvarig]`")
    assert facts == {"forum": {"leveransuppfoljning"}, "party": {"supplier"},
                     "role": {"uppdragsledare", "kundansvarig"}}
    # The test docs/contract.md used to cite for Leveransuppföljning's attendees only counts sittings.
    counting = cited_source(
        "tests/test_forum_calendar.py::test_every_forum_that_sits_has_the_cadence_the_contract_says")
    assert not any(name in counting for name in spellings(model, "role", "uppdragsledare"))
