"""The playbook's reply templates per language: every one renders, fits a post, and none falls back."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnaround.exceptions import ConfigurationError
from turnaround.logic.reply_mail.tweet_length import weighted_length
from turnaround.models.playbook import load_playbook

PLAYBOOK = load_playbook(str(Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"))
SITUATIONS = ("ack_public", "ack_offline", "dm_confirm", "follow_up_dm", "follow_up_public")
LONGEST = {
    "customer": "x" * 15,
    "first_name": "y" * 20,
    "initials": "ABC",
    "case_ref": "123456",
    "rep_name": "Alexandra Brown-Smith",
}


def test_ships_at_least_five_languages():
    assert {"en", "es", "fr", "pt", "de"} <= {PLAYBOOK.language, *PLAYBOOK.languages}


@pytest.mark.parametrize("lang", ["en", "es", "fr", "pt", "de", "pt-BR", None, "und"])
@pytest.mark.parametrize("situation", SITUATIONS)
def test_every_template_renders_and_fits_in_a_post(lang, situation):
    for offset in range(3):
        text = PLAYBOOK.render(situation, key="case-1", variant_offset=offset, lang=lang, **LONGEST)
        assert len(text) <= 280, text
        if situation.endswith("public") or situation.startswith("ack"):
            assert "123456" in text


def test_a_language_without_templates_is_refused_not_answered_in_english():
    assert not PLAYBOOK.speaks("it")
    with pytest.raises(ConfigurationError, match="no 'it' templates"):
        PLAYBOOK.render("ack_public", key="case-1", lang="it", **LONGEST)


AFTER_HOURS = [
    (lang, situation)
    for lang in ["en", "es", "fr", "pt", "de"]
    for situation in ["ack_public_after_hours", "ack_offline_after_hours"]
    if PLAYBOOK.has_variants(situation, lang)  # a language without them gets its usual ack
]


def test_after_hours_acks_are_shipped_in_english_and_spanish():
    assert {lang for lang, _ in AFTER_HOURS} >= {"en", "es"} and len(AFTER_HOURS) >= 4


@pytest.mark.parametrize(("lang", "situation"), AFTER_HOURS)
def test_after_hours_acks_fit_in_a_post_where_a_language_has_them(lang, situation):
    for offset in range(3):
        text = PLAYBOOK.render(
            situation,
            key=f"case-{offset}",
            lang=lang,
            opens_on="Donnerstag",
            opens_at="08:00 CEST",
            **LONGEST,
        )
        assert weighted_length(text) <= 280 and "123456" in text and "08:00 CEST" in text, text


@pytest.mark.parametrize(
    "text",
    [
        "@acmeair don\u2019t contact me again",  # the curly apostrophe phones type
        "@acmeair DON'T CONTACT ME",
        "arretez de m\u2019ecrire svp",  # no accents, curly apostrophe
        "Laissez-moi tranquille !",
        "Lasst mich in Ruhe!",
        "@acmeair déjenme en paz",
        "me deixem em paz por favor",
        "STOP",
    ],
)
def test_an_opt_out_is_read_as_the_customer_types_it(text):
    assert PLAYBOOK.is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    [
        "I don\u2019t know when my bag arrives",
        "stop the delays please",
        "ich bekomme keine Nachrichten mehr zu meinem Koffer",  # "no more news": a complaint
        "@acmeair déjenme saber cuándo llega mi maleta",
    ],
)
def test_a_complaint_with_stop_like_words_is_not_an_opt_out(text):
    assert not PLAYBOOK.is_opt_out(text)
