"""How fast a war room is ready, and how many Slack calls it takes, with every Slack call answering after 100 ms.

    .venv/bin/python -m benchmarks.war_room [--latency 0.1] [--invitees 200] [--parties 6] [--repeat 1]

A generated model (the shipped one plus six supplier parties and their people) and a fresh SQLite database; the
bot talks to the fake Slack Web API over real HTTP. "Ready" is: channel created, everyone invited, brief posted
and pinned, announcement sent. Sequential round trips: the longest chain of calls each sent only after the previous one
was answered. Those round trips times the latency are the floor no implementation can beat; the target is to be
ready within 1.5 times that floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import yaml

from bot.chat import Command
from bot.clock import STOCKHOLM, ManualClock
from bot.model.loader import shipped_model_path
from samverkan.settings import Settings
from samverkan.wiring import build
from tests.fakes.slack_api import FakeSlack

SERVICE = "benchmark-service"
# Ready within this multiple of the round-trip floor (round trips x latency).
TARGET = 1.5


def generated_model(invitees: int, parties: int, folder: Path, fake: FakeSlack) -> Path:
    """The shipped model plus `parties` suppliers sharing `invitees` people on one service: most are Slack
    members, one per party is an on-duty user group of five, one per party is of another organisation."""
    model = yaml.safe_load(shipped_model_path().read_text(encoding="utf-8"))
    model["roles"].append({"key": "bench-responder", "name": {"sv": "Jourhavande", "en": "Responder"}})
    # The roles present in every war room count among the invitees: the on-duty group (two) and the City (one).
    fake.usergroups["S02SDJOUR"] = ["U02SDJOUR1", "U02SDJOUR2"]
    budget = invitees - 3
    per_party = [budget // parties + (1 if i < budget % parties else 0) for i in range(parties)]
    requirements = []
    for p, count in enumerate(per_party):
        party = f"bench-supplier-{p + 1}"
        model["parties"].append({"key": party, "name": {"sv": f"Leverantör {p + 1}", "en": f"Supplier {p + 1}"}})
        requirements.append({"party": party, "roles": ["bench-responder"]})
        group = f"SBENCH{p + 1:04d}"
        fake.usergroups[group] = [f"UG{p + 1:02d}{n:05d}" for n in range(5)]
        people = [{"key": f"{party}-jour", "name": f"Jour {p + 1}", "party": party, "roles": ["bench-responder"],
                   "slack_usergroup": group},
                  {"key": f"{party}-extern", "name": f"Extern {p + 1}", "party": party, "roles": ["bench-responder"],
                   "email": f"jour@supplier{p + 1}.example", "external": True}]
        people += [{"key": f"{party}-{n}", "name": f"Person {p + 1}-{n}", "party": party,
                    "roles": ["bench-responder"], "slack_user": f"UB{p + 1:02d}{n:05d}"} for n in range(count - 6)]
        model["people"].extend(people)
    model["services"].append({"key": SERVICE, "name": {"sv": "Mättjänst", "en": "Benchmark service"},
                              "responsible": [r["party"] for r in requirements], "contact_roles": requirements})
    path = folder / "model.yaml"
    path.write_text(yaml.safe_dump(model, allow_unicode=True), encoding="utf-8")
    return path


def round_trips(fake: FakeSlack, latency: float) -> int:
    """The longest chain of calls each sent after the previous one was answered: the round trips the elapsed time
    must contain, however many calls went out beside them."""
    chain, last_answer = 0, float("-inf")
    for call in sorted(fake.calls, key=lambda c: c.at):
        if call.received >= last_answer:
            chain, last_answer = chain + 1, call.at
    return chain


def measure(invitees: int, parties: int, latency: float) -> dict[str, object]:
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        path = generated_model(invitees, parties, Path(folder), fake)
        clock = ManualClock(datetime(2027, 1, 11, 9, 0, tzinfo=STOCKHOLM))
        runtime = build(Settings(database_url=f"sqlite:///{folder}/bench.db", samverkan_model=path,
                                 samverkan_lang="sv", slack_bot_token="xoxb-bench", slack_api_url=fake.base_url),
                        clock)
        fake.delay = latency
        command = Command(name="incident", text=f'declare "Allt nere" {SERVICE} 1', user_id="U01EVALIND",
                          channel_id="C0BENCH", response_url=fake.response_url("bench"),
                          received_at=clock.now())
        started = time.perf_counter()
        runtime.core.handle(command)  # the declaration, its answer, then the assembly, as after an ack
        elapsed = time.perf_counter() - started
        with runtime.core.unit_of_work() as uow:
            [incident] = uow.incidents.open_incidents()
            members = uow.incidents.members(incident.id)
        runtime.close()
        room = incident.channel_id or ""
        invited = len(fake.members.get(room, set()) - {"UBOT"}) + len(fake.shared.get(room, set()))
        assert incident.assembled_at is not None and fake.pins.get(room), "the war room is not ready"
        assert fake.posted("#storingar"), "no announcement"
        return {"invitees": invited, "directory_members": len(members), "seconds": elapsed,
                "calls": len(fake.calls), "by_method": Counter(c.method for c in fake.calls),
                "round_trips": round_trips(fake, latency)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--invitees", type=int, default=200)
    parser.add_argument("--parties", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the median run is reported")
    args = parser.parse_args()
    measure(20, args.parties, 0.0)  # warm-up: imports, caches and the first database are not the war room's cost
    # The bot, its thread pool and the fake share this machine with whatever else runs: say how busy it was.
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} over the last minute")
    for invitees in sorted({50, args.invitees, 2 * args.invitees}):
        runs = [measure(invitees, args.parties, args.latency) for _ in range(max(1, args.repeat))]
        times = sorted(float(r["seconds"]) for r in runs)  # type: ignore[arg-type]
        result = next(r for r in runs if r["seconds"] == times[(len(times) - 1) // 2])  # the median run
        seconds, trips = times[(len(times) - 1) // 2], int(result["round_trips"])  # type: ignore[call-overload]
        floor = trips * args.latency
        spread = (f" (median of {len(times)}: {times[0]:.3f}-{times[-1]:.3f} s, mean {statistics.fmean(times):.3f} s)"
                  if len(times) > 1 else "")
        methods = ", ".join(f"{m} {n}" for m, n in sorted(result["by_method"].items()))  # type: ignore[attr-defined]
        print(f"{result['invitees']:>4} invitees from {args.parties} parties "
              f"({result['directory_members']} directory entries incl. user groups): "
              f"ready in {seconds:.3f} s{spread}, {result['calls']} Slack calls, "
              f"{trips} sequential round trips at {args.latency * 1000:.0f} ms")
        if floor > 0:
            ratio = seconds / floor
            print(f"      floor {floor:.3f} s ({trips} x {args.latency * 1000:.0f} ms), measured {seconds:.3f} s: "
                  f"{ratio:.2f}x the floor (target {TARGET}x, at most {TARGET * floor:.3f} s: "
                  f"{'met' if ratio <= TARGET else 'missed'})")
        print(f"      {methods}")


if __name__ == "__main__":
    main()
