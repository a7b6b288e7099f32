"""A major incident in the console: declared on WLAN, run, resolved and closed, as a terminal transcript."""

from __future__ import annotations

import io

import pytest

from bot.clock import ManualClock
from samverkan.console import open_console
from samverkan.settings import Settings

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
                                     indirect=True)

ROOM = "#mi-20270111-wlan-nere-pa-sodermalm"


def test_a_wlan_incident_from_declaration_to_report(database_url: str, clock: ManualClock) -> None:
    out = io.StringIO()
    console = open_console(Settings(database_url=database_url, samverkan_lang="sv"), clock, out)
    try:
        for line in ["/as eva.lind", '/incident declare "WLAN nere på Södermalm" wlan 1 -- Inga skolor når nätet',
                     "/incident update MI-1 Felsökning pågår", "/clock +31m", "/incident resolve MI-1 Switch bytt",
                     "/incident close MI-1", "/incident list"]:
            console.say(line)
    finally:
        console.runtime.close()
    said = out.getvalue()
    assert f"kanalen {ROOM} skapas" in said and said.count("skapas") == 1
    assert f"[{ROOM}] Samverkan: 🚨 *Större incident MI-1: WLAN nere på Södermalm*" in said
    assert "*Beskrivning:* Inga skolor når nätet" in said
    # Exactly the catalogue's people for WLAN, and the roles present in every war room; nobody else.
    assert f"bjuder in till {ROOM}: Eva Lind, Service Desk jour" in said
    assert "bjuder in noc@netops.example" in said and "bjuder in drift@sterik.example" in said
    for other in ("per.strand", "Per Strand", "gsit", "Nina Vik", "Johan Ek"):
        assert other not in said.split("[#forum")[0], other
    assert f"nålar fast genomgången i {ROOM}" in said
    assert "[#storingar] Samverkan: 🚨 *Större incident MI-1* (allvarlighetsgrad 1)" in said
    assert f"Krisrum: {ROOM}" in said and "[DM → Eva Lind]" in said
    assert "@Service Desk jour: ingen lägesrapport för MI-1 på 31 minuter" in said
    assert "*Incidentrapport MI-1: WLAN nere på Södermalm*" in said
    assert "lägesrapport: Felsökning pågår" in said and "*Tid till lösning:* 31 min 0 s" in said
    assert "En punkt är anmäld till Problemmöte torsdag 21 januari 2027 kl. 10:00." in said
    assert said.rstrip().endswith("Inga öppna större incidenter.")
