"""The brand's playbook (infrastructure/playbook.yaml): voice, templates, roster, SLAs, follow-up."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, model_validator

from turnaround.exceptions import ConfigurationError
from turnaround.models.language import fold, language_of
from turnaround.playbook_file import UnreadablePlaybook, read
from turnaround.rendering import render

if TYPE_CHECKING:
    from turnaround.personal_details import PersonalDetail

# In Lambda the build copies the playbook to the package root (turnaround/playbook.yaml); locally
# PLAYBOOK_PATH points at it, or the checkout's copy (the package is four folders below the
# repository) is read. Not Path.parents[5] of this file: in Lambda, /opt/python/turnaround/models/
# has only five parents, and every function failed at INIT with IndexError.
_PACKAGE = Path(__file__).resolve().parents[1]
BUNDLED = _PACKAGE / "playbook.yaml"
SOURCE = Path(os.path.normpath(_PACKAGE / "../../../../infrastructure/playbook.yaml"))


# An address, checked for shape only: pydantic's EmailStr would load email-validator (and dnspython)
# into every function that reads the playbook; SES checks deliverability when it sends.
EmailAddress = Annotated[str, Field(pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$", max_length=254)]


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Person(_Model):
    name: Annotated[str, Field(min_length=1)]
    initials: Annotated[str, Field(pattern=r"^[A-Z]{2,3}$")]
    email: EmailAddress


class Rep(Person):
    topics: list[str] = []
    max_priority: Annotated[int, Field(ge=1, le=4)] = 4


# Priorities 1-2 are urgent: an on-call person takes them outside support hours.
URGENT_PRIORITY = 2


class CustomerTemplates(_Model):
    """What customers read, in one language."""

    ack_public: Annotated[list[str], Field(min_length=2)]
    ack_offline: Annotated[list[str], Field(min_length=2)]
    # Outside ``support_hours``: the same acks, saying honestly when the team is back ({{ opens_on }},
    # the weekday, at {{ opens_at }}, "08:00 GMT").
    # Optional: a language without them gets its usual ack.
    ack_public_after_hours: Annotated[list[str], Field(min_length=2)] | None = None
    ack_offline_after_hours: Annotated[list[str], Field(min_length=2)] | None = None
    dm_confirm: Annotated[list[str], Field(min_length=1)]
    follow_up_dm: Annotated[list[str], Field(min_length=1)]
    follow_up_public: Annotated[list[str], Field(min_length=1)]


class Templates(CustomerTemplates):
    dm_fallback_note: str  # for the rep, in the playbook's own language


class Sla(_Model):
    rep_response_seconds: Annotated[int, Field(ge=1)]
    # For urgent cases (priority 1-2: a sensitive post, an influential customer's charged one);
    # never longer than rep_response_seconds. Absent: the same SLA for every case.
    urgent_rep_response_seconds: Annotated[int, Field(ge=1)] | None = None
    supervisor_response_seconds: Annotated[int, Field(ge=1)]
    action_link_ttl_seconds: Annotated[int, Field(ge=60)]
    # Supervisor reminders after the first escalation, each wait twice the last; then one final
    # notice (copied to ops) and the case waits open. Bounded so no case nears Step Functions'
    # 25,000-event history limit.
    supervisor_reminder_cap: Annotated[int, Field(ge=0, le=10)] = 3

    def rep_response_for(self, priority: int) -> int:
        """How long the rep has before a reminder, for a case of ``priority``."""
        if priority <= URGENT_PRIORITY and self.urgent_rep_response_seconds is not None:
            return min(self.urgent_rep_response_seconds, self.rep_response_seconds)
        return self.rep_response_seconds

    def links_expire_at(self, now: datetime) -> int:
        """When links signed ``now`` expire (epoch seconds): every kind of action link lives as long."""
        return int((now + timedelta(seconds=self.action_link_ttl_seconds)).timestamp())


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)  # in datetime.weekday() order
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


def _opens_before_close(opens: str, closes: str, where: str) -> None:
    if opens >= closes:  # "HH:MM" strings order as the times do
        raise ValueError(f"{where}: open ({opens}) must be before close ({closes})")


class OpeningHours(_Model):
    """One day's hours, local time."""

    open: ClockTime
    close: ClockTime


class SupportHours(_Model):
    """When the care team works, in the brand's time zone. Outside these hours a rep's first-response
    SLA starts when the team opens (nobody is reminded or escalated at night), the public ack may say
    when the team is back, and ``on_call`` (if set) takes priority 1-2 cases with the urgent SLA.

    ``open``/``close`` are every working day's hours unless ``hours`` gives a weekday its own (a
    shorter Saturday) or ``hours_on`` a date its own (Christmas Eve until 14:00; any weekday);
    ``closed_on`` lists the dates the team does not work (public holidays), in the brand's time
    zone: then too nobody is reminded, and the ack says when the team is back."""

    timezone: str
    days: Annotated[list[Weekday], Field(min_length=1)]
    open: ClockTime
    close: ClockTime
    hours: dict[Weekday, OpeningHours] = {}
    closed_on: list[date] = []
    hours_on: dict[date, OpeningHours] = {}  # a date's own hours (Christmas Eve until 14:00), any weekday
    on_call: EmailAddress | Person | None = None  # a roster rep's email, or a person of their own

    @model_validator(mode="after")
    def _zone_and_hours(self) -> SupportHours:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"support_hours.timezone: unknown time zone {self.timezone!r}") from exc
        _opens_before_close(self.open, self.close, "support_hours")
        for day, own in self.hours.items():
            if day not in self.days:
                raise ValueError(
                    f"support_hours.hours.{day}: {day} is not one of the working days {self.days}"
                )
            _opens_before_close(own.open, own.close, f"support_hours.hours.{day}")
        for day_on, own in self.hours_on.items():
            _opens_before_close(own.open, own.close, f"support_hours.hours_on.{day_on}")
            if day_on in self.closed_on:
                raise ValueError(f"support_hours: {day_on} is both in closed_on and in hours_on")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _at(self, day: datetime, hhmm: str) -> datetime:
        hours, minutes = (int(part) for part in hhmm.split(":"))
        return datetime.combine(day.date(), time(hours, minutes), tzinfo=self.zone)

    def _window(self, local: datetime) -> tuple[datetime, datetime] | None:
        """The local day's opening and closing, or None if the team does not work that day."""
        day, weekday = local.date(), WEEKDAYS[local.weekday()]
        if day in self.closed_on or (weekday not in self.days and day not in self.hours_on):
            return None
        own = self.hours_on.get(day) or self.hours.get(weekday)
        return self._at(local, own.open if own else self.open), self._at(
            local, own.close if own else self.close
        )

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        window = self._window(local)
        return window is not None and window[0] <= local < window[1]

    def next_opening(self, at: datetime) -> datetime | None:
        """When the team next opens, in the brand's time zone; None while it is open."""
        if self.is_open(at):
            return None
        local = at.astimezone(self.zone)
        # a closed date skips at most one occurrence of a working weekday, which recurs within 7 days
        for ahead in range(8 + 7 * len(self.closed_on)):
            window = self._window(local + timedelta(days=ahead))
            if window is not None and window[0] > local:
                return window[0]
        raise AssertionError("a team that works one day a week opens within a week of its closed dates")


class FollowUp(_Model):
    delay_seconds: Annotated[int, Field(ge=0)]
    window_seconds: Annotated[int, Field(ge=1)]
    amplify_min_sentiment: Annotated[float, Field(ge=0, le=1)]
    # Who decides a retweet of the customer's praise: the rep from an emailed link (default), the
    # workflow alone, or nobody. Only a post triage calls praise is ever considered.
    amplify: Literal["ask_rep", "automatic", "never"] = "ask_rep"


class Acknowledge(_Model):
    """Who writes a case's first public reply: the automated acknowledgement, or the rep."""

    # The automated public ack goes out only when triage's confidence that the post is a complaint
    # is at least this; below it the case opens and its rep is emailed at once, but the rep writes
    # the first reply: a canned "sorry" to praise that reads like a complaint embarrasses the
    # brand (README, "Triage": the trade between praise apologised and complaints acked
    # automatically). 0 acknowledges every case automatically. A post that thanks or praises also
    # needs the model's own bar (``Triage.ack_bar``, the model card's praise_ack).
    min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.0


class Retention(_Model):
    """How long the table keeps what cases leave behind, in days (DynamoDB TTL on ``expires_at``,
    which deletes within a few days of the time). Open cases and unfinished outbox claims never expire."""

    # X returns DM events for 30 days: a DM deleted sooner could be read and stored again as new.
    dms_days: Annotated[int, Field(ge=31, le=3650)] = 180
    # A closed case with its conversation pointer and the rep's emailed messages, from closing.
    closed_cases_days: Annotated[int, Field(ge=1, le=3650)] = 365
    # A completed outbox item is what stops a retry repeating its reply, DM or email, so it must
    # outlive the longest execution that could retry it (Step Functions runs one at most a year).
    outbox_days: Annotated[int, Field(ge=366, le=3650)] = 400


# Booking references: six capitals and digits with both (a PNR, "K7QZ2P"), except an airline's
# two characters and four digits (the flight "BA2490"); after a word such as "booking", any 5-8
# character code. Our case references ("ref 123456") are digits only and never match.
BOOKING_REFERENCES = [
    r"\b(?=[A-Z]*[0-9])(?=[0-9]*[A-Z])(?![A-Z0-9]{2}[0-9]{4}\b)[A-Z0-9]{6}\b",
    r"(?i:\b(?:booking|reservation|confirmation|pnr|record locator)"
    r"(?:\s+(?:code|number|no\.?|ref(?:erence)?))?\s*[:#]?\s*)\b([A-Z0-9]{5,8}|(?=[a-z]*[0-9])[a-z0-9]{5,8})\b",
]
POSTAL_ADDRESSES = [
    r"\b(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR) ?[0-9][A-Z]{2}\b",  # a UK postcode
    r"(?<![0-9.:,])\b[0-9]{1,5}(?:\s+[A-Z][a-z]+){1,3}\s+(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|"
    r"Court|Ct|Place|Pl|Terrace|Way)\b\.?",  # a street address: number (not "15.50"), name, kind of street
    r"\b[A-Z]{2}\s[0-9]{5}(?:-[0-9]{4})?\b",  # a US state and ZIP code
]


class PersonalDetailRules(_Model):
    """What a public post of ours may never show: the customer's personal details. Email addresses,
    phone numbers (libphonenumber: valid numbers only) and card numbers (Luhn) are always looked
    for; ``patterns`` adds the brand's own kinds (name -> regular expressions; a pattern's first
    group, if it has one, is the detail). A DM is private and never checked."""

    # National numbers ("020 7946 0958", "(212) 555-0134") are read as these countries'; a number
    # written with + and its country code is found whatever the list.
    phone_regions: Annotated[list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]], Field(min_length=1)] = [
        "US",
        "GB",
    ]
    patterns: dict[
        Annotated[str, Field(min_length=1, max_length=40)], Annotated[list[str], Field(min_length=1)]
    ] = {"a booking reference": BOOKING_REFERENCES, "a postal address": POSTAL_ADDRESSES}
    # The brand's own contacts, which a reply may give: its phone numbers and email domains (the
    # playbook's own addresses' domains count without being listed).
    brand_numbers: list[str] = []
    brand_domains: list[str] = []

    @model_validator(mode="after")
    def _patterns_compile(self) -> PersonalDetailRules:
        for kind, patterns in self.patterns.items():
            for index, pattern in enumerate(patterns):
                try:
                    compiled = re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"personal_details.patterns.{kind}[{index}]: {exc}") from exc
                if compiled.search(""):
                    raise ValueError(f"personal_details.patterns.{kind}[{index}] matches an empty text")
        return self

    @property
    def own_domains(self) -> frozenset[str]:
        return frozenset(domain.lower().lstrip("@") for domain in self.brand_domains)


class Incidents(_Model):
    """Storm mode: when complaints on one topic spike, one incident, one status post, one digest.

    A complaint counts towards the first topic one of whose words it contains. ``threshold``
    complaints on one topic within ``window_minutes`` open an incident (counted as a sliding window:
    the current fixed window plus the previous one's share still within the last window_minutes);
    it takes every complaint on its topic until ``quiet_minutes`` pass without one. Its cases are
    acknowledged with ``ack`` (pointing at ``status_url``, the one status post), spread over the
    whole roster by load, and the supervisor gets a digest when it opens and then at most one per
    ``digest_minutes`` while cases join."""

    topics: dict[
        Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")], Annotated[list[str], Field(min_length=1)]
    ]
    threshold: Annotated[int, Field(ge=2)] = 20
    window_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    quiet_minutes: Annotated[int, Field(ge=1, le=10080)] = 60
    digest_minutes: Annotated[int, Field(ge=1, le=1440)] = 15
    status_url: Annotated[str, Field(pattern=r"^https://\S+$")]
    # Acks per 15 minutes per handle, in any 15 minutes, under X's 100 posts per 15 minutes (the rest
    # is headroom for reps' replies and follow-ups); ``urgent_reserve`` of them only for priority 1-2
    # cases. Acks queue first-come for their slot; one that would wait longer than
    # ``max_ack_wait_minutes`` is not posted (the rep, who has the case by email, is told).
    post_budget_per_15_minutes: Annotated[int, Field(ge=1, le=100)] = 80
    urgent_reserve: Annotated[int, Field(ge=0, le=99)] = 10
    max_ack_wait_minutes: Annotated[int, Field(ge=1, le=10080)] = 540
    # The incident acknowledgement per language (X's tag); a language without one gets the usual ack.
    ack: dict[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], Annotated[list[str], Field(min_length=2)]]

    @model_validator(mode="after")
    def _words_and_status_post(self) -> Incidents:
        for topic, words in self.topics.items():
            if any(not word.strip() or word != word.lower() for word in words):
                raise ValueError(f"incidents.topics.{topic}: words must be non-empty and lower case")
        if self.urgent_reserve >= self.post_budget_per_15_minutes:
            raise ValueError("incidents.urgent_reserve must be less than post_budget_per_15_minutes")
        for lang, variants in self.ack.items():
            for index, source in enumerate(variants):
                if "status_url" not in source:
                    raise ValueError(f"incidents.ack.{lang}[{index}] must point to {{{{ status_url }}}}")
        return self

    def topic_of(self, text: str) -> str | None:
        lowered = text.lower()
        return next((topic for topic, words in self.topics.items() if any(w in lowered for w in words)), None)


# What each situation's callers pass to ``render`` (besides ``brand``), with a sample of each: every
# variant of every language is rendered with exactly these at load, so a typo such as
# ``{{ firstname }}`` stops the deploy-time test and `make run`, never an execution.
_PUBLIC = {"customer": "sample_customer", "first_name": "Sam", "initials": "AB", "case_ref": "123456"}
SITUATION_VARIABLES: dict[str, dict[str, str]] = {
    "ack_public": _PUBLIC,
    "ack_offline": _PUBLIC,
    "ack_public_after_hours": {**_PUBLIC, "opens_on": "Monday", "opens_at": "08:00 GMT"},
    "ack_offline_after_hours": {**_PUBLIC, "opens_on": "Monday", "opens_at": "08:00 GMT"},
    "dm_confirm": {"first_name": "Sam", "rep_name": "Alex Brown", "case_ref": "123456"},
    "follow_up_dm": {**_PUBLIC, "rep_name": "Alex Brown", "lang": "en"},
    "follow_up_public": {**_PUBLIC, "rep_name": "Alex Brown", "lang": "en"},
    "dm_fallback_note": {"first_name": "Sam"},
}
INCIDENT_ACK_VARIABLES = {**_PUBLIC, "status_url": "https://status.example.com/1"}
# What we post in public: checked at load against ``personal_details`` (never refused by it).
PUBLIC_SITUATIONS = {
    "ack_public",
    "ack_offline",
    "ack_public_after_hours",
    "ack_offline_after_hours",
    "follow_up_public",
}


_MENTIONED = re.compile(r"(?<![\w@])@(\w{1,15})\b")
# Phone keyboards type a curly apostrophe (U+2019 in "don't"); people and YAML type a straight one.
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc\u00b4`\uff07", "'"))


def _plain_words(text: str) -> str:
    """Lower case, accents off, one apostrophe, @handles and other punctuation as single spaces."""
    return " ".join(re.sub(r"@\w+|[^\w\s']", " ", fold(text.translate(_APOSTROPHES))).split())


@cache
def _plain_phrases(phrases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_plain_words(phrase) for phrase in phrases)


# A customer we cannot greet by name (voice.first_name gives ""): the template is posted with the name
# left out, never with a stand-in word ("there" reads "Te escuchamos, there." in Spanish).
_NAME_SLOT = r"\{\{-?\s*first_name\s*-?\}\}"
_NAME_OPENS = re.compile(r"^((?:@\{\{\s*customer\s*\}\}\s+)?)" + _NAME_SLOT + r",\s+(\w)")
_NAME_AFTER_COMMA = re.compile(r",\s*" + _NAME_SLOT)
_NAME_BEFORE_COMMA = re.compile(r"\s+" + _NAME_SLOT + r"(?=\s*,)")


@cache
def nameless(source: str) -> str:
    """``source`` with the customer's name left out: "Sorry about this, {{ first_name }}." reads
    "Sorry about this."; "{{ first_name }}, we're so sorry" reads "We're so sorry"; "Hi
    {{ first_name }}, thanks" reads "Hi, thanks". A name used any other way stays (the playbook is
    refused at load for it)."""
    text = _NAME_OPENS.sub(lambda m: m.group(1) + m.group(2).upper(), source)
    return _NAME_BEFORE_COMMA.sub("", _NAME_AFTER_COMMA.sub("", text))


def _without_the_name(
    checks: list[tuple[str, str, dict[str, str]]],
) -> tuple[list[str], list[tuple[str, str, dict[str, str]]]]:
    """Each template again, as a customer we cannot greet by name gets it: the problems (a name the
    post cannot leave out) and the checks to render."""
    problems, unnamed = [], []
    for where, source, values in checks:
        if "first_name" not in values or where.split(".")[-1].startswith("dm_fallback_note"):
            continue  # the rep's note names the customer by username
        if re.search(_NAME_SLOT, nameless(source)):
            problems.append(
                f"{where}: first_name must come right after or before a comma, so that a post "
                "to a customer without a usable name can leave it out"
            )
        else:
            unnamed.append((f"{where} (no name)", nameless(source), {**values, "first_name": ""}))
    return problems, unnamed


def _source_for(source: str, values: dict[str, object]) -> str:
    return nameless(source) if values.get("first_name") == "" else source


class Playbook(_Model):
    brand: str
    templates: Templates
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}$")] = "en"  # the language of ``templates``
    languages: dict[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], CustomerTemplates] = {}
    opt_out_words: list[str]
    roster: Annotated[list[Rep], Field(min_length=1)]
    supervisor: Person
    reviewer: Person | None = None  # who gets the unsure-queue digest; default the first generalist rep
    ops_email: EmailAddress
    sender_email: EmailAddress
    sla: Sla
    follow_up: FollowUp
    acknowledge: Acknowledge = Field(default_factory=Acknowledge)
    retention: Retention = Field(default_factory=Retention)  # not built at import (defer_build)
    incidents: Incidents | None = None  # storm mode; off when absent
    support_hours: SupportHours | None = None  # absent: the team answers around the clock
    personal_details: PersonalDetailRules = Field(default_factory=PersonalDetailRules)
    # Other brands' X handles (without the @): a complaint that names one ("@RivalAir cancelled my
    # flight, @AcmeAir can you help?") gets no canned "sorry", which could apologise for them.
    competitors: list[Annotated[str, Field(pattern=r"^@?[A-Za-z0-9_]{1,15}$")]] = []
    # A pile-on under a customer's complaint (others replying "same here") joins its case; the rep
    # is emailed when this many other people have joined, each count once, and from the second
    # count on the supervisor is copied. Ascending; [] turns it off.
    pile_on_alerts: list[Annotated[int, Field(ge=2)]] = [3, 10, 30]

    @model_validator(mode="after")
    def _pile_on_alerts_ascend(self) -> Playbook:
        alerts = self.pile_on_alerts
        if alerts != sorted(set(alerts)):
            raise ValueError(f"pile_on_alerts must ascend without repeats, got {alerts}")
        return self

    def competitor_named(self, text: str) -> str | None:
        """The first competitor's handle ``text`` mentions (as typed), or None."""
        if not self.competitors:
            return None
        rivals = {handle.lstrip("@").lower() for handle in self.competitors}
        return next((handle for handle in _MENTIONED.findall(text) if handle.lower() in rivals), None)

    def personal_details_in(self, text: str, *, customers_own: bool = False) -> list[PersonalDetail]:
        """The customer's personal details that ``text`` would show in public (email addresses,
        phone and card numbers, ``personal_details.patterns``); the brand's own contacts aside.
        ``customers_own``: the customer's own post, where a pattern's code needs a digit (customers
        shout: "my booking STILL shows cancelled"; our reps do not)."""
        from turnaround.personal_details import find_personal_details

        return find_personal_details(
            text,
            self.personal_details,
            own_domains=self.own_email_domains(),
            codes_need_a_digit=customers_own,
        )

    def own_email_domains(self) -> frozenset[str]:
        """The domains of the playbook's own addresses: a reply may give them."""
        people = [self.supervisor, *self.roster, *([self.reviewer] if self.reviewer else [])]
        addresses = [self.sender_email, self.ops_email, *(str(p.email) for p in people)]
        return frozenset(address.rsplit("@", 1)[1].lower() for address in addresses)

    @model_validator(mode="after")
    def _on_call_is_known(self) -> Playbook:
        on_call = self.support_hours.on_call if self.support_hours else None
        if isinstance(on_call, str) and self.rep_by_email(on_call) is None:
            raise ValueError(
                f"support_hours.on_call: {on_call} is not a rep in the roster (or give name, initials, email)"
            )
        return self

    @property
    def on_call_rep(self) -> Rep | None:
        """Who takes urgent cases outside support hours, as a rep who takes every priority."""
        on_call = self.support_hours.on_call if self.support_hours else None
        if isinstance(on_call, str):
            return next((rep for rep in self.roster if rep.email == on_call), None)
        if on_call is not None:
            return Rep(name=on_call.name, initials=on_call.initials, email=on_call.email, max_priority=1)
        return None

    def opens_after(self, at: datetime) -> datetime | None:
        """When the team opens if ``at`` is outside support hours (None: open, or no hours set)."""
        return self.support_hours.next_opening(at) if self.support_hours else None

    def on_call_takes(self, priority: int, at: datetime) -> Rep | None:
        """The on-call person, for an urgent case (priority 1-2) that arrives outside support hours."""
        if priority > URGENT_PRIORITY or self.opens_after(at) is None:
            return None
        return self.on_call_rep

    def sla_starts_at_opening(self, priority: int, at: datetime) -> datetime | None:
        """When the SLA clock of a case that arrived at ``at`` starts, if not at once: outside support
        hours, when the team opens; an urgent case with an on-call person is answered now (None)."""
        if self.on_call_takes(priority, at) is not None:
            return None
        return self.opens_after(at)

    @model_validator(mode="after")
    def _incident_acks_in_every_language(self) -> Playbook:
        """An incident's cases in a language without an incident ack would get the usual one ("we'll
        update you here shortly"): a promise nobody keeps in a storm, and no word of the status post."""
        if self.incidents:
            spoken = {self.language, *self.languages}
            unknown = set(self.incidents.ack) - spoken
            if unknown:
                raise ValueError(
                    f"incidents.ack has languages the playbook has no templates for: {sorted(unknown)}"
                )
            lacking = spoken - set(self.incidents.ack)
            if lacking:
                raise ValueError(f"incidents is set, so incidents.ack is needed in: {sorted(lacking)}")
        return self

    @model_validator(mode="after")
    def _after_hours_acks_in_every_language(self) -> Playbook:
        """With support hours, an ack at night must say when the team is back in every language it
        is sent in: the usual ack ("we're looking at it right now") would promise what nobody does."""
        if self.support_hours:
            lacking = [
                f"{lang}.{situation}"
                for lang, templates in [(self.language, self.templates), *self.languages.items()]
                for situation in ("ack_public_after_hours", "ack_offline_after_hours")
                if not getattr(templates, situation)
            ]
            if lacking:
                raise ValueError(f"support_hours is set, so these after-hours acks are needed: {lacking}")
        return self

    @model_validator(mode="after")
    def _every_template_renders(self, info: ValidationInfo) -> Playbook:
        """Render every variant of every situation in every language with sample values.

        Skipped only when the loader says so: in Lambda, where the build (`make build`), the
        deploy-time test and `make run` have rendered this same file, and a cold start should not
        pay ~20 ms of CPU to render it again."""
        if info.context and not info.context.get("render_check", True):
            return self
        from jinja2 import TemplateError

        from turnaround.personal_details import describe

        def problem(where: str, source: str, values: dict[str, str]) -> str | None:
            try:
                text = render(source, html=False, brand=self.brand, **values)
            except TemplateError as exc:
                available = ", ".join(sorted({"brand", *values}))
                return f"{where}: {exc.message or exc} (available: {available})"
            # A public post of ours the personal-details check would stop: a pattern is too wide.
            details = (
                self.personal_details_in(text)
                if where.split(".")[-1].split("[")[0] in PUBLIC_SITUATIONS or where.startswith("incidents.")
                else []
            )
            if details:
                return f"{where}: personal_details would refuse it as showing {describe(details)}"
            return None

        checks: list[tuple[str, str, dict[str, str]]] = []
        for where, templates in [("templates", self.templates)] + [
            (f"languages.{lang}", t) for lang, t in self.languages.items()
        ]:
            for situation, values in SITUATION_VARIABLES.items():
                variants = getattr(templates, situation, None)
                for index, source in enumerate([variants] if isinstance(variants, str) else variants or []):
                    checks.append((f"{where}.{situation}[{index}]", source, values))
        for lang, ack_variants in (self.incidents.ack if self.incidents else {}).items():
            for index, source in enumerate(ack_variants):
                checks.append((f"incidents.ack.{lang}[{index}]", source, INCIDENT_ACK_VARIABLES))
        problems, unnamed = _without_the_name(checks)
        checks += unnamed
        problems += [found for where, source, values in checks if (found := problem(where, source, values))]
        if problems:
            raise ValueError("templates that cannot render: " + "; ".join(problems))
        return self

    def ack_withheld(
        self, confidence: float | None, *, opened_by_a_person: bool = False, post_bar: float | None = None
    ) -> str | None:
        """Why a case gets no automated public ack and its rep writes the first reply, or None.
        ``post_bar`` is triage's own bar for this post (``Triage.ack_bar``: a post that thanks or
        praises needs a surer model); the higher of it and the playbook's applies. A case a person
        opened from the unsure queue, or one triaged by rules without a model score, is
        acknowledged as usual."""
        bar = self.acknowledge.min_confidence
        if opened_by_a_person or confidence is None or confidence >= max(bar, post_bar or 0.0):
            return None
        if confidence >= bar and post_bar is not None:
            return (
                f"the post thanks or praises, and triage is not sure enough that it is a complaint for "
                f"an automated reply (confidence {confidence:.2f}, below {post_bar:.2f} for such posts): "
                "you write the first reply"
            )
        return (
            f"triage is not sure enough that this is a complaint for an automated reply "
            f"(confidence {confidence:.2f}, below {bar:.2f}): you write the first reply"
        )

    def choose_rep(self, text: str, priority: int) -> Rep:
        """First rep whose topic appears in the post and who takes this priority; else the first who can."""
        return self.candidate_reps(text, priority)[0]

    def candidate_reps(self, text: str, priority: int, *, whole_roster: bool = False) -> list[Rep]:
        """Who may take the case, in roster order: the reps who take this priority and whose topic
        appears in the post, else those without topics, else the first who takes it. In an
        incident (``whole_roster``) every rep who takes the priority: the cases are one issue."""
        lowered = text.lower()
        eligible = [rep for rep in self.roster if priority >= rep.max_priority] or list(self.roster)
        if whole_roster:
            return eligible
        on_topic = [rep for rep in eligible if any(topic in lowered for topic in rep.topics)]
        return on_topic or [rep for rep in eligible if not rep.topics] or eligible[:1]

    def render_incident_ack(self, *, key: str, lang: str | None, **values: object) -> str | None:
        """The incident acknowledgement in the customer's language, or None if it has none."""
        variants = self.incidents.ack.get(language_of(lang, self.language)) if self.incidents else None
        if not variants:
            return None
        index = int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(variants)
        return render(_source_for(variants[index], values), html=False, brand=self.brand, **values)

    def rep_by_email(self, email: str) -> Rep | None:
        found = next((rep for rep in self.roster if rep.email == email), None)
        on_call = self.support_hours.on_call if self.support_hours else None
        if found is None and isinstance(on_call, Person) and on_call.email == email:
            return self.on_call_rep  # an on-call person outside the roster still has their cases
        return found

    def is_opt_out(self, text: str) -> bool:
        """A phrase anywhere ("leave me alone"), or a single word that is the whole message ("STOP").
        Compared as plain words: a curly apostrophe is a straight one, "arretez" is "arrêtez"."""
        body = _plain_words(text)
        return any(
            body == word or (" " in word and word in body)
            for word in _plain_phrases(tuple(self.opt_out_words))
        )

    def speaks(self, lang: str | None) -> bool:
        """Whether customers writing in X's ``lang`` can be answered from templates (never in another)."""
        return language_of(lang, self.language) in {self.language, *self.languages}

    def has_variants(self, situation: str, lang: str | None) -> bool:
        """Whether an optional situation (an after-hours ack) has templates in the customer's language."""
        language = language_of(lang, self.language)
        templates = self.templates if language == self.language else self.languages.get(language)
        return bool(templates and getattr(templates, situation, None))

    def render(self, situation: str, *, key: str, lang: str | None = None, **values: object) -> str:
        """Pick a variant from ``key`` (stable across retries, varied across cases) and render it.

        ``lang`` is the customer's language (X's tag); a language without templates is an error, so a
        caller can never send a canned reply in a language the customer did not write in.
        """
        language = language_of(lang, self.language)
        if language == self.language or situation == "dm_fallback_note":
            templates: CustomerTemplates = self.templates
        elif language in self.languages:
            templates = self.languages[language]
        else:
            raise ConfigurationError(f"the playbook has no '{language}' templates")
        variants = getattr(templates, situation)
        if isinstance(variants, str):
            variants = [variants]
        index = int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(variants)
        # Posts are plain text, not HTML: no autoescape here (emails use their own escaping environment).
        return render(_source_for(variants[index], values), html=False, brand=self.brand, **values)


@cache
def load_playbook(path: str | None = None, *, render_check: bool | None = None) -> Playbook:
    """The playbook, validated; every template variant is rendered too, except in Lambda by default
    (``render_check=None``: the deployed file was rendered before it was built)."""
    chosen = Path(path or os.environ.get("PLAYBOOK_PATH") or (BUNDLED if BUNDLED.exists() else SOURCE))
    if render_check is None:
        render_check = "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
    try:
        # the build's JSON copy when it is this file's (playbook_file): no YAML parser at a cold start
        return Playbook.model_validate(read(chosen), context={"render_check": render_check})
    except (OSError, UnreadablePlaybook) as exc:
        raise ConfigurationError(f"playbook {chosen} could not be read: {exc}") from exc
    except ValidationError as exc:
        raise ConfigurationError(f"playbook {chosen} is invalid: {exc}") from exc
