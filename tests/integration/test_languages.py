"""X's ``lang`` from the mention poll to the reply: Spanish gets Spanish, a language without
templates gets a person, never an English canned reply."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BRAND
from tests.helpers import x_only_workflow
from turnaround.logic.ingest.mentions import MentionIngestor
from turnaround.models.playbook import load_playbook
from x_emulator import XApiEmulator

PLAYBOOK = Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"


def _post(emulator: XApiEmulator, author: str, text: str, lang: str) -> str:
    post = emulator.add_post(author, text)
    post.lang = lang  # what X stamps on the post; the emulator's scenarios set it per post
    return post.id


@pytest.fixture
def ingested(emulator, x_api, store, clock):
    emulator.add_user("lucia", name="Lucía Pérez", followers=300)
    ids = {
        "es": _post(emulator, "lucia", "@acmeair perdieron mi maleta en Madrid y nadie responde", "es"),
        "it": _post(emulator, "lucia", "@acmeair il volo è stato cancellato e nessuno risponde", "it"),
        "en": _post(emulator, "lucia", "@acmeair on hold for 2 hours and nobody calls back", "en"),
    }
    MentionIngestor(handle=BRAND, x=x_api, store=store, clock=clock).poll()
    return ids


def _workflow(store, x_api, playbook):
    return x_only_workflow(store, x_api, playbook=playbook)


def test_the_poller_keeps_xs_lang_and_triage_reads_it(ingested, store):
    spanish, italian = store.mentions.get(ingested["es"]), store.mentions.get(ingested["it"])
    assert spanish.triage.lang == "es" and spanish.triage.category == "complaint"
    assert spanish.triage.severity == "complex"  # a bag: offline
    assert italian.triage.category == "unsure" and italian.case_id is None
    assert store.mentions.get(ingested["en"]).triage.lang == "en"


def test_a_spanish_complaint_is_answered_in_spanish(ingested, store, x_api, emulator):
    case_id = store.mentions.get(ingested["es"]).case_id
    result = _workflow(store, x_api, load_playbook(str(PLAYBOOK))).acknowledge(case_id)
    assert result["acknowledged"]
    (reply,) = emulator.posts_created(by=BRAND)
    assert "mensaje directo" in reply.text and "Lucía" in reply.text


def test_no_canned_reply_in_a_language_the_playbook_lacks(ingested, store, x_api, emulator):
    playbook = load_playbook(str(PLAYBOOK)).model_copy(update={"languages": {}})
    case_id = store.mentions.get(ingested["es"]).case_id
    result = _workflow(store, x_api, playbook).acknowledge(case_id)
    assert not result["acknowledged"] and "language, Spanish (es)" in result["reason"]
    assert emulator.posts_created(by=BRAND) == []
