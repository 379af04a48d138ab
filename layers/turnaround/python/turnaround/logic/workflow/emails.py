"""Emails to reps, supervisors and ops. HTML is autoescaped; headers are single-line and sanitised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import cache
from typing import Any

from jinja2 import Environment, StrictUndefined, select_autoescape

from turnaround.adapters.mailer import build_message, safe_header
from turnaround.models.playbook import Person, Playbook

ESCALATION_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; max-width: 640px">
{% for line in intro.split("\\n") %}<p>{{ line }}</p>{% endfor %}
<h2>Priority P{{ case.priority }} &middot; {{ severity }} &middot; case {{ ref }}</h2>
<blockquote style="border-left: 4px solid #ccc; padding-left: 8px; white-space: pre-wrap">{{ mention.text }}</blockquote>
<p><b>{{ mention.author.name }}</b> @{{ mention.author.username }} &middot; {{ "{:,}".format(followers) }} followers
{% if mention.author.verified %}&middot; verified{% endif %} &middot; sentiment {{ "%+.2f"|format(sentiment) }}<br>
<a href="{{ post_url }}">Open the post on X</a></p>
<p>Why: {{ reasons }}</p>
<p>Public acknowledgement: {{ ack_status }}</p>
{% if history %}<h3>History</h3><ul>
{% for h in history %}<li>{{ h }}</li>{% endfor %}</ul>{% endif %}
{% if thread %}<h3>Thread ({{ thread|length }})</h3><ul>
{% for m in thread %}<li>@{{ m.author.username }}: {{ m.text }}</li>{% endfor %}</ul>{% endif %}
{% if conversation %}<h3>Conversation</h3><ul>
{% for e in conversation %}<li>{{ e.when }} &middot; {{ e.who }} &middot; {{ e.channel }}: {{ e.text }}
{%- if e.note %} <i>({{ e.note }})</i>{% endif %}</li>{% endfor %}</ul>
{% elif dms %}<h3>Direct messages</h3><ul>
{% for d in dms %}<li>{{ d.direction }}: {{ d.text }}</li>{% endfor %}</ul>{% endif %}
{% if reply_to %}<p>Reply to this email to write to the customer: your text goes to them as a DM if they
have DMed us, otherwise as a public reply to their latest post that mentions us.</p>{% endif %}
{% if fallback %}<p><b>{{ fallback }}</b></p>{% endif %}
<h3>Act on this case</h3>
<p>Each link opens a page that asks you to confirm; nothing happens until you press its button.</p>
<p><a href="{{ links.resolved }}">Resolved</a> &middot; <a href="{{ links.not_resolved }}">Could not resolve</a>
&middot; <a href="{{ links.reassign }}">Reassign</a></p>
<p style="color: #666">Links expire {{ expires }} and work once.</p>
</body></html>
"""

ESCALATION_TEXT = """{{ intro }}

Priority P{{ case.priority }} - {{ severity }} - case {{ ref }}

"{{ mention.text }}"
{{ mention.author.name }} @{{ mention.author.username }} - {{ followers }} followers{% if mention.author.verified %} - verified{% endif %} - sentiment {{ "%+.2f"|format(sentiment) }}
{{ post_url }}
Why: {{ reasons }}
Public acknowledgement: {{ ack_status }}
{% if history %}
History:
{% for h in history %}  {{ h }}
{% endfor %}{% endif %}{% if thread %}
Thread:
{% for m in thread %}  @{{ m.author.username }}: {{ m.text }}
{% endfor %}{% endif %}{% if conversation %}
Conversation:
{% for e in conversation %}  {{ e.when }} - {{ e.who }} - {{ e.channel }}: {{ e.text }}{% if e.note %} ({{ e.note }}){% endif %}
{% endfor %}{% elif dms %}
Direct messages:
{% for d in dms %}  {{ d.direction }}: {{ d.text }}
{% endfor %}{% endif %}{% if reply_to %}
Reply to this email to write to the customer (a DM if they have DMed us, otherwise a public
reply to their latest post that mentions us).
{% endif %}{% if fallback %}
{{ fallback }}
{% endif %}
Act on this case (each link asks you to confirm):
  Resolved:          {{ links.resolved }}
  Could not resolve: {{ links.not_resolved }}
  Reassign:          {{ links.reassign }}
Links expire {{ expires }} and work once.
"""


@dataclass(frozen=True)
class Wait:
    """Which wait of the workflow an escalation email opens (the ASL state that sent it)."""

    role: str = "rep"
    reminder: bool = False
    reminder_number: int = 0
    final: bool = False


def _ago(start: object, now: datetime) -> str:
    """'3 h 05 min' since an ISO timestamp (empty when unknown)."""
    try:
        seconds = max(0, int((now - datetime.fromisoformat(str(start))).total_seconds()))
    except ValueError:
        return ""
    hours, minutes = divmod(seconds // 60, 60)
    days, hours = divmod(hours, 24)
    return (f"{days} d " if days else "") + (f"{hours} h " if hours or days else "") + f"{minutes:02d} min"


def _when(value: object) -> str:
    try:
        return datetime.fromisoformat(str(value)).strftime("%d %b %H:%M UTC")
    except ValueError:
        return str(value)


def case_history(case: dict[str, Any]) -> list[str]:
    """What happened to the case so far, oldest first, for whoever reads it next."""
    events: list[tuple[str, str]] = [(str(case.get("opened_at", "")), "case opened")]
    if case.get("first_response_at"):
        events.append((str(case["first_response_at"]), "public acknowledgement posted"))
    error = case.get("ack_error")
    if isinstance(error, dict):
        events.append((str(error.get("at", "")), f"public acknowledgement NOT posted: {error.get('reason')}"))
    if case.get("escalated_at"):
        events.append((str(case["escalated_at"]), "first email to the assigned rep"))
    for move in case.get("reassignments") or []:
        note = f' - note: "{move.get("note")}"' if move.get("note") else ""
        events.append(
            (
                str(move.get("at", "")),
                f"reassigned from {move.get('from')} to {move.get('to')} by {move.get('by')}{note}",
            )
        )
    if case.get("supervisor_escalated_at"):
        events.append(
            (str(case["supervisor_escalated_at"]), "escalated to the supervisor (no answer within the SLA)")
        )
    return [f"{_when(at)}: {what}" for at, what in sorted(events, key=lambda e: e[0]) if at]


def ack_status(case: dict[str, Any]) -> str:
    error = case.get("ack_error")
    if isinstance(error, dict):
        return f"NOT posted ({error.get('reason')}); the customer has heard nothing from us yet"
    if case.get("ack_tweet_id") or case.get("first_response_at"):
        moves = case.get("reassignments") or []
        # The public reply keeps the first rep's initials; the new rep should know whose they are.
        return f"posted, signed with the initials of {moves[0].get('from')}" if moves else "posted"
    return "not posted yet (being sent now, or none for this post)"


def _intro(
    *,
    playbook: Playbook,
    case: dict[str, Any],
    recipient: Person,
    rep: Person | None,
    wait: Wait,
    now: datetime,
) -> str:
    if wait.role == "supervisor":
        silent = rep.name if rep else "The assigned rep"
        lines = [
            f"Hi {recipient.name}, {silent} ({rep.email if rep else 'unassigned'}) has not answered this case "
            f"for {_ago(case.get('escalated_at'), now)}; it was opened {_ago(case.get('opened_at'), now)} ago."
        ]
        if wait.final:
            lines.append(
                "Final notice: nobody has answered it after "
                f"{int(case.get('supervisor_reminders', 0))} reminders, so reminders stop here. The case "
                "stays open until someone acts on it; ops are copied."
            )
        elif wait.reminder:
            lines.append(
                f"Reminder {wait.reminder_number} of {playbook.sla.supervisor_reminder_cap}: you were "
                f"first asked {_ago(case.get('supervisor_escalated_at'), now)} ago."
            )
        else:
            lines.append("It had no response from the assigned rep within the SLA.")
        return "\n".join(lines)
    if wait.reminder:
        return f"Reminder, {recipient.name}: this case is still waiting for you."
    moves = case.get("reassignments") or []
    if moves and moves[-1].get("to") == recipient.email:
        move = moves[-1]
        note = f' Their note: "{move.get("note")}"' if move.get("note") else ""
        return f"Hi {recipient.name}, {move.get('by')} reassigned this case to you.{note}"
    return f"Hi {recipient.name}, a new case on X is yours."


def customer_day_anchor(case: dict[str, Any], domain: str) -> str:
    """The thread every email about one customer's cases of one (UTC) day refers to."""
    day = str(case.get("opened_at", ""))[:10].replace("-", "")
    return f"<{case.get('customer_id', 'unknown')}.{day}.customer@{domain}>"


@cache
def _html() -> Environment:
    return Environment(undefined=StrictUndefined, autoescape=select_autoescape(default=True))


@cache
def _text() -> Environment:
    return Environment(undefined=StrictUndefined, autoescape=False)


def escalation_email(
    *,
    playbook: Playbook,
    case: dict[str, Any],
    mention: dict[str, Any],
    thread: list[dict[str, Any]],
    dms: list[dict[str, Any]],
    recipient: Person,
    links: dict[str, str],
    expires_at: int,
    reminder: bool,
    supervisor: bool,
    escalation_id: str = "",
    conversation: list[Any] | None = None,
    reply_headers: dict[str, str] | None = None,
    wait: Wait | None = None,
    now: datetime | None = None,
    rep: Person | None = None,
) -> EmailMessage:
    ref = str(case["case_id"]).rsplit("-", 1)[-1][-6:]
    username = str(mention["author"]["username"])
    wait = wait or Wait(role="supervisor" if supervisor else "rep", reminder=reminder)
    intro = _intro(
        playbook=playbook, case=case, recipient=recipient, rep=rep, wait=wait, now=now or datetime.now(UTC)
    )
    context = {
        "intro": intro,
        "case": case,
        "mention": mention,
        "ref": ref,
        "severity": mention["triage"].get("severity") or mention["triage"]["category"],
        "followers": int(mention["author"].get("followers", 0)),
        "sentiment": float(mention["triage"]["sentiment"]),
        "reasons": ", ".join(mention["triage"].get("reasons", [])),
        "post_url": f"https://x.com/{username}/status/{mention['tweet_id']}",
        "thread": [m for m in thread if m["tweet_id"] != mention["tweet_id"]],
        "dms": dms,
        "conversation": conversation or [],
        "reply_to": bool(reply_headers),
        "links": links,
        "fallback": playbook.render("dm_fallback_note", key=str(case["case_id"]), first_name=username)
        if case.get("dm_refused")
        else "",
        "expires": datetime.fromtimestamp(expires_at, UTC).strftime("%d %b %Y %H:%M UTC"),
        "ack_status": ack_status(case),
        "history": case_history(case),
    }
    # A reminder says so, to the supervisor too: each email of a case reads differently.
    prefix = ("Final notice: " if wait.final else "Reminder: " if reminder else "") + (
        "Escalated: " if supervisor else ""
    )
    # One thread per customer per day: every case email refers to the customer's day anchor (and
    # to the case's own thread when replies by email are on), so overlapping cases read as one.
    day_anchor = customer_day_anchor(case, playbook.sender_email.split("@")[-1])
    threading = dict(reply_headers or {})
    threading["References"] = " ".join(filter(None, [day_anchor, threading.get("References")]))
    threading["In-Reply-To"] = day_anchor
    subject = f"{prefix}[P{case['priority']}] @{safe_header(username, 30)} - case {ref}"
    return build_message(
        sender=playbook.sender_email,
        to=[recipient.email, *([playbook.ops_email] if wait.final else [])],
        subject=subject,
        text=_text().from_string(ESCALATION_TEXT).render(context),
        html=_html().from_string(ESCALATION_HTML).render(context),
        # One escalation, one email: a reminder is a new escalation (and says so in its subject).
        headers={"X-Turnaround-Case": str(case["case_id"])}
        | ({"X-Turnaround-Escalation": escalation_id} if escalation_id else {})
        | threading,
    )


BILLING_STOPS = ("XCreditsExhausted", "XUsageCapped")


def ops_alert_email(
    *,
    playbook: Playbook,
    case_id: str,
    error: str,
    cause: str,
    what: str = "",
    case: dict[str, Any] | None = None,
    mention: dict[str, Any] | None = None,
) -> EmailMessage:
    """X's billing stop (hold posting, top up), or a case that needs ops: ``what`` says what went
    wrong and the case's post comes with it, so ops can hand the case to a person."""
    if error in BILLING_STOPS:
        text = (
            f"Turnaround stopped posting to X: {error}.\n\nCase {case_id} hit it. {cause}\n\n"
            "Top up X credits (or raise the usage cap), then delete the HOLD#x-billing item from the "
            "table to resume posting. Cases keep escalating to reps by email meanwhile."
        )
        subject = f"[Turnaround ops] {error}"
    else:
        lines = [f"{what or 'A case needs ops'}: {error}.", f"Case {case_id}. {cause[:1000]}"]
        if mention:
            author = mention.get("author") or {}
            lines.append(
                f'The customer, @{author.get("username", "?")}, wrote: "{mention.get("text", "")}" '
                f"https://x.com/{author.get('username', 'i')}/status/{mention.get('tweet_id', '')}"
            )
        if case:
            lines.append(f"Assigned to: {case.get('assignee_email') or 'nobody yet'}.")
        lines.append(
            "What to do: docs/runbook.md, 'A case workflow failed or an acknowledgement was not posted'."
        )
        text = "\n\n".join(lines)
        subject = f"[Turnaround ops] {what or 'case'}: {error} - case {case_id.rsplit('-', 1)[-1][-6:]}"
    html = (
        _html()
        .from_string("{% for p in paragraphs %}<p>{{ p }}</p>{% endfor %}")
        .render(paragraphs=text.split("\n\n"))
    )
    return build_message(
        sender=playbook.sender_email,
        to=[playbook.ops_email],
        subject=subject,
        text=text,
        html=html,
    )


def ack_not_posted_email(
    *,
    playbook: Playbook,
    case: dict[str, Any],
    recipient: Person,
    username: str,
    reason: str,
    headers: dict[str, str],
) -> EmailMessage:
    """A note in the case's thread: the public acknowledgement was not posted, so the customer has
    heard nothing from us yet."""
    ref = str(case["case_id"]).rsplit("-", 1)[-1][-6:]
    text = (
        f"{recipient.name}, our public acknowledgement to @{username} (case {ref}) was not posted: "
        f"{reason}.\n\nThe customer has heard nothing from us yet. Please answer them in person "
        "(reply to the case email, or on X); the case email's links still resolve or reassign it."
    )
    html = (
        _html()
        .from_string("{% for p in paragraphs %}<p>{{ p }}</p>{% endfor %}")
        .render(paragraphs=text.split("\n\n"))
    )
    subject = f"Re: [P{case['priority']}] @{safe_header(username, 30)} - case {ref}"
    return build_message(
        sender=playbook.sender_email,
        to=[recipient.email],
        subject=subject,
        text=text,
        html=html,
        headers=headers,
    )
