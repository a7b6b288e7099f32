"""The directory as its users meet it: dialogues with the core, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.app import Samverkan
from storage.uow import SqlUnitOfWork
from tests.conftest import BACKENDS, Dialogue
from tests.fakes.recording_chat import RecordingChat


def people(core: Samverkan) -> dict[str, object]:
    with core.unit_of_work() as uow:
        return {p.key: p for p in uow.directory.people()}


def history(core: Samverkan, subject: str | None = None) -> list[tuple[str, str, str]]:
    with core.unit_of_work() as uow:
        return [(e.actor, e.kind, e.subject) for e in uow.events.history(subject=subject)]


def test_whoami_tells_party_roles_and_authority(dialogue: Dialogue) -> None:
    assert dialogue.say("johan.ek", "/samverkan whoami") == (
        "Du är *Johan Ek* · Leverantören · Kundansvarig (A) · i Slack\nDin nyckel i katalogen: `johan.ek`"
    )
    answer = dialogue.say("eva.lind", "/samverkan whoami")
    assert "Staden (Stadens Centrala Beställarorganisation)" in answer
    assert "Behörig Beställare" in answer and "Behörig Godkännare" in answer


def test_a_stranger_is_told_how_to_get_in(dialogue: Dialogue) -> None:
    assert "finns inte i Samverkans katalog" in dialogue.say("U0STRANGER", "/samverkan whoami")


def test_someone_seeded_by_email_is_linked_once_and_remembered(dialogue: Dialogue, chat: RecordingChat,
                                                                core: Samverkan) -> None:
    chat.emails["U0SARANORD"] = "sara.nord@slk.stockholm.example"
    assert "*Sara Nord* · Stadsledningskontoret" in dialogue.say("U0SARANORD", "/samverkan whoami")
    del chat.emails["U0SARANORD"]  # the platform is not asked again: the link is in the directory
    assert "*Sara Nord*" in dialogue.say("U0SARANORD", "/samverkan whoami")
    assert ("sara.nord", "directory.linked", "sara.nord") in history(core, "sara.nord")


def test_directory_lists_one_party_or_all_grouped_by_party(dialogue: Dialogue) -> None:
    supplier = dialogue.say("johan.ek", "/samverkan directory supplier")
    assert supplier.startswith("*Katalogen* (4 personer)")
    assert "Maria Sund* · Uppdragsledare (B), Ändringsansvarig (J)" in supplier
    assert "Eva Lind" not in supplier
    everyone = dialogue.say("karin.berg", "/samverkan directory")
    assert everyone.index("*Staden (Stadens Centrala Beställarorganisation)*") < everyone.index("*Leverantören*")
    assert "Nina Vik" in everyone and "nås via Slack Connect (nina.vik@devices.example)" in everyone
    assert "nås via användargruppen @Service Desk jour" in everyone
    [group] = [m for m in dialogue.chat.said_to("reply:U01KARINBG")[-1].mentions() if m.group]
    assert group.group == "S02SDJOUR"  # a mention that notifies the group, where the platform has one


def test_unknown_party_lists_the_known_ones(dialogue: Dialogue) -> None:
    answer = dialogue.say("johan.ek", "/samverkan directory leverantörn")
    assert answer.startswith('Parten "leverantörn" finns inte i styrmodellen. Parter: city, city-exec')


def test_administrator_adds_a_person_by_email_resolved_once(dialogue: Dialogue, chat: RecordingChat,
                                                            core: Samverkan) -> None:
    chat.emails["U0ANNABERG"] = "anna.berg@supplier.example"
    answer = dialogue.say("eva.lind", '/samverkan person add supplier anna.berg@supplier.example "Anna Berg"')
    assert answer == ("Tillagd i katalogen: *Anna Berg* · Leverantören · nås via e-post anna.berg@supplier.example "
                      "(nyckel `anna.berg`)")
    # Looked up once, after the commit (never with the transaction open), and remembered.
    assert chat.lookups == ["anna.berg@supplier.example"]
    anna = people(core)["anna.berg"]
    assert anna.account == "U0ANNABERG" and anna.party == "supplier"  # type: ignore[attr-defined]
    assert ("eva.lind", "directory.person_added", "anna.berg") in history(core, "anna.berg")
    # The new person is recognised at once, without another lookup.
    assert "*Anna Berg* · Leverantören" in dialogue.say("U0ANNABERG", "/samverkan whoami")
    assert chat.lookups == ["anna.berg@supplier.example"]


def test_a_slack_mention_and_a_user_group_can_be_added(dialogue: Dialogue, core: Samverkan) -> None:
    dialogue.say("eva.lind", "/samverkan person add network-ops @user:U0OLLE Olle Nät")
    dialogue.say("eva.lind", "/samverkan person add st-erik @group:S0STERIK S:t Erik NOC")
    found = people(core)
    assert found["olle.nat"].account == "U0OLLE"  # type: ignore[attr-defined]
    assert found["s.t.erik.noc"].group == "S0STERIK"  # type: ignore[attr-defined]
    assert "finns redan i katalogen (`olle.nat`)" in dialogue.say(
        "eva.lind", "/samverkan person add network-ops @user:U0OLLE Olle Igen")


def test_roles_and_authority_change_with_history(dialogue: Dialogue, core: Samverkan) -> None:
    assert dialogue.say("eva.lind", "/samverkan role add johan.ek J") == "Johan Ek har nu rollen Ändringsansvarig."
    assert dialogue.say("eva.lind", "/samverkan role add johan.ek andringsansvarig") == (
        "Johan Ek har redan rollen Ändringsansvarig.")
    assert dialogue.say("eva.lind", "/samverkan role remove johan.ek Ändringsansvarig") == (
        "Johan Ek har inte längre rollen Ändringsansvarig.")
    assert "Behörig Beställare" in dialogue.say("eva.lind", "/samverkan authority grant lars.holm beställare")
    assert "Bara stadens egna personer" in dialogue.say("eva.lind", "/samverkan authority grant johan.ek approver")
    kinds = [kind for _, kind, _ in history(core, "johan.ek")]
    assert kinds[:2] == ["directory.role_removed", "directory.role_added"]
    log = dialogue.say("eva.lind", "/samverkan history lars.holm")
    assert "eva.lind · gav behörighet · lars.holm authority=orderer" in log
    assert "måndag 11 januari 2027 kl. 09:00" in log


def test_only_administrators_change_the_directory_and_a_refusal_saves_nothing(dialogue: Dialogue,
                                                                             core: Samverkan) -> None:
    before = people(core)
    events = history(core)
    assert dialogue.say("johan.ek", "/samverkan person add supplier x@y.example X") == (
        "Bara Samverkans administratörer kan ändra i katalogen.")
    assert dialogue.say("johan.ek", "/samverkan role add johan.ek B").startswith("Bara Samverkans administratörer")
    assert dialogue.say("johan.ek", "/samverkan person remove eva.lind").startswith("Bara Samverkans administratörer")
    assert people(core) == before
    refusals = [e for e in history(core) if e[1] == "permission.refused"]
    assert [e for e in history(core) if e[1] != "permission.refused"] == events
    # Each refusal is in the event log: who tried what.
    assert len(refusals) == 3 and all(actor == "johan.ek" for actor, _, _ in refusals)


def test_removing_a_person(dialogue: Dialogue, core: Samverkan) -> None:
    assert dialogue.say("eva.lind", "/samverkan person remove per.strand") == "Per Strand är borttagen ur katalogen."
    assert "per.strand" not in people(core)
    assert "Hittar ingen i katalogen" in dialogue.say("eva.lind", "/samverkan person remove per.strand")


def test_bad_input_gets_help_never_a_trace(dialogue: Dialogue) -> None:
    assert dialogue.say("johan.ek", "/samverkan").startswith("*Samverkan* – vem är vem")
    wrong = dialogue.say("johan.ek", "/samverkan vemärjag")
    assert wrong.startswith("`/samverkan vemärjag` känner jag inte till.\n*Samverkan*")
    assert dialogue.say("eva.lind", "/samverkan person add").startswith("Skriv `/samverkan person add")
    assert dialogue.say("eva.lind", '/samverkan person add supplier "Anna').startswith("Ett citattecken saknar")
    assert dialogue.say("eva.lind", "/samverkan person add supplier annaberg Anna").startswith(
        '"annaberg" är varken en Slack-användare')
    assert dialogue.say("eva.lind", "/samverkan role add johan.ek Z").startswith('Rollen "Z" finns inte')
    assert dialogue.say("johan.ek", "/incident okänd").startswith("`/incident okänd` känner jag inte till.")


def test_english_when_the_deployment_says_so(core: Samverkan, chat: RecordingChat) -> None:
    english = Dialogue(Samverkan(core.model, core.unit_of_work, core.clock, chat, lang="en"), chat)
    assert english.say("johan.ek", "/samverkan whoami").startswith("You are *Johan Ek* · Lead supplier · Account")


def test_a_failure_inside_a_command_rolls_back_and_apologises(core: Samverkan, chat: RecordingChat,
                                                              sessions) -> None:  # type: ignore[no-untyped-def]
    class FailingEventLog(SqlUnitOfWork):
        """The person is saved, then writing the event log fails: the whole unit of work must go."""

        def __enter__(self) -> SqlUnitOfWork:
            opened = super().__enter__()

            def record(event: object) -> None:
                raise ConnectionError("the database went away")

            opened.events.record = record  # type: ignore[method-assign]
            return opened

    def failing_event_log() -> SqlUnitOfWork:
        return FailingEventLog(sessions)

    broken = Dialogue(Samverkan(core.model, failing_event_log, core.clock, chat, lang="sv"), chat)
    answer = broken.say("eva.lind", "/samverkan person add supplier new@supplier.example New Person")
    assert answer.startswith("Något gick fel hos Samverkan och ingenting sparades.")
    assert "new.person" not in people(core)


@pytest.mark.parametrize("database_url", BACKENDS, indirect=True)
def test_what_chat_changed_survives_a_restart_and_a_new_model(database_url: str, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Seeding adds only whom the model newly introduces: removals and edits made in chat stand."""
    import yaml

    from bot.model import shipped_model_path
    from samverkan.settings import Settings
    from samverkan.wiring import build

    settings = Settings(database_url=database_url, samverkan_lang="sv")

    def start(model=None):  # type: ignore[no-untyped-def]
        used = settings.model_copy(update={"samverkan_model": model}) if model else settings
        return build(used, clock, lambda _: RecordingChat())

    first = start()
    dialogue = Dialogue(first.core, first.core.chat)  # type: ignore[arg-type]
    dialogue.say("eva.lind", "/samverkan person remove per.strand")
    dialogue.say("eva.lind", "/samverkan role remove johan.ek kundansvarig")
    first.close()
    grown = yaml.safe_load(shipped_model_path().read_text(encoding="utf-8"))
    grown["people"].append({"key": "ny.person", "name": "Ny Person", "party": "supplier",
                            "email": "ny@supplier.example"})
    (tmp_path / "grown.yaml").write_text(yaml.safe_dump(grown, allow_unicode=True), encoding="utf-8")
    for model in (None, tmp_path / "grown.yaml"):
        again = start(model)
        with again.core.unit_of_work() as uow:
            keys = uow.directory.keys()
            johan = uow.directory.by_key("johan.ek")
        again.close()
        assert "per.strand" not in keys and johan is not None and "kundansvarig" not in johan.roles
    assert "ny.person" in keys  # the new model's new person, and only they
