"""Support hours on the deployed stack (the real ASL on moto's interpreter, heartbeats in real time):
a complaint that arrives while the team is closed gets the after-hours ack and no reminder before
opening plus the SLA; in hours, the SLA as before; an urgent one goes to on-call on the urgent SLA.
The functions' clock (X's simulated clock) is set to the moment each test needs."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.cloud import Cloud, body_of, execution, wait_until

SAM = "sam.evans@acmeair.example"
CASEY = "casey.diaz@acmeair.example"
NIGHT_DESK = "night@acmeair.example"
LONDON = ZoneInfo("Europe/London")
HOURS = {
    "timezone": "Europe/London",
    "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
    "open": "08:00",
    "close": "20:00",
}
SLA_SECONDS = 2
WIFI = "@acmeair the wifi on this flight isn't working"  # priority 4, to the generalist Sam
CHARGED = "@acmeair lost my luggage for the third time this year. Medication inside. I am furious."


def _next(weekday: int, hour: int, minute: int, second: int, after: datetime) -> datetime:
    """The next such local time in London (Monday is 0), after ``after``."""
    local = after.astimezone(LONDON) + timedelta(days=1)
    day = local + timedelta(days=(weekday - local.weekday()) % 7)
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=LONDON)


def _complaint_at(cloud: Cloud, when: datetime, author: str, text: str) -> str:
    cloud.emulator.clock.set(when)  # forward only: nothing has happened yet in this test
    post = cloud.emulator.add_post(author, text)
    cloud.poll()
    return f"case-{post.id}"


def _reminders(cloud: Cloud, address: str) -> list[str]:
    return [str(m["Subject"]) for m in cloud.emails_to(address) if str(m["Subject"]).startswith("Reminder")]


OVERRIDES = {
    "sla": {"rep_response_seconds": SLA_SECONDS, "supervisor_response_seconds": 600},
    "follow_up": {"delay_seconds": 0, "window_seconds": 1},
    "support_hours": HOURS,
}


@pytest.mark.parametrize("playbook_overrides", [OVERRIDES])
def test_after_hours_the_ack_says_when_we_are_back_and_the_rep_is_not_reminded_before_opening(cloud):
    # Monday 07:59:52 in London: closed since Saturday 20:00, opening in 8 s.
    before_opening = _next(0, 7, 59, 52, cloud.emulator.clock.now())
    case_id = _complaint_at(cloud, before_opening, "bob", WIFI)
    arn = cloud.execution_arn(case_id)

    [email] = wait_until(lambda: cloud.emails_to(SAM), what="the rep's email")
    started = time.monotonic()
    [ack] = wait_until(lambda: cloud.emulator.posts_created(by="acmeair"), what="the acknowledgement")
    assert "back on Monday at 08:00 " in ack.text and ack.text.endswith("/SE"), ack.text
    assert "after hours" in body_of(email, "plain") and "SLA clock starts when the team opens" in body_of(
        email, "plain"
    )
    timing = json.loads(execution(arn)["input"])["timing"]
    # Until opening (8 s, less the poll's simulated second) plus the SLA; reminders keep the SLA.
    assert SLA_SECONDS + 5 <= timing["first_rep_response_seconds"] <= SLA_SECONDS + 8
    assert timing["rep_response_seconds"] == SLA_SECONDS

    # Without support hours the reminder would come after 2 s: none comes before opening + SLA.
    time.sleep(max(0.0, timing["first_rep_response_seconds"] - 1.5 - (time.monotonic() - started)))
    assert _reminders(cloud, SAM) == []
    wait_until(lambda: _reminders(cloud, SAM), timeout=10, what="the reminder after opening + SLA")
    assert cloud.store.cases.get(case_id).reminders == 1
    assert cloud.emulator.violations == []


@pytest.mark.parametrize("playbook_overrides", [OVERRIDES])
def test_in_hours_the_usual_ack_and_the_sla_as_before(cloud):
    case_id = _complaint_at(cloud, _next(0, 10, 0, 0, cloud.emulator.clock.now()), "bob", WIFI)
    [email] = wait_until(lambda: cloud.emails_to(SAM), what="the rep's email")
    [ack] = wait_until(lambda: cloud.emulator.posts_created(by="acmeair"), what="the acknowledgement")
    assert "back on" not in ack.text and "after hours" not in body_of(email, "plain")
    timing = json.loads(execution(cloud.execution_arn(case_id))["input"])["timing"]
    assert timing["first_rep_response_seconds"] == timing["rep_response_seconds"] == SLA_SECONDS
    wait_until(lambda: _reminders(cloud, SAM), timeout=10, what="the reminder after the SLA")


@pytest.mark.parametrize(
    "playbook_overrides",
    [
        {
            **OVERRIDES,
            "support_hours": {
                **HOURS,
                "on_call": {"name": "Night Desk", "initials": "ND", "email": NIGHT_DESK},
            },
        }
    ],
)
def test_an_urgent_complaint_after_hours_goes_to_on_call_with_the_normal_sla(cloud):
    # Sunday 02:00 in London: the team opens on Monday at 08:00. Jane (150k, verified, charged) is P1.
    case_id = _complaint_at(cloud, _next(6, 2, 0, 0, cloud.emulator.clock.now()), "jane", CHARGED)
    [email] = wait_until(lambda: cloud.emails_to(NIGHT_DESK), what="the on-call person's email")
    case = cloud.store.cases.get(case_id)
    assert case.priority == 1 and case.assignee_email == NIGHT_DESK
    assert "you are on call" in body_of(email, "plain")
    [ack] = wait_until(lambda: cloud.emulator.posts_created(by="acmeair"), what="the acknowledgement")
    assert ack.text.endswith("/ND") and "back on" not in ack.text  # someone is on it now
    timing = json.loads(execution(cloud.execution_arn(case_id))["input"])["timing"]
    assert timing["first_rep_response_seconds"] == SLA_SECONDS
    wait_until(lambda: _reminders(cloud, NIGHT_DESK), timeout=10, what="on-call's reminder on the urgent SLA")
    assert cloud.emails_to("alex.brown@acmeair.example") == []  # the luggage rep sleeps


@pytest.mark.parametrize("playbook_overrides", [OVERRIDES])
def test_a_reassigned_case_waits_the_plain_sla_for_its_new_rep(cloud):
    # Sunday 02:00: the first wait runs until Monday 08:00. Someone reassigning it is working, so
    # the new rep's wait is the SLA from now, not what was left of the after-hours wait.
    case_id = _complaint_at(cloud, _next(6, 2, 0, 0, cloud.emulator.clock.now()), "bob", WIFI)
    timing = json.loads(execution(cloud.execution_arn(case_id))["input"])["timing"]
    assert timing["first_rep_response_seconds"] > 30 * 3600
    assert cloud.decide(SAM, "reassign", reassign_to=CASEY, note="Yours")["statusCode"] == 200
    wait_until(lambda: cloud.emails_to(CASEY), what="the new rep's email")
    wait_until(lambda: _reminders(cloud, CASEY), timeout=10, what="the new rep's reminder on the SLA")
    assert _reminders(cloud, SAM) == []
