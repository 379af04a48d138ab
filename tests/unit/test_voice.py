"""The name our public posts greet a customer by comes from text the customer typed: only a word
that is plainly a name is repeated from the brand's account."""

from __future__ import annotations

import pytest

from turnaround.logic.workflow.voice import first_name
from turnaround.models.mention import Author
from turnaround.models.playbook import load_playbook


@pytest.mark.parametrize(
    ("display_name", "greeted"),
    [
        ("Jane Doe", "Jane"),
        ("Dr. Jane Doe", "Jane"),  # a title is skipped
        ("🌸 Lily", "Lily"),  # so is a decoration
        ("Zoë", "Zoë"),
        ("Anne-Marie Smith", "Anne-Marie"),
        ("O'Brien", "O'Brien"),
        ("José Luis", "José"),
        ("AJ Lee", "AJ"),
        # Not plainly a name: the customer's own username instead.
        ("@elonmusk fan account", "jet_fan_88"),  # would mention a third party from our account
        ("#boycottacme", "jet_fan_88"),
        ("BOYCOTT ACME", "jet_fan_88"),  # shouting
        ("Sam2024", "jet_fan_88"),
        ("Dr.", "jet_fan_88"),
        ("", "jet_fan_88"),
        # What angry customers and businesses put first in a display name is not a name.
        ("Bitch Please", "jet_fan_88"),
        ("Shit Airline", "jet_fan_88"),
        ("Boycott AcmeAir", "jet_fan_88"),
        ("Still Waiting For My Refund", "jet_fan_88"),
        ("Angry Customer", "jet_fan_88"),
        ("Fed Up", "jet_fan_88"),
        ("Worst Airline Ever", "jet_fan_88"),
        ("The Guardian Travel", "jet_fan_88"),
        ("I'm Done", "jet_fan_88"),
        # ...and in the other languages we answer in.
        ("Sigo Esperando Mi Reembolso", "jet_fan_88"),
        ("Cliente Enfadado", "jet_fan_88"),
        ("Toujours Sans Valise", "jet_fan_88"),
        ("Immer Noch Kein Koffer", "jet_fan_88"),
        ("Passageiro Revoltado", "jet_fan_88"),
        # ...while names that are also words stay names.
        ("Hope Adams", "Hope"),
        ("Grace O'Neil", "Grace"),
        ("Will Turner", "Will"),
        ("Lucía Pérez", "Lucía"),
        ("Uma Costa", "Uma"),
        ("Una Murphy", "Una"),
    ],
)
def test_only_a_plain_name_is_repeated_in_public(display_name: str, greeted: str) -> None:
    assert first_name(Author(id="9", name=display_name, username="jet_fan_88")) == greeted


def test_without_a_usable_name_or_username_the_customer_is_greeted_plainly() -> None:
    assert first_name(None) == ""  # the post leaves the name out (Playbook.render)
    assert "@" not in first_name(Author(id="9", name="@someone", username="")), "never a mention"


@pytest.mark.parametrize("username", ["AcmeAirSucks", "boycott_acme", "fuckacme", "scam_airline"])
def test_a_username_of_protest_is_not_repeated_either(username: str) -> None:
    assert first_name(Author(id="9", name="Boycott AcmeAir", username=username)) == ""


def test_a_plain_username_is_still_used_when_the_display_name_is_not_a_name() -> None:
    assert first_name(Author(id="9", name="Angry Customer", username="whatever_jane")) == "whatever_jane"


@pytest.mark.parametrize(
    ("lang", "situation", "expected"),
    [
        ("en", "ack_offline", "@boycott_acme We're so sorry. This needs a proper look"),
        ("en", "ack_public", "@boycott_acme Sorry about this. We're on it"),
        ("es", "ack_offline", "@boycott_acme Te escuchamos. ¿Nos escribes"),
        ("fr", "ack_public", "@boycott_acme Merci de nous l'avoir signalé, nous regardons"),
        ("de", "dm_confirm", "Hallo, danke für deine Nachricht."),
    ],
)
def test_a_customer_we_cannot_name_is_answered_with_the_name_left_out_in_their_language(
    lang: str, situation: str, expected: str
) -> None:
    """Not "Te escuchamos, there." nor "there, we're so sorry": the English stand-in is gone."""
    playbook = load_playbook()
    name = first_name(Author(id="9", name="Boycott AcmeAir", username="boycott_acme"))
    variants = getattr(playbook.templates if lang == "en" else playbook.languages[lang], situation)
    texts = {
        playbook.render(
            situation, key=str(n), lang=lang, customer="boycott_acme", first_name=name, initials="AB",
            case_ref="123456", rep_name="Alex Brown",
        )
        for n in range(40)
    }  # fmt: skip
    assert len(texts) == len(variants) and any(text.startswith(expected) for text in texts), texts
    leftovers = (", there", "boycott_acme there", " ,", ",.", "  ", "{{")
    assert not any(left in text for text in texts for left in leftovers), texts
