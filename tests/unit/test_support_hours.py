"""Support hours (playbook `support_hours`): validated at load; outside them the rep's first wait runs
to opening plus the SLA, urgent cases go to on-call, and the ack says when the team is back."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import edited_playbook
from turnaround.exceptions import ConfigurationError
from turnaround.logic.reply_mail.tweet_length import weighted_length
from turnaround.logic.workflow.dispatch import first_rep_response_seconds, workflow_input
from turnaround.logic.workflow.voice import opening_values
from turnaround.models.playbook import Playbook, load_playbook
from turnaround.playbook_file import write_compiled

SOURCE = Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"
HOURS = {
    "timezone": "Europe/London",
    "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
    "open": "08:00",
    "close": "20:00",
}
# Sunday 01:00 UTC in winter is 01:00 in London; the team opens Monday 08:00 (31 h later).
SUNDAY_NIGHT = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
MONDAY_OPENING = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SATURDAY_EVENING = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
# Summer time: 07:30 UTC is 08:30 in London (BST), open.
SUMMER_MORNING = datetime(2026, 7, 1, 7, 30, tzinfo=UTC)


def _load(tmp_path: Path, **hours: Any) -> Playbook:
    return load_playbook(
        edited_playbook(tmp_path, lambda playbook: playbook.update(support_hours={**HOURS, **hours}))
    )


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"timezone": "Europe/Londn"}, "support_hours.timezone: unknown time zone 'Europe/Londn'"),
        ({"timezone": "../etc/passwd"}, "unknown time zone"),
        ({"open": "20:00", "close": "08:00"}, r"open \(20:00\) must be before close \(08:00\)"),
        ({"open": "09:00", "close": "09:00"}, "must be before close"),
        ({"open": "8am"}, "open"),
        ({"days": []}, "days"),
        ({"days": ["monday"]}, "days"),
        (
            {"hours": {"sun": {"open": "10:00", "close": "16:00"}}},
            r"hours.sun: sun is not one of the working days",
        ),
        (
            {"hours": {"sat": {"open": "13:00", "close": "09:00"}}},
            r"hours.sat: open \(13:00\) must be before close",
        ),
        ({"hours": {"sat": {"open": "9am", "close": "13:00"}}}, "hours.sat.open"),
        ({"closed_on": ["2026-12-32"]}, "closed_on"),
        (
            {"hours_on": {"2026-12-24": {"open": "14:00", "close": "08:00"}}},
            r"hours_on.2026-12-24: open \(14:00\)",
        ),
        (
            {"closed_on": ["2026-12-25"], "hours_on": {"2026-12-25": {"open": "10:00", "close": "12:00"}}},
            "2026-12-25 is both in closed_on and in hours_on",
        ),
        ({"on_call": "nobody@acmeair.example"}, "on_call: nobody@acmeair.example is not a rep in the roster"),
        (
            {"on_call": {"name": "Night Desk", "initials": "night", "email": "night@acmeair.example"}},
            "initials",
        ),
    ],
)
def test_bad_support_hours_are_refused_at_load_with_a_clear_message(tmp_path, hours, message):
    with pytest.raises(ConfigurationError, match=message):
        _load(tmp_path, **hours)


def test_the_team_is_open_in_its_own_time_zone_and_days(tmp_path):
    hours = _load(tmp_path).support_hours
    assert hours is not None
    assert hours.next_opening(SUNDAY_NIGHT) == MONDAY_OPENING
    assert hours.next_opening(SUMMER_MORNING) is None  # 08:30 BST
    assert hours.next_opening(datetime(2026, 7, 1, 6, 59, tzinfo=UTC)) == datetime(
        2026, 7, 1, 7, 0, tzinfo=UTC
    )
    assert hours.next_opening(SATURDAY_EVENING) == MONDAY_OPENING  # closing time: closed; Sunday off


def test_a_day_with_its_own_hours_and_the_holidays_the_team_is_closed(tmp_path):
    """A shorter Saturday, and Christmas: on the 25th and 26th (a Friday and a Saturday in 2026)
    nobody is there, so a complaint on Christmas Eve after closing waits for Monday the 28th."""
    playbook = _load(
        tmp_path, hours={"sat": {"open": "09:00", "close": "13:00"}}, closed_on=["2026-12-25", "2026-12-26"]
    )
    hours = playbook.support_hours
    assert hours is not None
    assert hours.is_open(datetime(2026, 11, 28, 12, 59, tzinfo=UTC))  # Saturday, before its 13:00
    assert not hours.is_open(datetime(2026, 11, 28, 13, 0, tzinfo=UTC))
    assert hours.next_opening(datetime(2026, 11, 27, 21, 0, tzinfo=UTC)) == datetime(
        2026, 11, 28, 9, 0, tzinfo=UTC
    )
    assert hours.next_opening(datetime(2026, 11, 28, 14, 0, tzinfo=UTC)) == MONDAY_OPENING
    assert hours.is_open(datetime(2026, 12, 24, 10, 0, tzinfo=UTC))  # Christmas Eve: a working day
    assert not hours.is_open(datetime(2026, 12, 25, 10, 0, tzinfo=UTC))
    after_christmas = datetime(2026, 12, 28, 8, 0, tzinfo=UTC)
    assert hours.next_opening(datetime(2026, 12, 24, 20, 30, tzinfo=UTC)) == after_christmas
    assert hours.next_opening(datetime(2026, 12, 26, 10, 0, tzinfo=UTC)) == after_christmas
    assert opening_values(after_christmas.astimezone(hours.zone), "en")["opens_on"] == "Monday"
    christmas_eve_night = datetime(2026, 12, 24, 20, 30, tzinfo=UTC)
    first_wait = first_rep_response_seconds(
        playbook, opened_at=christmas_eve_night, priority=3, now=christmas_eve_night
    )
    assert (
        first_wait
        == (after_christmas - christmas_eve_night).total_seconds() + playbook.sla.rep_response_seconds
    )


def test_a_date_with_its_own_hours_christmas_eve_until_two_and_a_sunday_opening(tmp_path):
    hours = _load(
        tmp_path,
        hours_on={
            "2026-12-24": {"open": "08:00", "close": "14:00"},  # a Thursday, a half day
            "2026-12-20": {"open": "10:00", "close": "16:00"},  # a Sunday before Christmas: open
        },
    ).support_hours
    assert hours is not None
    assert hours.is_open(datetime(2026, 12, 24, 13, 59, tzinfo=UTC))
    assert hours.next_opening(datetime(2026, 12, 24, 14, 0, tzinfo=UTC)) == datetime(
        2026, 12, 25, 8, 0, tzinfo=UTC
    )
    assert hours.next_opening(datetime(2026, 12, 19, 21, 0, tzinfo=UTC)) == datetime(
        2026, 12, 20, 10, 0, tzinfo=UTC
    )
    assert not hours.is_open(datetime(2026, 12, 13, 11, 0, tzinfo=UTC))  # other Sundays: closed


def test_a_team_closed_on_its_only_working_day_twice_opens_the_week_after(tmp_path):
    hours = _load(tmp_path, days=["mon"], closed_on=["2026-11-30", "2026-12-07"]).support_hours
    assert hours is not None
    assert hours.next_opening(SUNDAY_NIGHT) == datetime(2026, 12, 14, 8, 0, tzinfo=UTC)


def test_after_hours_the_first_wait_runs_to_opening_plus_the_sla(tmp_path):
    playbook = _load(tmp_path)
    sla = playbook.sla.rep_response_seconds
    timing = workflow_input("case-1", playbook, opened_at=SUNDAY_NIGHT, priority=3, now=SUNDAY_NIGHT)[
        "timing"
    ]
    assert timing["first_rep_response_seconds"] == 31 * 3600 + sla
    assert timing["rep_response_seconds"] == sla  # reminders and the supervisor keep their SLA
    in_hours = first_rep_response_seconds(playbook, opened_at=SUMMER_MORNING, priority=3, now=SUMMER_MORNING)
    assert in_hours == sla


def test_without_support_hours_every_wait_is_the_sla_as_before():
    load_playbook.cache_clear()
    playbook = load_playbook(str(SOURCE)).model_copy(update={"support_hours": None})
    assert first_rep_response_seconds(playbook, opened_at=SUNDAY_NIGHT, priority=4, now=SUNDAY_NIGHT) == (
        playbook.sla.rep_response_seconds
    )


def test_an_urgent_case_after_hours_goes_to_on_call_on_the_urgent_sla(tmp_path):
    person = {"name": "Night Desk", "initials": "ND", "email": "night@acmeair.example"}
    playbook = _load(tmp_path, on_call=person)
    sla = playbook.sla.rep_response_for(2)
    assert sla == playbook.sla.urgent_rep_response_seconds and sla < playbook.sla.rep_response_seconds
    on_call = playbook.on_call_takes(1, SUNDAY_NIGHT)
    assert on_call is not None and on_call.email == "night@acmeair.example"
    assert playbook.rep_by_email("night@acmeair.example") == on_call  # emails and links find them
    assert playbook.on_call_takes(3, SUNDAY_NIGHT) is None  # not urgent: waits for the team
    assert playbook.on_call_takes(1, SUMMER_MORNING) is None  # in hours: the roster as usual
    assert first_rep_response_seconds(playbook, opened_at=SUNDAY_NIGHT, priority=2, now=SUNDAY_NIGHT) == sla
    assert first_rep_response_seconds(playbook, opened_at=SUNDAY_NIGHT, priority=3, now=SUNDAY_NIGHT) > sla
    roster_rep = _load(tmp_path, on_call="alex.brown@acmeair.example").on_call_takes(2, SUNDAY_NIGHT)
    assert roster_rep is not None and roster_rep.name == "Alex Brown"


LONGEST = {"customer": "x" * 15, "first_name": "y" * 20, "initials": "ABC", "case_ref": "123456"}


@pytest.mark.parametrize("lang", ["en", "es", "fr", "pt", "de"])  # every language the playbook ships
@pytest.mark.parametrize("situation", ["ack_public_after_hours", "ack_offline_after_hours"])
def test_shipped_after_hours_acks_say_when_the_team_is_back_and_fit_a_post(tmp_path, lang, situation):
    playbook = _load(tmp_path)
    assert playbook.has_variants(situation, lang)
    # On a Saturday night the team is back on Monday: the ack names the day, not just "08:00".
    opening = playbook.opens_after(SATURDAY_EVENING)
    assert opening is not None
    values = opening_values(opening, lang)
    monday = {"en": "Monday", "es": "lunes", "fr": "lundi", "pt": "segunda-feira", "de": "Montag"}[lang]
    assert values == {"opens_on": monday, "opens_at": "08:00 GMT"}
    texts = {playbook.render(situation, key=f"case-{n}", lang=lang, **values, **LONGEST) for n in range(20)}
    assert len(texts) >= 2  # variants, so X never sees duplicate text
    for text in texts:
        # "Monday at", "lunes a las", "lundi à", "segunda-feira, às", "Montag um": the day, then the hour
        assert monday in text and text.index(monday) < text.index("08:00 GMT") and "123456" in text, text
        assert weighted_length(text) <= 280, text


def test_support_hours_need_an_after_hours_ack_in_every_language_the_playbook_speaks(tmp_path):
    """Without one, a French customer at 23:00 on a Saturday would read "nous regardons cela tout de
    suite" and nobody would look until Monday."""

    def without_french_after_hours(playbook: dict) -> None:
        playbook.update(support_hours=HOURS)
        del playbook["languages"]["fr"]["ack_public_after_hours"]

    with pytest.raises(
        ConfigurationError, match=r"after-hours acks are needed: \[.fr.ack_public_after_hours.\]"
    ):
        load_playbook(edited_playbook(tmp_path, without_french_after_hours))


def test_the_playbooks_commented_support_hours_example_loads_and_keeps_its_json_copy(tmp_path):
    """The example ops copy from: it validates, and its quoted dates let the build write the JSON
    copy that Lambda reads instead of parsing YAML at each cold start."""
    lines, example = [], False
    for line in SOURCE.read_text().splitlines():
        example = line.startswith("# support_hours:") or (example and line.startswith("#   "))
        lines.append(line[2:] if example else line)
    path = tmp_path / "playbook.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert write_compiled(path) is not None
    hours = load_playbook(str(path)).support_hours
    assert hours is not None and hours.closed_on and hours.hours_on
    # Christmas Eve closes at 14:00, Christmas and Boxing Day are closed: back on Monday the 28th
    assert hours.next_opening(datetime(2026, 12, 24, 14, 30, tzinfo=UTC)) == datetime(
        2026, 12, 28, 8, 0, tzinfo=UTC
    )
