"""`samverkan archive`: one package (a directory) per closed case, for the City's archive.

A case is closed when nothing more will happen to it: a major incident closed, a disagreement settled, ended in a
formal dispute or clarified by the City. Each package holds the case's records and full timeline as JSON and as a
human-readable transcript, the parties and people with their roles, a manifest of every file with its SHA-256, and
a METS document after the E-ARK Common Specification for Information Packages (CSIP): `METS.xml` at the root with
OBJID, TYPE and PROFILE, a `metsHdr` naming the creating software, a `fileSec` listing every other file with its
size and SHA-256 checksum, and a `structMap` with LABEL "CSIP" (CSIP82); the files lie in CSIP's folders
(`metadata/descriptive`, `representations/rep1/data`). Where the CSIP asks for more (PREMIS preservation metadata,
schemas in the package, a METS per representation) it is not done: a package is meant to be read, and checked with
`samverkan archive --verify`, not to pass a CSIP validator. Reference: E-ARK CSIP (DILCIS Board,
https://earkcsip.dilcis.eu/); METS (https://www.loc.gov/standards/mets/).

The people's roles are those the directory gives them when the package is written (the directory keeps no history
of roles); a war room's members carry the party they were asked in as.
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET  # noqa: N817 - the usual name
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.model import GovernanceModel
from bot.ports import UnitOfWork
from samverkan.export import _disagreement, _histories, incident_records

MANIFEST = "manifest-sha256.txt"
METS = "METS.xml"
DATA = "representations/rep1/data"
RECORD = f"{DATA}/record.json"
TRANSCRIPT = f"{DATA}/transcript.md"
PEOPLE = "metadata/descriptive/people.json"
EVENTS = f"{DATA}/events.json"
PROFILE = "https://earkcsip.dilcis.eu/profile/E-ARK-CSIP.xml"
NS = {"mets": "http://www.loc.gov/METS/", "xlink": "http://www.w3.org/1999/xlink",
      "csip": "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"}
CLOSED_DISAGREEMENT = {"settled", "formal", "clarified"}


@dataclass(frozen=True)
class Case:
    ref: str
    kind: str  # "incident", "disagreement" or "forum" (its decisions and actions over a period)
    title: str
    record: dict[str, Any]
    people: list[dict[str, Any]]
    events: list[dict[str, Any]]


def closed_cases(uow: UnitOfWork, model: GovernanceModel) -> list[Case]:
    return cases(uow, model, closed_only=True)


def cases(uow: UnitOfWork, model: GovernanceModel, closed_only: bool = False) -> list[Case]:
    found_cases = []
    for record in incident_records(uow, model):
        if closed_only and record["state"] != "closed":
            continue
        keys = {m["key"] for m in record["members"]} | {record["declared_by"], record["commander"],
                                                       record["communications"], record["scribe"]}
        keys |= {e["author"] for e in record["timeline"]}
        found = uow.incidents.get(int(record["ref"].removeprefix("MI-")))
        if found is not None:
            record["legal"] = {name: step for name, step in uow.incidents.steps(found.id).items()
                               if name.startswith("legal:")}
        found_cases.append(Case(record["ref"], "incident", record["title"], record,
                          _people(uow, model, keys, {m["key"]: m["party"] for m in record["members"]}),
                          _events(uow, record["ref"])))
    histories = _histories(uow)
    for d in uow.disagreements.every():
        if closed_only and d.state not in CLOSED_DISAGREEMENT:
            continue
        record = _disagreement(d, list(histories.get(d.id, [])))
        keys = {d.raised_by} | {e["actor"] for e in record["history"]}
        if d.proposal:
            keys.add(d.proposal.by)
        found_cases.append(Case(d.ref, "disagreement", d.title, record, _people(uow, model, keys, {}),
                          _events(uow, d.ref)))
    return found_cases


def forum_cases(uow: UnitOfWork, model: GovernanceModel, since: datetime, until: datetime, period: str
                ) -> list[Case]:
    """A forum's decisions and actions over a closed period (a year, a month), one case per forum that recorded
    any: what the forum decided and who was to do what, with whom the records name and their roles."""
    found_cases = []
    for forum in model.forums:
        decisions = [d for d in uow.forum.decisions(forum.key, since) if d.at < until]
        actions = list(uow.forum.actions_recorded(forum.key, since, until))
        if not decisions and not actions:
            continue
        record = {"forum": forum.key, "name": forum.name(model.language), "period": period,
                  "from": _iso(since), "until": _iso(until),
                  "decisions": [{"id": d.id, "text": d.text, "by": d.by, "at": _iso(d.at)} for d in decisions],
                  "actions": [{"id": f"A-{a.id}", "text": a.text, "owner": a.owner, "due": a.due.isoformat(),
                               "by": a.by, "at": _iso(a.at), "done_at": _iso(a.done_at)} for a in actions]}
        keys = {d.by for d in decisions} | {a.by for a in actions} | {a.owner for a in actions}
        events = [e for e in _events(uow, forum.key) if e["at"] and _iso(since) <= e["at"] < _iso(until)]
        found_cases.append(Case(f"{forum.key}-{period}", "forum", record["name"], record,
                                _people(uow, model, keys, {}), events))
    return found_cases


def period_of(text: str) -> tuple[datetime, datetime]:
    """`YYYY` or `YYYY-MM` as [start, end) in the model's zone (Stockholm)."""
    from bot.clock import STOCKHOLM

    year, _, month = text.partition("-")
    start = datetime(int(year), int(month or 1), 1, tzinfo=STOCKHOLM)
    if month:
        end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=STOCKHOLM)
    else:
        end = datetime(start.year + 1, 1, 1, tzinfo=STOCKHOLM)
    return start, end


def _people(uow: UnitOfWork, model: GovernanceModel, keys: Iterable[str | None],
            parties: dict[str, str]) -> list[dict[str, Any]]:
    people = []
    for key in sorted(k for k in set(keys) if k):
        person = uow.directory.by_key(key)
        party_key = parties.get(key) or (person.party if person else None)
        party = model.party(party_key) if party_key else None
        roles = sorted(person.roles) if person else []
        people.append({"key": key, "name": person.name if person else key, "party": party_key,
                       "party_name": party.name(model.language) if party else party_key,
                       "roles": [{"key": r, "name": model.role(r).name(model.language) if model.role(r) else r}
                                 for r in roles]})
    return people


def _events(uow: UnitOfWork, ref: str) -> list[dict[str, Any]]:
    return [{"at": _iso(e.at), "actor": e.actor, "kind": e.kind, "subject": e.subject, "data": e.data}
            for e in reversed(uow.events.history(subject=ref, limit=100_000))]


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at else None


def transcript(case: Case) -> str:
    r = case.record
    lines = [f"# {case.ref}: {case.title}", ""]
    if case.kind == "incident":
        lines += [f"- Severity: {r['severity']}", f"- Services: {', '.join(r['services'])}",
                  f"- Declared: {r['declared_at']} by {r['declared_by']}", f"- Commander: {r['commander']}",
                  f"- Resolved: {r['resolved_at']}", f"- Closed: {r['closed_at']}", f"- Summary: {r['summary']}",
                  "", r["description"], "", "## Legal reports", ""]
        for name, step in sorted(r.get("legal", {}).items()):
            lines.append(f"- {name.removeprefix('legal:')}: " + ", ".join(f"{k}={v}" for k, v in sorted(step.items())))
        lines += ["", "## Members", ""]
        for m in r["members"]:
            lines.append(f"- {m['name']} ({m['party']}): {m['state']}, joined {m['joined_at'] or '–'}")
        lines += ["", "## Timeline", ""]
        for e in r["timeline"]:
            lines.append(f"- {e['at']} · {e['author']} · {e['kind']}: {e['text']}")
    elif case.kind == "forum":
        lines += [f"- Forum: {r['name']} ({r['forum']})", f"- Period: {r['period']} ({r['from']} – {r['until']})",
                  "", "## Decisions", ""]
        lines += [f"- {d['at']} · {d['by']}: {d['text']}" for d in r["decisions"]] or ["–"]
        lines += ["", "## Actions", ""]
        lines += [f"- {a['id']} · {a['owner']} by {a['due']} ({'done ' + a['done_at'] if a['done_at'] else 'open'})"
                  f": {a['text']}" for a in r["actions"]] or ["–"]
    else:
        lines += [f"- Parties: {' / '.join(r['parties'])}", f"- Raised by: {r['raised_by']}",
                  f"- State: {r['state']}", f"- Opened: {r['opened_at']}", f"- Settled: {r['settled_at']}",
                  f"- Ladder: {' → '.join(r['ladder'])}", "", r["description"], ""]
        if r["proposal"]:
            lines += [f"Proposal by {r['proposal']['by']} ({r['proposal']['at']}): {r['proposal']['text']}", ""]
        lines += ["## History", ""]
        for e in r["history"]:
            lines.append(f"- {e['at']} · {e['actor']} ({e['party']}) · level {e['level']} at {e['forum']} · "
                         f"{e['kind']}: {e['text']}")
    lines += ["", "## People", ""]
    for p in case.people:
        roles = ", ".join(role["name"] for role in p["roles"]) or "–"
        lines.append(f"- {p['name']} ({p['party_name']}): {roles}")
    return "\n".join(lines) + "\n"


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_package(case: Case, out: Path, now: datetime) -> Path:
    root = out / case.ref
    files = {RECORD: _json(case.record), EVENTS: _json(case.events), TRANSCRIPT: transcript(case).encode(),
             PEOPLE: _json(case.people)}
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    (root / METS).write_bytes(mets(case, root, sorted(files), now))
    listed = sorted([*files, METS])
    (root / MANIFEST).write_text("".join(f"{sha256(root / name)}  {name}\n" for name in listed), encoding="utf-8")
    return root


def mets(case: Case, root: Path, names: list[str], now: datetime) -> bytes:
    for prefix, uri in NS.items():
        ET.register_namespace(prefix, uri)
    m, x, c = (f"{{{NS[p]}}}" for p in ("mets", "xlink", "csip"))
    doc = ET.Element(f"{m}mets", {"OBJID": case.ref, "LABEL": case.title, "TYPE": "OTHER",
                                  f"{c}OTHERTYPE": f"samverkan-{case.kind}", "PROFILE": PROFILE,
                                  f"{c}CONTENTINFORMATIONTYPE": "OTHER"})
    header = ET.SubElement(doc, f"{m}metsHdr", {"CREATEDATE": now.astimezone(UTC).isoformat(timespec="seconds"),
                                                 "RECORDSTATUS": "NEW", f"{c}OAISPACKAGETYPE": "SIP"})
    agent = ET.SubElement(header, f"{m}agent", {"ROLE": "CREATOR", "TYPE": "OTHER", "OTHERTYPE": "SOFTWARE"})
    ET.SubElement(agent, f"{m}name").text = "Samverkan"
    file_sec = ET.SubElement(doc, f"{m}fileSec", {"ID": "fileSec-1"})
    groups: dict[str, ET.Element] = {}
    ids = []
    for n, name in enumerate(names, 1):
        use = "Representations/rep1" if name.startswith("representations/") else "Metadata/descriptive"
        group = groups.get(use)
        if group is None:
            group = groups[use] = ET.SubElement(file_sec, f"{m}fileGrp", {"ID": f"fileGrp-{len(groups) + 1}",
                                                                          "USE": use})
        path = root / name
        mime = "application/json" if name.endswith(".json") else "text/markdown"
        entry = ET.SubElement(group, f"{m}file", {"ID": f"file-{n}", "MIMETYPE": mime,
                                                  "SIZE": str(path.stat().st_size),
                                                  "CREATED": now.astimezone(UTC).isoformat(timespec="seconds"),
                                                  "CHECKSUM": sha256(path), "CHECKSUMTYPE": "SHA-256"})
        ET.SubElement(entry, f"{m}FLocat", {"LOCTYPE": "URL", f"{x}type": "simple", f"{x}href": name})
        ids.append((use, f"file-{n}"))
    struct = ET.SubElement(doc, f"{m}structMap", {"ID": "structMap-1", "TYPE": "PHYSICAL", "LABEL": "CSIP"})
    top = ET.SubElement(struct, f"{m}div", {"ID": "div-root", "LABEL": case.ref})
    for n, use in enumerate(groups, 1):
        div = ET.SubElement(top, f"{m}div", {"ID": f"div-{n}", "LABEL": use})
        for file_use, file_id in ids:
            if file_use == use:
                ET.SubElement(div, f"{m}fptr", {"FILEID": file_id})
    ET.indent(doc)
    return ET.tostring(doc, encoding="utf-8", xml_declaration=True) + b"\n"


def verify_package(root: Path) -> list[str]:
    """What does not match in a package: each file whose SHA-256 differs from the manifest's or the METS
    document's, each listed file missing and each file not listed. Empty when the package is intact."""
    problems: list[str] = []
    manifest = root / MANIFEST
    if not manifest.is_file():
        return [f"{MANIFEST}: missing"]
    listed: dict[str, str] = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    for name, digest in sorted(listed.items()):
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256(path) != digest:
            problems.append(f"{name}: altered (SHA-256 differs from the manifest)")
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {MANIFEST}
    problems += [f"{name}: not in the manifest" for name in sorted(present - set(listed))]
    if (root / METS).is_file() and f"{METS}: altered (SHA-256 differs from the manifest)" not in problems:
        try:
            doc = ET.parse(root / METS).getroot()  # noqa: S314 - our own package
        except ET.ParseError:
            return [*problems, f"{METS}: not readable"]
        m, x = f"{{{NS['mets']}}}", f"{{{NS['xlink']}}}"
        for entry in doc.iter(f"{m}file"):
            name = entry.find(f"{m}FLocat").get(f"{x}href")  # type: ignore[union-attr]
            path = root / str(name)
            if (path.is_file() and sha256(path) != entry.get("CHECKSUM")
                    and not any(p.startswith(f"{name}:") for p in problems)):
                problems.append(f"{name}: altered (SHA-256 differs from {METS})")
    return problems
