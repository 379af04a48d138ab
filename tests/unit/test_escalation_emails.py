"""What each escalation email says: who went silent and for how long, the reminder's number, the
final notice (ops copied), the reassignment, the history, the ack's state, the customer-day thread."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from turnaround.logic.workflow.emails import Wait, escalation_email
from turnaround.models.case import Case
from turnaround.models.mention import Mention
from turnaround.models.playbook import load_playbook

PLAYBOOK = load_playbook(str(Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"))
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SAM = PLAYBOOK.roster[2]
MENTION = Mention.model_validate(
    {
        "tweet_id": "9",
        "handle": "acmeair",
        "text": "my order is late",
        "author": {"id": "42", "username": "bob", "name": "Bob", "followers": 5, "verified": False},
        "created_at": None,
        "conversation_id": "9",
        "mentions_handle": True,
        "triage": {"category": "complaint", "severity": "simple", "sentiment": -0.4, "reasons": ["late"]},
        "ingested_at": "2026-11-23T08:50:00+00:00",
    }
)


def _case(**fields: Any) -> Case:
    return Case.model_validate(
        {
            "case_id": "case-123456789",
            "status": "OPEN",
            "handle": "acmeair",
            "root_tweet_id": "9",
            "conversation_id": "9",
            "customer_id": "42",
            "customer_username": "bob",
            "priority": 4,
            "opened_at": "2026-11-23T08:50:00+00:00",
            "escalated_at": "2026-11-23T09:00:00+00:00",
            "assignee_email": SAM.email,
            **fields,
        }
    )


def _plain(message: EmailMessage, kind: str = "plain") -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())


def _email(
    case: Case,
    wait: Wait,
    recipient: Any = None,
    mention: Mention = MENTION,
    thread: list[Mention] | None = None,
) -> EmailMessage:
    return escalation_email(
        playbook=PLAYBOOK,
        case=case,
        mention=mention,
        thread=thread or [],
        dms=[],
        recipient=recipient or PLAYBOOK.supervisor,
        links=dict.fromkeys(("resolved", "not_resolved", "reassign"), "https://x.test/?t=a.b"),
        expires_at=int(NOW.timestamp()),
        reminder=wait.reminder,
        supervisor=wait.role == "supervisor",
        wait=wait,
        now=NOW,
        rep=SAM,
    )


def test_the_supervisor_hears_who_went_silent_and_for_how_long():
    text = _plain(_email(_case(), Wait(role="supervisor")))
    assert f"{SAM.name} ({SAM.email}) has not answered this case for 3 h 00 min" in text
    assert "opened 3 h 10 min ago" in text


def test_a_supervisor_reminder_counts_against_the_cap():
    case = _case(supervisor_escalated_at="2026-11-23T11:00:00+00:00")
    message = _email(case, Wait(role="supervisor", reminder=True, reminder_number=2))
    assert "Reminder 2 of 3: you were first asked 1 h 00 min ago" in _plain(message)
    assert str(message["Subject"]).startswith("Reminder: Escalated: [P4]")
    assert str(message["To"]) == PLAYBOOK.supervisor.email


def test_the_final_notice_says_reminders_stop_and_copies_ops():
    message = _email(_case(supervisor_reminders=3), Wait(role="supervisor", reminder=True, final=True))
    assert str(message["Subject"]).startswith("Final notice: Escalated:")
    assert PLAYBOOK.ops_email in str(message["To"]) and PLAYBOOK.supervisor.email in str(message["To"])
    assert "after 3 reminders, so reminders stop here" in _plain(message)


def test_the_ack_state_and_history_are_in_every_email():
    failed = _case(
        ack_error={"error": "XRateLimited", "reason": "X's post limit", "at": "2026-11-23T09:30:00+00:00"}
    )
    text = _plain(_email(failed, Wait(), recipient=SAM))
    assert "Public acknowledgement: NOT posted (X's post limit)" in text
    assert (
        "23 Nov 08:50 UTC: case opened" in text
        and "23 Nov 09:30 UTC: public acknowledgement NOT posted" in text
    )
    assert "Public acknowledgement: posted" in _plain(
        _email(_case(first_response_at="2026-11-23T08:51:00+00:00"), Wait(), recipient=SAM)
    )
    said = "Hi Bob, sorry about this. We're on it. ^SE"
    posted = _case(first_response_at="2026-11-23T08:51:00+00:00", ack_text=said)
    assert f'Public acknowledgement: posted: "{said}"' in _plain(_email(posted, Wait(), recipient=SAM))


def test_a_new_version_of_the_customers_post_says_it_is_an_edit():
    fixed = MENTION.model_copy(update={"tweet_id": "10", "text": "fixed typo", "edit_of": MENTION.tweet_id})
    email = _email(_case(), Wait(), recipient=SAM, thread=[MENTION, fixed])
    assert "fixed typo (edited)" in _plain(email)
    assert "fixed typo <i>(edited)</i>" in _plain(email, "html")


def test_cases_of_one_customer_on_one_day_share_a_thread_and_other_days_do_not():
    morning = _email(_case(), Wait(), recipient=SAM)
    evening = _email(_case(case_id="case-2", opened_at="2026-11-23T20:00:00+00:00"), Wait(), recipient=SAM)
    tomorrow = _email(_case(case_id="case-3", opened_at="2026-11-24T08:00:00+00:00"), Wait(), recipient=SAM)
    assert morning["In-Reply-To"] == evening["In-Reply-To"] == "<42.20261123.customer@acmeair.example>"
    assert morning["References"] == morning["In-Reply-To"]
    assert tomorrow["In-Reply-To"] != morning["In-Reply-To"]


def test_a_post_not_in_english_says_which_language_to_answer_in():
    assert "written in" not in _plain(_email(_case(), Wait(role="rep")))
    spanish = MENTION.model_copy(
        update={"triage": MENTION.triage.model_copy(update={"lang": "es"}), "text": "me cobraron dos veces"}
    )
    message = _email(_case(), Wait(role="rep"), mention=spanish)
    said = "written in Spanish (es)"
    assert said in _plain(message) and said in str(message.get_body(("html",)))


def test_a_post_in_a_language_without_templates_tells_the_rep_to_write_the_first_reply():
    """The ack task posts nothing in a language the playbook has no templates for: the rep must not
    wait for an automated acknowledgement ("not posted yet") that never comes."""
    italian = MENTION.model_copy(
        update={
            "triage": MENTION.triage.model_copy(update={"lang": "it"}),
            "text": "il volo è stato cancellato e nessuno risponde",
        }
    )
    text = _plain(_email(_case(), Wait(role="rep"), mention=italian))
    assert (
        "Public acknowledgement: none: the playbook has no reply templates in the customer's language, "
        "Italian (it): a person writes the first reply"
    ) in text
    assert "written in Italian (it)" in text


def test_a_viral_threads_email_lists_the_customers_posts_and_only_the_latest_of_everyone_elses():
    """5,000 replies in Japanese passed SES's 10 MB (measured at ~2.1 KB each): every reminder and
    the supervisor's email of the day's most visible case would be refused."""
    crowd = [
        MENTION.model_copy(
            update={
                "tweet_id": str(100 + n),
                "text": "私も同じです。荷物がまだ届きません。" * 6,
                "author": MENTION.author.model_copy(update={"id": str(1000 + n), "username": f"fan{n}"}),
            }
        )
        for n in range(5000)
    ]
    again = MENTION.model_copy(update={"tweet_id": "50", "text": "still nothing from you"})
    email = _email(_case(), Wait(), recipient=SAM, thread=[MENTION, again, *crowd])
    text, size = _plain(email), len(email.as_bytes())
    assert size < 200_000, size  # SES refuses over 10 MB
    assert "Thread (5001)" in _plain(email, "html")
    assert "still nothing from you" in text  # the customer's own posts, every one
    assert "@fan4999:" in text and "@fan4970:" in text and "@fan4969:" not in text  # the latest 30
    assert "and 4970 earlier posts by others: see the thread on X" in text
