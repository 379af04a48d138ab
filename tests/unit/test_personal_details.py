"""The customer's personal details that a public reply of ours must never show, and what must never
be mistaken for one: flight numbers, times, dates, prices, links, handles and our own case refs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import edited_playbook
from turnaround.exceptions import ConfigurationError
from turnaround.logic.triage import triage
from turnaround.logic.workflow.voice import case_ref, details_shown
from turnaround.models.mention import Mention
from turnaround.models.playbook import SITUATION_VARIABLES, Playbook, load_playbook
from turnaround.personal_details import SHORTEST_ANYWHERE, SHORTEST_NATIONAL, describe, find_personal_details

SOURCE = Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    load_playbook.cache_clear()
    return load_playbook(str(SOURCE))


def found(playbook: Playbook, text: str) -> str:
    details = playbook.personal_details_in(text)
    return describe(details) if details else ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I emailed jane.chan@gmail.com the receipt", "an email address (j***@gmail.com)"),
        ("Call you on +44 7911 123456 today", "a phone number (+** **** ****56)"),
        ("we'll ring (212) 555-0134 at 5", "a phone number ((***) ***-**34)"),
        ("we'll ring 020 7946 0958 at 5", "a phone number (*** **** **58)"),
        ("France: +33 6 12 34 56 78", "a phone number (+** * ** ** ** 78)"),
        ("refunded to 4111 1111 1111 1111 today", "a card number (**** **** **** 1111)"),
        ("refunded to 5555-5555-5555-4444", "a card number (****-****-****-4444)"),
        ("your booking K7QZ2P is rebooked", "a booking reference (K*****)"),
        ("rebooked 2XK9QP for you", "a booking reference (2*****)"),
        ("PNR: xkqpzm", ""),  # letters only, lower case: not a code we can tell from a word
        ("PNR: XKQPZM is confirmed", "a booking reference (X*****)"),
        ("confirmation number 12345678", "a booking reference (1*******)"),
        (
            "sent to 10 Downing Street, London SW1A 2AA",
            "a postal address (1* D****** S*****) and a postal address (S*** 2**)",
        ),
        ("mailed to Albany, NY 12207", "a postal address (N* 1****)"),
    ],
)
def test_personal_details_are_found_and_masked(playbook: Playbook, text: str, expected: str) -> None:
    assert found(playbook, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "You're on UA123 tomorrow, and BA2490 after that; gate B12 at 10:30",
        "Boarding 09:45-10:15 on 24/11/2026 (2026-11-24)",
        "A refund of $1,299.00 (EUR 45,50) is on its way",
        "Sorry Bob, this is ref 123456 for your case",
        "See https://x.com/acmeair/status/1861234567890123456 and https://acmeair.example/t/AB12",
        "@K7QZ2P thanks! #BA2490 #AB12CD",
        "Write to care@acmeair.example or baggage@claims.acmeair.example",  # the brand's own addresses
        "It's 1234 not 4111 1111 1111 1112 (not a card: the Luhn check fails)",
        "Call 555-1234 or 0000 0000 0000 0000",  # not a valid number; not a card
        "Your order 1234567890128 is on its way",  # passes Luhn, but no card network starts with 1
        "The delayed 15.50 Birmingham New St to Euston is on its way",  # a time, then a station
        "Flight AA204 departs 18:45 from gate 12, terminal 5; 12,450 miles are back in your account",
        "Bob, it left the depot this morning and arrives tomorrow \U0001f389 tracking: https://acmeair.example/t/AB12",
        "Bob, delivered at 10:04 - enjoy!",
    ],
)
def test_what_our_replies_say_every_day_is_not_a_personal_detail(playbook: Playbook, text: str) -> None:
    assert found(playbook, text) == ""


def test_every_public_template_with_real_case_refs_passes(playbook: Playbook) -> None:
    """Acks and follow-ups carry ``ref <case_ref>``: whatever the case id, they are never refused."""
    for case_id in ["case-1861234567890123456", "case-100000", "case-999999", "case-123450"]:
        for situation in ["ack_public", "ack_offline", "follow_up_public"]:
            for lang in [None, *playbook.languages]:
                values = {
                    **SITUATION_VARIABLES[situation],
                    "case_ref": case_ref(case_id),
                    "customer": "Jane_99",
                }
                values.pop("lang", None)
                text = playbook.render(situation, key=case_id, lang=lang, **values)
                assert found(playbook, text) == "", text


def test_the_brands_own_number_may_be_given(playbook: Playbook) -> None:
    ours_written = ["+1 (800) 555-0199", "020 7946 0000"]  # as the playbook may write them
    rules = playbook.personal_details.model_copy(update={"brand_numbers": ours_written})
    for ours in ["1-800-555-0199", "(800) 555-0199", "+1 800 555 0199", "+44 20 7946 0000", "020 7946 0000"]:
        assert not find_personal_details(f"Call us free on {ours}", rules), ours
    assert find_personal_details("Call us free on 1-800-555-0198", rules)


def _load(tmp_path: Path, edit: Any) -> Playbook:
    return load_playbook(edited_playbook(tmp_path, edit))


def test_a_pattern_that_would_refuse_our_own_acks_is_refused_at_load(tmp_path: Path) -> None:
    def too_wide(p: dict[str, Any]) -> None:
        p["personal_details"]["patterns"] = {"a booking reference": [r"\b[0-9]{6}\b"]}  # our case refs

    with pytest.raises(
        ConfigurationError, match=r"templates\.ack_public\[0\]: personal_details would refuse"
    ):
        _load(tmp_path, too_wide)


@pytest.mark.parametrize(
    ("patterns", "problem"),
    [({"a booking reference": ["[A-Z"]}, "unterminated"), ({"anything": ["x*"]}, "matches an empty text")],
)
def test_a_pattern_that_does_not_compile_or_matches_nothing_is_refused(
    tmp_path: Path, patterns: dict[str, list[str]], problem: str
) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["personal_details"]["patterns"] = patterns

    with pytest.raises(ConfigurationError, match=problem):
        _load(tmp_path, edit)


def test_the_playbooks_patterns_replace_the_defaults(tmp_path: Path) -> None:
    def edit(p: dict[str, Any]) -> None:
        p["personal_details"]["patterns"] = {"a loyalty number": [r"\bAA[0-9]{8}\b"]}

    playbook = _load(tmp_path, edit)
    assert found(playbook, "your AA12345678 miles") == "a loyalty number (A*********)"
    assert found(playbook, "your booking K7QZ2P") == ""


def _customers_post(text: str) -> Mention:
    return Mention.model_validate(
        {
            "tweet_id": "5", "handle": "acmeair", "text": text, "created_at": None, "conversation_id": "5",
            "author": {"id": "42", "username": "bob"}, "mentions_handle": True,
            "triage": triage(text).model_dump(), "ingested_at": "2026-11-23T08:50:00+00:00",
        }
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("@acmeair 3 hours on hold, just call me back on 07911 123456", "a phone number (***** ****56)"),
        ("@acmeair no reply to jane.chan@gmail.com in a week", "an email address (j***@gmail.com)"),
        ("@acmeair booking K7QZ2P vanished from the app", "a booking reference (K*****)"),
        ("@acmeair flight BA2490 at 18:45 from gate 12 is delayed again, 3 hours now", None),
        ("@acmeair your app crashes when I check in", None),
        ("@acmeair my booking STILL shows cancelled", None),  # shouting, not a reference
        ("@acmeair the confirmation NEVER arrived", None),
    ],
)
def test_a_customers_post_showing_their_details_goes_on_by_dm_and_the_rep_is_told(
    playbook: Playbook, text: str, shown: str | None
) -> None:
    """What a care team does with "call me on 07911 123456" posted in public: not "we'll update
    you here" under it, but a DM, and a suggestion to delete the post (the rep's email says so)."""
    assert details_shown(playbook, _customers_post(text)) == shown


def test_a_post_without_a_long_digit_run_does_not_load_libphonenumber() -> None:
    code = (
        "import sys; from turnaround.models.playbook import load_playbook; "
        f"p = load_playbook({str(SOURCE)!r}); "
        "p.personal_details_in('@acmeair flight BA2490 at 18:45, gate 12, 2 hours late'); "
        "print('phonenumbers' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    assert result.stdout.strip() == "False"


def test_the_digit_run_that_spares_libphonenumber_is_never_longer_than_a_valid_number(
    playbook: Playbook, tmp_path: Path
) -> None:
    """A post is spared loading libphonenumber only when no valid number of the playbook's regions
    could be in it: the table of shortest numbers is libphonenumber's own, and a short German number
    ("089 123", 6 digits) or one with four separators between its digits is still found."""
    import phonenumbers
    from phonenumbers import PhoneMetadata

    def shortest(region: str) -> int | None:
        metadata = PhoneMetadata.metadata_for_region(region)
        general = metadata.general_desc if metadata is not None else None
        return min(general.possible_length) if general is not None and general.possible_length else None

    for region, fewest in SHORTEST_NATIONAL.items():
        assert shortest(region) == fewest, region
    for region in phonenumbers.SUPPORTED_REGIONS:
        assert (shortest(region) or SHORTEST_ANYWHERE) >= SHORTEST_ANYWHERE, region
    load_playbook.cache_clear()
    german = load_playbook(
        edited_playbook(tmp_path, lambda p: p.setdefault("personal_details", {}).update(phone_regions=["DE"]))
    )
    load_playbook.cache_clear()
    assert describe(german.personal_details_in("ruf 089 123 an")) == "a phone number (*** *23)"
    assert found(playbook, "call 415 - (555) - 0123 today").startswith("a phone number")
