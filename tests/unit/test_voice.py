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
    ],
)
def test_only_a_plain_name_is_repeated_in_public(display_name: str, greeted: str) -> None:
    assert first_name(Author(id="9", name=display_name, username="jet_fan_88")) == greeted


def test_without_a_usable_name_or_username_the_customer_is_greeted_plainly() -> None:
    assert first_name(None) == "there"
    assert "@" not in first_name(Author(id="9", name="@someone", username="")), "never a mention"
