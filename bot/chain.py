"""The event log's hash chain: each event carries the SHA-256 of a canonical JSON of its fields and of the hash of
the event before it, so that a change to any stored event, an event removed or one slipped in between shows.

Pure: storage computes the hashes when it appends (under a lock, in commit order) and hands the stored rows to
`walk`, which names the first break. The canonical form is JSON with sorted keys, no spaces, UTF-8 unescaped, the
time as UTC ISO 8601 with microseconds: what the database gives back hashes the same as what was given to it. The
fields that may hold personal data (actor, subject, data) enter it as commitments, each the SHA-256 of the field's
own canonical JSON (`commitment`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

# The predecessor of the first event.
GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainHead:
    seq: int  # the sequence number of the last event in the chain (0: no event yet)
    hash: str


@dataclass(frozen=True)
class Link:
    """One stored event as the chain sees it."""

    id: int
    seq: int | None
    at: datetime
    actor: str
    kind: str
    subject: str
    data: dict[str, Any]
    prev_hash: str | None
    hash: str | None


Finding = Literal["changed", "removed", "inserted", "truncated"]


@dataclass(frozen=True)
class Break:
    """What is wrong, where. `reason` names its sentence in the catalogue (chain.<reason>), `values` fill it."""

    finding: Finding
    event_id: int | None  # the row concerned; None for one removed (it is not there)
    seq: int | None  # its place in the chain
    reason: str
    values: dict[str, Any] = field(default_factory=dict)


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def commitment(value: Any) -> str:
    """The SHA-256 of a field's canonical JSON. The chain covers the fields that may hold personal data (actor,
    subject, data) through these, not directly: a field pseudonymised later has its commitments listed in the
    erasure event (`seals`), and the chain stays verifiable without the data (erasure, issue 22)."""
    return hashlib.sha256(_json(value)).hexdigest()


def canonical(seq: int, at: datetime, actor: str, kind: str, subject: str, data: dict[str, Any], prev: str,
              commitments: dict[str, str] | None = None) -> bytes:
    """`commitments`: a personal-data field's commitment to use instead of its value's (one pseudonymised)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime in the event chain")
    given = commitments or {}
    document = {"seq": seq, "at": at.astimezone(UTC).isoformat(timespec="microseconds"), "kind": kind,
                "actor": given.get("actor") or commitment(actor),
                "subject": given.get("subject") or commitment(subject),
                "data": given.get("data") or commitment(data), "prev": prev}
    return _json(document)


def digest(seq: int, at: datetime, actor: str, kind: str, subject: str, data: dict[str, Any], prev: str) -> str:
    return hashlib.sha256(canonical(seq, at, actor, kind, subject, data, prev)).hexdigest()


def link_digest(link: Link, prev: str, commitments: dict[str, str] | None = None) -> str:
    assert link.seq is not None
    return hashlib.sha256(canonical(link.seq, link.at, link.actor, link.kind, link.subject, link.data, prev,
                                    commitments)).hexdigest()


# The event an erasure writes (samverkan/erasure.py): which fields of which events it replaced, each with the
# commitment of the value it replaced ("before") and of the pseudonymised value it stored ("after"); never the data.
ERASED = "record.pseudonymised"
PERSONAL = ("actor", "subject", "data")

# By event id, by field: the commitment the chain was made with, and the commitment the stored value must have now.
Sealed = dict[int, dict[str, tuple[str, str]]]


def seals(erasures: Iterable[dict[str, Any]]) -> Sealed:
    """What erasure events say, oldest first (their `data`): a field replaced twice keeps the commitment the chain
    was made with and must now have the last replacement's."""
    sealed: Sealed = {}
    for data in erasures:
        for entry in data.get("sealed", []):
            fields = sealed.setdefault(int(entry["event"]), {})
            for name, (before, after) in entry.get("fields", {}).items():
                if name not in PERSONAL:
                    continue
                earlier = fields.get(name)
                fields[name] = (earlier[0] if earlier and earlier[1] == before else before, after)
    return sealed


def own_commitments(link: Link, sealed: Sealed) -> dict[str, str] | None:
    """The commitments a link is checked with: for a field an erasure replaced, the one the chain was made with, but
    only while the stored value is the replacement the erasure recorded (an edit after it still shows); None when
    a sealed field no longer holds its replacement."""
    fields = sealed.get(link.id)
    if not fields:
        return {}
    values = {"actor": link.actor, "subject": link.subject, "data": link.data}
    out = {}
    for name, (before, after) in fields.items():
        if commitment(values[name]) != after:
            return None
        out[name] = before
    return out


def walk(links: Iterable[Link], expected: ChainHead | None = None,
         sealed: Sealed | None = None) -> tuple[ChainHead, list[Break]]:
    """Checks the chain. `links`: every stored event, those in the chain by sequence number, then those outside it
    (no sequence number) by id. `expected`: a head written out earlier (the chain must still contain it). Returns
    the head reached and the breaks, first in chain order first.

    Each event is checked against its own stored hash and its predecessor's: an edited event fails its own hash; one
    whose hash was recomputed too breaks its successor's link; a removed one leaves a gap in the numbers and its
    successor pointing at a hash nobody has; one inserted with SQL has no number (or a number and hash that do not
    follow), and ids, handed out in append order under the same lock, must rise with the numbers.

    `sealed` (`seals` of the chained erasure events): fields replaced by an erasure, checked against the commitment
    the erasure recorded for the replacement and chained with the original's."""
    breaks: list[Break] = []
    prev_hash, prev_seq, prev_id = GENESIS, 0, 0
    hashes: dict[int, str] = {}
    for link in links:
        here = {"id": link.id, "seq": link.seq, "kind": link.kind, "subject": link.subject, "prev_id": prev_id,
                "prev_seq": prev_seq}
        if link.seq is None or link.hash is None:
            breaks.append(Break("inserted", link.id, None, "unchained", here))
            continue
        if link.seq > prev_seq + 1:
            breaks.append(Break("removed", None, prev_seq + 1, "removed",
                                {**here, "first": prev_seq + 1, "last": link.seq - 1}))
        elif link.seq <= prev_seq:
            breaks.append(Break("inserted", link.id, link.seq, "repeated", here))
        elif link.id < prev_id:
            # Its predecessor was written after it: slipped in before it.
            breaks.append(Break("inserted", prev_id, prev_seq, "out_of_order", here))
        elif link.prev_hash != prev_hash:
            # Its own hash may still hold: then the predecessor was rewritten, hash and all.
            breaks.append(Break("changed", prev_id, prev_seq, "relinked", here) if prev_seq else
                          Break("inserted", link.id, link.seq, "no_genesis", here))
        given = own_commitments(link, sealed or {})
        if given is None or link_digest(link, link.prev_hash or "", given) != link.hash:
            breaks.append(Break("changed", link.id, link.seq, "changed", here))
        hashes[link.seq] = link.hash
        prev_hash, prev_seq, prev_id = link.hash, link.seq, link.id
    head = ChainHead(prev_seq, prev_hash)
    if expected is not None and expected.seq > 0:
        values = {"seq": head.seq, "expected": expected.seq}
        if expected.seq > head.seq:
            breaks.append(Break("removed", None, head.seq + 1, "truncated", values))
        elif hashes.get(expected.seq) != expected.hash:
            breaks.append(Break("changed", None, expected.seq, "rewritten", values))
    breaks.sort(key=lambda b: (b.seq is None, b.seq or 0))
    return head, breaks
