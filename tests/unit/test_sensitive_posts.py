"""Posts a person answers first (logic/triage_sensitive.py): an injury, a death, a safety report, a
racist remark, a legal threat. Urgent whoever wrote them, no canned reply, the supervisor copied on
the rep's first email, and the urgent SLA (playbook ``sla.urgent_rep_response_seconds``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import edited_playbook
from turnaround.logic.triage import triage
from turnaround.logic.triage_sensitive import ENGLISH_WORDS, STEMS, sensitive_kind
from turnaround.logic.workflow.dispatch import workflow_input
from turnaround.logic.workflow.emails import Wait, escalation_email
from turnaround.logic.workflow.voice import ack_withheld
from turnaround.models.case import Case, Reassignment
from turnaround.models.mention import Mention
from turnaround.models.playbook import load_playbook

SOURCE = Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"
PLAYBOOK = load_playbook(str(SOURCE))
ALEX = PLAYBOOK.roster[0]


@pytest.mark.parametrize(
    ("text", "lang", "kind"),
    [
        # the real customers' posts of ../shared/data/complaints-social-media that it flags
        ("@IHG my room now has a burning air unit. 6th Ave is super unsafe.", "en", "safety"),
        ("@GeorgiaPower please take care of these soon!!! Trees with a dangerous lean to the line", "en",
         "safety"),
        ("@KFC_UKI a member of staff chucked me threw the window... #assault", "en",
         "discrimination or harassment"),
        ("@Jetblue discriminates against people with disabilities.", "en", "discrimination or harassment"),
        ("@GEICO claim 2 weeks, no response. Trying not to involve attorneys. Please advise", "en",
         "legal or press"),
        ("Hey @SamsungSupport, so this just happened at 1 am. Thought a bomb went off in my house.", "en",
         "safety"),
        # and situations a care team meets
        ("@acmeair the man in 14C threatened to hurt me and the crew did nothing", "en",
         "discrimination or harassment"),
        ("@acmeair I'm going to hurt someone at your check-in desk if this happens again", "en",
         "discrimination or harassment"),
        ("@acmeair the cart hit my son's head and he's bleeding, crew did nothing", "en", "injury or health"),
        ("@acmeair the hot coffee your crew spilled burned my daughter's arm", "en", "injury or health"),
        ("@acmeair my father passed away and you still won't refund his ticket", "en", "bereavement"),
        ("@acmeair my mum died last week, I need to cancel her booking", "en", "bereavement"),
        ("@acmeair waited 2 hrs for a wheelchair for my dad at arrivals", "en", "accessibility"),
        ("@acmeair smoke in the cabin and nobody told us anything", "en", "safety"),
        ("@acmeair I'm a reporter at the Herald, who handles press enquiries?", "en", "legal or press"),
        ("@acmeair mi hijo resultó herido en el avión y nadie nos atiende", "es", "injury or health"),
        ("@acmeair mon père est décédé, je dois annuler son billet", "fr", "bereavement"),
        ("@acmeair la porte de secours était bloquée, c'est un danger", "fr", "safety"),
        ("@acmeair un passager m'a harcelée pendant tout le vol", "fr", "discrimination or harassment"),
        ("@acmeair fui vítima de racismo no embarque", "pt", "discrimination or harassment"),
        ("@acmeair ich werde meinen Anwalt einschalten", "de", "legal or press"),
        # what a review found missing
        ("@acmeair my grandad died on Tuesday and I need to change his flight", "en", "bereavement"),
        ("@acmeair a loose cart rolled down the aisle, my son could've been killed", "en", "safety"),
        ("@acmeair that loose cart could have killed someone", "en", "safety"),
        ("@acmeair a man punched me at your gate and staff watched", "en", "discrimination or harassment"),
        ("@acmeair the passenger next to me was choking and nobody came", "en", "safety"),
        ("@acmeair mon père est mort, je dois annuler son billet", "fr", "bereavement"),
        ("@acmeair mein Vater ist tot, ich muss den Flug stornieren", "de", "bereavement"),
        ("@acmeair mi padre ha muerto y necesito cancelar su vuelo", "es", "bereavement"),
        ("@acmeair mein Rechtsanwalt meldet sich bei Ihnen", "de", "legal or press"),
    ],
)  # fmt: skip
def test_a_post_naming_a_sensitive_situation_is_flagged_with_its_kind(text, lang, kind):
    assert sensitive_kind(text, lang) == kind


@pytest.mark.parametrize(
    "text",
    [
        "So mad that my @Fitbit Flex died in under 2 days!",  # a device dies; nobody did
        "@budlight opened my case and was sad one of my beers died",
        "Why isn't #Dirt on the new app on Fire and Apple TV devices?",
        "Bit extreme online safety measures by @virginmedia today. No broadband since 9am.",
        "@EE are the phones down again in wells no calls 3 days emergency only",
        "@acmeair I'm dying to know when the Lisbon route opens",
        "@acmeair my flight was delayed 3 hours, this is a joke",
        "@acmeair I'm going to find another airline, 3 delays this month",
        "@acmeair the new menu is the bomb, but the flight was 2 hours late",  # it is "the bomb": praise
        # ordinary complaints a review found read as sensitive
        "@acmeair I paid extra for an emergency exit row seat and you moved me",
        "@acmeair my son passed his exams and you cancelled our trip",
        "@acmeair thankfully nobody was hurt but we're stranded in Leeds",
        "@acmeair my feelings were hurt by the way your agent spoke to me",
        "@acmeair this is going to hurt your reputation",
        "@acmeair your sales team keeps harassing me with calls",
        "@acmeair the crew passed out snacks two hours late",
        "@acmeair your new lounge is dangerously good but the wifi is down",
        "@acmeair they took my glue gun at security and my steak knife set",
        "@acmeair can I pack a knife in my checked bag?",
        "@acmeair I'd hazard a guess nobody reads these",
        "@acmeair my inbox exploded with your spam",
        "Dear @washingtonpost your website has kicked me out and customer service hung up on me",
        "@YouTube Considering the idiot won't learn a thing. *Burns his Second Chance in the flames of Hell*",
    ],
)
def test_a_figure_of_speech_is_not_a_sensitive_situation(text):
    assert sensitive_kind(text) is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("@acmeair der Zug ist nicht gefahren und keiner sagt was", "de"),
        ("@acmeair não conseguem processar meu pagamento", "pt"),
        ("@acmeair atendimento deficiente, ninguém responde", "pt"),
        ("@acmeair se me murió el móvil y no puedo ver la reserva", "es"),
        ("@acmeair meu celular morreu e perdi o voo", "pt"),
        ("@acmeair cero hospitalidad en el mostrador", "es"),
        ("@acmeair j'attends une réponse en urgence", "fr"),
        ("@acmeair le toast à l'avocat était froid", "fr"),
        ("@acmeair mein Handy ist gestorben, keine Bordkarte", "de"),
        ("@acmeair asiento en la salida de emergencia y me lo cambiaron", "es"),
    ],
)
def test_an_everyday_word_in_another_language_is_not_a_sensitive_situation(text, lang):
    assert sensitive_kind(text, lang) is None


def test_every_phrase_holds_a_stem_so_the_quick_check_never_hides_one():
    """sensitive_kind reads the phrases only for a post holding one of STEMS (most posts hold none:
    ~6 us instead of ~50): each phrase must then hold a stem of its own."""
    for kind, phrases in ENGLISH_WORDS.items():
        for phrase in phrases:
            assert any(stem.strip() in phrase.lower() for stem in STEMS), (kind, phrase)


def test_a_sensitive_complaint_is_urgent_and_offline_whoever_wrote_it():
    result = triage("@acmeair the cart hit my son's head and he's bleeding, crew did nothing", followers=40)
    assert result.category == "complaint" and result.sensitive == "injury or health"
    assert result.priority == 1 and result.severity == "charged" and result.goes_offline
    assert "sensitive: injury or health, a person writes the first reply" in result.reasons
    assert "urgent: injury or health" in result.reasons


@pytest.mark.parametrize(
    ("text", "lang", "kind"),
    [
        ("@GeorgiaPower please take care of these soon!!! Trees with a dangerous lean to the line", "en",
         "safety"),  # a real post, unsure to the model
        ("@acmeair mi hijo resultó herido al embarcar", "es", "injury or health"),  # no complaint words
    ],
)  # fmt: skip
def test_a_post_triage_is_unsure_of_that_names_a_danger_opens_a_case_now(text, lang, kind):
    """Was: the unsure digest, up to an hour later."""
    result = triage(text, lang=lang)
    assert result.category == "complaint" and result.sensitive == kind and result.priority == 1
    assert f"unsure, but it names {kind}: a case now, not the next digest" in result.reasons


def test_an_unsure_post_naming_a_bereavement_still_waits_for_a_person_in_the_digest():
    result = triage("@acmeair mi padre falleció la semana pasada", lang="es")
    assert result.category == "unsure" and result.sensitive == "bereavement" and result.priority == 1


def test_praise_that_names_one_is_still_praise_and_nobodys_work():
    result = triage(
        "@acmeair thank you to the crew who looked after me when I fainted on AA12, you were amazing"
    )
    assert result.category == "praise" and result.sensitive is None and result.priority == 4


def _case(priority: int = 1) -> Case:
    return Case.model_validate(
        {
            "case_id": "case-77", "status": "OPEN", "handle": "acmeair", "root_tweet_id": "77",
            "conversation_id": "77", "customer_id": "42", "customer_username": "ann", "priority": priority,
            "opened_at": "2026-11-23T08:50:00+00:00", "assignee_email": ALEX.email,
        }
    )  # fmt: skip


def _mention(text: str) -> Mention:
    return Mention.model_validate(
        {
            "tweet_id": "77", "handle": "acmeair", "text": text, "created_at": None, "conversation_id": "77",
            "author": {"id": "42", "username": "ann", "name": "Ann"}, "mentions_handle": True,
            "triage": triage(text).model_dump(), "ingested_at": "2026-11-23T08:50:00+00:00",
        }
    )  # fmt: skip


def _first_email(mention: Mention, wait: Wait) -> str:
    message = escalation_email(
        playbook=PLAYBOOK, case=_case(), mention=mention, thread=[], dms=[], recipient=ALEX,
        links=dict.fromkeys(("resolved", "not_resolved", "reassign"), "https://x.test/?t=a.b"),
        expires_at=1_800_000_000, reminder=wait.reminder, supervisor=False, wait=wait,
        now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC), rep=ALEX,
    )  # fmt: skip
    part = message.get_body(("plain",))
    assert part is not None
    return f"To: {message['To']}\n{part.get_content()}"


def test_no_canned_ack_and_the_supervisor_is_copied_on_the_reps_first_email_only():
    mention = _mention("@acmeair my father passed away and you still won't refund his ticket")
    assert ack_withheld(PLAYBOOK, _case(), mention) == (
        "the post is about bereavement: a person writes the first reply"
    )
    first = _first_email(mention, Wait(role="rep"))
    assert first.startswith(f"To: {ALEX.email}, {PLAYBOOK.supervisor.email}\n")
    assert "The post is about bereavement: no automated public reply went out" in first
    assert "Public acknowledgement: none: the post is about bereavement" in first
    reminder = _first_email(mention, Wait(role="rep", reminder=True))
    assert reminder.startswith(f"To: {ALEX.email}\n")  # the supervisor hears again only by escalation
    reassigned = escalation_email(
        playbook=PLAYBOOK, case=_case().model_copy(update={"reassignments": [Reassignment(
            from_email=ALEX.email, to_email=PLAYBOOK.roster[1].email, by=ALEX.name,
            at=datetime(2026, 11, 23, 9, 5, tzinfo=UTC))]}),
        mention=mention, thread=[], dms=[], recipient=PLAYBOOK.roster[1],
        links=dict.fromkeys(("resolved", "not_resolved", "reassign"), "https://x.test/?t=a.b"),
        expires_at=1_800_000_000, reminder=False, supervisor=False, wait=Wait(role="rep"),
        now=datetime(2026, 11, 23, 9, 6, tzinfo=UTC), rep=PLAYBOOK.roster[1],
    )  # fmt: skip
    assert str(reassigned["To"]) == PLAYBOOK.roster[1].email  # the supervisor heard already
    ordinary = _first_email(_mention("@acmeair lost my bag on AA12, furious"), Wait(role="rep"))
    assert ordinary.startswith(f"To: {ALEX.email}\n") and "is copied" not in ordinary


def test_urgent_cases_run_on_the_urgent_sla_never_longer_than_the_usual(tmp_path):
    sla = PLAYBOOK.sla
    assert (
        sla.urgent_rep_response_seconds is not None
        and sla.urgent_rep_response_seconds < sla.rep_response_seconds
    )
    for priority, expected in ((1, sla.urgent_rep_response_seconds), (2, sla.urgent_rep_response_seconds),
                               (3, sla.rep_response_seconds), (4, sla.rep_response_seconds)):  # fmt: skip
        timing = workflow_input("case-1", PLAYBOOK, priority=priority)["timing"]
        assert timing["first_rep_response_seconds"] == timing["rep_response_seconds"] == expected
    load_playbook.cache_clear()
    short = load_playbook(
        edited_playbook(tmp_path, lambda p: p["sla"].update(rep_response_seconds=60))
    )  # a playbook whose usual SLA is shorter still: urgent is never slower
    assert short.sla.rep_response_for(1) == 60
    load_playbook.cache_clear()


@pytest.mark.parametrize(
    "text",
    [
        "@acmeair I'm going to sue you for this",
        "@acmeair see you in small claims court",
    ],
)
def test_a_post_the_model_reads_as_no_complaint_that_names_one_goes_to_a_person(text):
    """Stored with nothing else, it would reach no one; the digest, not a case (on the labelled real
    tweets every such post was no complaint), so no danger opens one at once either."""
    result = triage(text)
    assert result.category == "unsure", result.reasons
    assert any(
        reason.startswith(("read as other, but", "read as question, but")) for reason in result.reasons
    )


def test_a_post_read_as_no_complaint_that_names_no_sensitive_situation_stays_unanswered():
    assert triage("@acmeair the emergency exit row seats are great").category == "praise"
    assert triage("@acmeair what time does the lounge at JFK open?").category != "unsure"
