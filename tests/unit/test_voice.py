"""The name our public posts greet a customer by comes from text the customer typed: only a word
that is plainly a name is repeated from the brand's account."""

from __future__ import annotations

import pytest

from turnaround.logic.workflow.voice import first_name
from turnaround.models.mention import Author


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
    assert first_name(None) == "there"
    assert "@" not in first_name(Author(id="9", name="@someone", username="")), "never a mention"


@pytest.mark.parametrize("username", ["AcmeAirSucks", "boycott_acme", "fuckacme", "scam_airline"])
def test_a_username_of_protest_is_not_repeated_either(username: str) -> None:
    assert first_name(Author(id="9", name="Boycott AcmeAir", username=username)) == "there"


def test_a_plain_username_is_still_used_when_the_display_name_is_not_a_name() -> None:
    assert first_name(Author(id="9", name="Angry Customer", username="whatever_jane")) == "whatever_jane"
