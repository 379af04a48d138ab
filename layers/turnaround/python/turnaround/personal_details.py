"""The customer's personal details in a text meant for a public post: email addresses, phone numbers,
card numbers, and what the playbook's ``personal_details.patterns`` name (booking references,
postal addresses). A rep under pressure pastes them into a public reply; a care team never wants
them posted, so the reply desk refuses the post and tells the rep what it found, masked.

Phone numbers are found by ``phonenumbers`` (Google's libphonenumber, imported on first use): only
numbers valid for their country count, so times, dates, prices, flight numbers and our "ref 123456"
do not. Card numbers are 13-19 digit runs that start as a card network's do and pass the Luhn
check. Links, @handles and #hashtags are not read (a post's id in a link is a long digit run; a
handle is not a detail). The playbook's public templates are scanned at load
(``models/playbook.py``), so a pattern that would stop our own acks never deploys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from turnaround.models.playbook import PersonalDetailRules

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# Links, @handles and #hashtags (an address's "@domain" follows a word character: not a handle).
NOT_READ = re.compile(r"https?://\S+|www\.\S+|(?<![\w.+-])[@#]\w+")
CARD_LIKE = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
WORD = re.compile(r"\w+")
# The fewest digits a valid national number has, per region (libphonenumber's metadata: a unit test
# holds these to it); a region not listed may have numbers of 4. Written with + and its country code
# a number has at least 7 (+683 4002). Text without a run of that many digits (apart only by up to
# four spaces or punctuation marks, as libphonenumber allows) has no phone number to find.
SHORTEST_NATIONAL = {
    "US": 10, "CA": 7, "MX": 10, "BR": 8, "GB": 7, "IE": 7,
    "FR": 9, "ES": 9, "PT": 9, "BE": 8, "CH": 9, "IN": 8,
}  # fmt: skip
SHORTEST_ANYWHERE = 4
SHORTEST_INTERNATIONAL = 7


@cache
def _digit_run(regions: tuple[str, ...]) -> re.Pattern[str]:
    fewest = min([SHORTEST_INTERNATIONAL, *(SHORTEST_NATIONAL.get(r, SHORTEST_ANYWHERE) for r in regions)])
    return re.compile(r"\d(?:[^\w]{0,4}\d){" + str(fewest - 1) + ",}")


# Kinds read from digits alone, which an order or ticket number may look like.
NUMBERS = frozenset({"a phone number", "a card number"})


@dataclass(frozen=True)
class PersonalDetail:
    kind: str  # "an email address", "a phone number", "a card number", or a playbook pattern's name
    masked: str  # enough for the rep to find it in their text, not enough to read it back


def find_personal_details(
    text: str,
    rules: PersonalDetailRules,
    *,
    own_domains: frozenset[str] = frozenset(),
    codes_need_a_digit: bool = False,
) -> list[PersonalDetail]:
    """Each personal detail in ``text``, in the order they appear (each span reported once).
    Addresses at ``own_domains`` and ``rules.brand_numbers`` are the brand's, not the customer's.
    ``codes_need_a_digit``: a pattern's detail counts only with a digit in it (a customer who
    shouts, "my booking STILL shows cancelled", has written no booking reference)."""
    found: list[tuple[int, str, str]] = []
    ours = own_domains | rules.own_domains
    blank = _blank(text, NOT_READ)
    for match in EMAIL.finditer(blank):
        domain = match.group().rsplit("@", 1)[1].lower()
        if not any(domain == own or domain.endswith("." + own) for own in ours):
            found.append((match.start(), "an email address", _mask_email(match.group())))
    blank = _blank(blank, EMAIL)
    for match in CARD_LIKE.finditer(blank):
        digits = re.sub(r"\D", "", match.group())
        if _luhn_valid(digits):
            found.append((match.start(), "a card number", _mask_digits(match.group(), keep=4)))
            blank = blank[: match.start()] + " " * len(match.group()) + blank[match.end() :]
    phones = _phone_numbers(blank, rules)
    brand = _brand_numbers(rules) if phones else set()
    for start, raw, number in phones:
        if number not in brand:
            found.append((start, "a phone number", _mask_digits(raw, keep=2)))
            blank = blank[:start] + " " * len(raw) + blank[start + len(raw) :]
    for kind, patterns in rules.patterns.items():
        for pattern in patterns:
            for match in re.finditer(pattern, blank):  # compiled once by re's cache
                detail = match.group(match.lastindex or 0)
                if detail.strip() and (not codes_need_a_digit or any(c.isdigit() for c in detail)):
                    found.append((match.start(), kind, _mask_words(detail)))
                    blank = blank[: match.start()] + " " * len(match.group()) + blank[match.end() :]
    return [PersonalDetail(kind, masked) for _, kind, masked in sorted(found, key=lambda f: f[0])]


def describe(details: list[PersonalDetail]) -> str:
    """For the rep: 'a phone number (+** **** ***58) and a booking reference (K*****)'."""
    parts = [f"{d.kind} ({d.masked})" for d in details]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _phone_numbers(text: str, rules: PersonalDetailRules) -> list[tuple[int, str, str]]:
    """Each valid phone number in ``text``: where it starts, as written, and in E.164."""
    if not _digit_run(tuple(rules.phone_regions)).search(text):
        return []  # most posts: no need to load libphonenumber (~25 ms of a cold start)
    import phonenumbers  # 5 MB of metadata, loaded on demand

    seen: dict[int, tuple[str, str]] = {}
    for region in rules.phone_regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            seen.setdefault(match.start, (match.raw_string, e164))
    return [(start, raw, e164) for start, (raw, e164) in sorted(seen.items())]


def _brand_numbers(rules: PersonalDetailRules) -> set[str]:
    """The brand's own numbers in E.164, however the playbook writes them ("0800 123 4567" is read
    as a number of each of ``phone_regions``)."""
    import phonenumbers

    numbers = set()
    for written in rules.brand_numbers:
        for region in rules.phone_regions:
            try:
                parsed = phonenumbers.parse(written, region)
            except phonenumbers.NumberParseException:
                continue
            numbers.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    return numbers


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    """``text`` with ``pattern``'s matches replaced by spaces, so offsets still point into ``text``."""
    return pattern.sub(lambda match: " " * len(match.group()), text)


def _luhn_valid(digits: str) -> bool:
    """A payment card's number: 13-19 digits, a card network's first digit (2-6: Mastercard, Amex,
    Visa, Discover, ...; an order number or a post id starting 1 is not one), and the Luhn check."""
    if not 13 <= len(digits) <= 19 or digits[0] not in "23456" or len(set(digits)) == 1:
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _mask_email(address: str) -> str:
    local, domain = address.rsplit("@", 1)
    return f"{local[0]}***@{domain}"


def _mask_digits(raw: str, *, keep: int) -> str:
    """Every digit but the last ``keep`` as *, separators as written."""
    total = sum(c.isdigit() for c in raw)
    seen, out = 0, []
    for char in raw:
        if char.isdigit():
            seen += 1
            out.append(char if seen > total - keep else "*")
        else:
            out.append(char)
    return "".join(out).strip()


def _mask_words(detail: str) -> str:
    """The first character of each word, the rest as *: "SW1A 1AA" reads "S*** 1**"."""
    return WORD.sub(lambda m: m.group()[0] + "*" * (len(m.group()) - 1), detail.strip())
