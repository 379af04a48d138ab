"""Emails to reps, supervisors and ops. HTML is autoescaped; headers are single-line and sanitised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from turnaround.adapters.mailer import build_message, safe_header
from turnaround.logic.workflow.voice import (
    ack_withheld,
    after_hours_opening,
    case_ref,
    details_shown,
    supervisor_copied,
)
from turnaround.models.case import Case, FollowUpPost, StoredDm
from turnaround.models.language import language_name, language_of
from turnaround.models.mention import Mention
from turnaround.models.playbook import Person, Playbook
from turnaround.rendering import render
from turnaround.x_urls import post_url

ESCALATION_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; max-width: 640px">
{% for line in intro.split("\\n") %}<p>{{ line }}</p>{% endfor %}
<h2>Priority P{{ case.priority }} &middot; {{ severity }} &middot; case {{ ref }}</h2>
<blockquote style="border-left: 4px solid #ccc; padding-left: 8px; white-space: pre-wrap">{{ mention.text }}</blockquote>
<p><b>{{ mention.author.name }}</b> @{{ mention.author.username }} &middot; {{ "{:,}".format(followers) }} followers
{% if mention.author.verified %}&middot; verified{% endif %} &middot; sentiment {{ "%+.2f"|format(sentiment) }}
{% if language %}&middot; <b>written in {{ language }}</b>{% endif %}<br>
<a href="{{ post_url }}">Open the post on X</a></p>
<p>Why: {{ reasons }}</p>
{% if shown %}<p><b>Their post shows {{ shown }} in public:</b> go on by DM and, if the details are theirs, suggest they delete the post.</p>{% endif %}
<p>Public acknowledgement: {{ ack_status }}</p>
{% if history %}<h3>History</h3><ul>
{% for h in history %}<li>{{ h }}</li>{% endfor %}</ul>{% endif %}
{% if thread %}<h3>Thread ({{ thread|length + thread_more }})</h3><ul>
{% for m in thread %}<li>@{{ m.author.username }}: {{ m.text }}{% if m.edit_of %} <i>(edited)</i>{% endif %}</li>{% endfor %}
{% if thread_more %}<li><i>and {{ thread_more }} earlier posts by others: see the thread on X</i></li>{% endif %}</ul>{% endif %}
{% if conversation %}<h3>Conversation</h3><ul>
{% for e in conversation %}<li>{{ e.when }} &middot; {{ e.who }} &middot; {{ e.channel }}: {{ e.text }}
{%- if e.note %} <i>({{ e.note }})</i>{% endif %}</li>{% endfor %}</ul>
{% elif dms %}<h3>Direct messages</h3><ul>
{% for d in dms %}<li>{{ d.direction }}: {{ d.text }}</li>{% endfor %}</ul>{% endif %}
{% if reply_to %}<p>Reply to this email to write to the customer: your text goes to them as a DM if they
have DMed us, otherwise as a public reply to their latest post that mentions us (or, when we have
answered it, under our last reply in their thread).</p>{% endif %}
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
{{ mention.author.name }} @{{ mention.author.username }} - {{ followers }} followers{% if mention.author.verified %} - verified{% endif %} - sentiment {{ "%+.2f"|format(sentiment) }}{% if language %} - written in {{ language }}{% endif %}
{{ post_url }}
Why: {{ reasons }}
{% if shown %}Their post shows {{ shown }} in public: go on by DM and, if the details are theirs, suggest they delete the post.
{% endif %}Public acknowledgement: {{ ack_status }}
{% if history %}
History:
{% for h in history %}  {{ h }}
{% endfor %}{% endif %}{% if thread %}
Thread:
{% for m in thread %}  @{{ m.author.username }}: {{ m.text }}{% if m.edit_of %} (edited){% endif %}
{% endfor %}{% if thread_more %}  ... and {{ thread_more }} earlier posts by others: see the thread on X
{% endif %}{% endif %}{% if conversation %}
Conversation:
{% for e in conversation %}  {{ e.when }} - {{ e.who }} - {{ e.channel }}: {{ e.text }}{% if e.note %} ({{ e.note }}){% endif %}
{% endfor %}{% elif dms %}
Direct messages:
{% for d in dms %}  {{ d.direction }}: {{ d.text }}
{% endfor %}{% endif %}{% if reply_to %}
Reply to this email to write to the customer (a DM if they have DMed us, otherwise a public
reply to their latest post that mentions us, or under our last reply in their thread).
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


def _ago(start: datetime | None, now: datetime) -> str:
    """'3 h 05 min' since ``start`` (empty when unknown)."""
    if start is None:
        return ""
    seconds = max(0, int((now - start).total_seconds()))
    hours, minutes = divmod(seconds // 60, 60)
    days, hours = divmod(hours, 24)
    return (f"{days} d " if days else "") + (f"{hours} h " if hours or days else "") + f"{minutes:02d} min"


def case_history(case: Case) -> list[str]:
    """What happened to the case so far, oldest first, for whoever reads it next."""
    events: list[tuple[datetime | None, str]] = [(case.opened_at, "case opened")]
    events.append((case.first_response_at, "public acknowledgement posted"))
    if case.ack_error:
        events.append((case.ack_error.at, f"public acknowledgement NOT posted: {case.ack_error.reason}"))
    events.append((case.escalated_at, "first email to the assigned rep"))
    for move in case.reassignments:
        note = f' - note: "{move.note}"' if move.note else ""
        events.append((move.at, f"reassigned from {move.from_email} to {move.to_email} by {move.by}{note}"))
    events.append((case.supervisor_escalated_at, "escalated to the supervisor (no answer within the SLA)"))
    known = [(at, what) for at, what in events if at is not None]
    return [f"{at:%d %b %H:%M} UTC: {what}" for at, what in sorted(known, key=lambda e: e[0])]


def ack_status(case: Case, withheld: str | None = None) -> str:
    if withheld and not case.ack_tweet_id:
        return f"none: {withheld}"
    if case.ack_error:
        return f"NOT posted ({case.ack_error.reason}); the customer has heard nothing from us yet"
    if case.ack_tweet_id or case.first_response_at:
        # The public reply keeps the first rep's initials; the new rep should know whose they are.
        moves = case.reassignments
        status = f"posted, signed with the initials of {moves[0].from_email}" if moves else "posted"
        return f'{status}: "{case.ack_text}"' if case.ack_text else status
    return "not posted yet (being sent now, or none for this post)"


def _intro(
    *, playbook: Playbook, case: Case, recipient: Person, rep: Person | None, wait: Wait, now: datetime
) -> str:
    if wait.role == "supervisor":
        silent = rep.name if rep else "The assigned rep"
        lines = [
            f"Hi {recipient.name}, {silent} ({rep.email if rep else 'unassigned'}) has not answered this case "
            f"for {_ago(case.escalated_at, now)}; it was opened {_ago(case.opened_at, now)} ago."
        ]
        if wait.final:
            lines.append(
                f"Final notice: nobody has answered it after {case.supervisor_reminders} reminders, so "
                "reminders stop here. The case stays open until someone acts on it; ops are copied."
            )
        elif wait.reminder:
            lines.append(
                f"Reminder {wait.reminder_number} of {playbook.sla.supervisor_reminder_cap}: you were "
                f"first asked {_ago(case.supervisor_escalated_at, now)} ago."
            )
        else:
            lines.append("It had no response from the assigned rep within the SLA.")
        return "\n".join(lines)
    if wait.reminder:
        return f"Reminder, {recipient.name}: this case is still waiting for you."
    if case.reassignments and case.reassignments[-1].to_email == recipient.email:
        move = case.reassignments[-1]
        note = f' Their note: "{move.note}"' if move.note else ""
        return f"Hi {recipient.name}, {move.by} reassigned this case to you.{note}"
    intro = f"Hi {recipient.name}, a new case on X is yours."
    opening = after_hours_opening(playbook, case)
    if opening is not None and opening > now:
        arrived = case.opened_at.astimezone(opening.tzinfo)
        intro += (
            f" It came in after hours ({arrived:%a %d %b %H:%M %Z}); its SLA clock starts when the team "
            f"opens, {opening:%a %d %b %H:%M %Z}, so there are no reminders before then."
        )
    elif playbook.on_call_takes(case.priority, case.opened_at) == recipient:
        intro += " It came in after hours and is urgent: you are on call, so the urgent SLA applies now."
    return intro


def customer_day_anchor(case: Case, domain: str) -> str:
    """The thread every email about one customer's cases of one (UTC) day refers to."""
    return f"<{case.customer_id}.{case.opened_at.astimezone(UTC):%Y%m%d}.customer@{domain}>"


def escalation_email(
    *,
    playbook: Playbook,
    case: Case,
    mention: Mention,
    thread: list[Mention],
    dms: list[StoredDm],
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
    followed_unanswered: bool = False,
) -> EmailMessage:
    ref = case_ref(case.case_id)
    username = mention.author.username
    wait = wait or Wait(role="supervisor" if supervisor else "rep", reminder=reminder)
    intro = _intro(
        playbook=playbook, case=case, recipient=recipient, rep=rep, wait=wait, now=now or datetime.now(UTC)
    )
    # The supervisor is copied once: on the rep's first email, not on reminders or a reassignment's.
    first_to_rep = wait.role == "rep" and not wait.reminder and not case.reassignments
    copied = supervisor_copied(playbook, mention.triage.sensitive, recipient.email) if first_to_rep else []
    if copied:
        intro += (
            f" The post is about {mention.triage.sensitive}: no automated public reply went out, so please "
            f"answer it yourself, soon. {playbook.supervisor.name} (supervisor) is copied."
        )
    context = {
        "intro": intro,
        "case": case,
        "mention": mention,
        "ref": ref,
        "severity": mention.triage.severity or mention.triage.category,
        "followers": mention.author.followers,
        "sentiment": mention.triage.sentiment,
        "reasons": ", ".join(mention.triage.reasons),
        "shown": details_shown(playbook, mention),
        # Not English: the rep answers in the customer's language (X's tag, e.g. "es").
        "language": "" if language_of(mention.triage.lang) == "en" else language_name(mention.triage.lang),
        "post_url": post_url(username, mention.tweet_id),
        **_thread_shown(thread, mention, case.customer_id),
        "dms": dms,
        "conversation": conversation or [],
        "reply_to": bool(reply_headers),
        "links": links,
        "fallback": playbook.render("dm_fallback_note", key=case.case_id, first_name=username)
        if case.dm_refused
        else "",
        "expires": datetime.fromtimestamp(expires_at, UTC).strftime("%d %b %Y %H:%M UTC"),
        "ack_status": ack_status(
            case, ack_withheld(playbook, case, mention, followed_unanswered=followed_unanswered)
        ),
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
    subject = f"{prefix}[P{case.priority}] @{safe_header(username, 30)} - case {ref}"
    return build_message(
        sender=playbook.sender_email,
        to=[recipient.email, *([playbook.ops_email] if wait.final else []), *copied],
        subject=subject,
        text=render(ESCALATION_TEXT, html=False, **context),
        html=render(ESCALATION_HTML, html=True, **context),
        # One escalation, one email: a reminder is a new escalation (and says so in its subject).
        headers={"X-Turnaround-Case": case.case_id}
        | ({"X-Turnaround-Escalation": escalation_id} if escalation_id else {})
        | threading,
    )


BILLING_STOPS = ("XCreditsExhausted", "XUsageCapped")
PARAGRAPHS_HTML = "{% for p in paragraphs %}<p>{{ p }}</p>{% endfor %}"


def ops_alert_email(
    *,
    playbook: Playbook,
    case_id: str,
    error: str,
    cause: str,
    what: str = "",
    case: Case | None = None,
    mention: Mention | None = None,
    held_since: str | None = None,
) -> EmailMessage:
    """X's billing stop (hold posting, top up), or a case that needs ops: ``what`` says what went
    wrong and the case's post comes with it, so ops can hand the case to a person. ``held_since``:
    the daily reminder that the billing stop's hold still stands."""
    if error in BILLING_STOPS:
        opening = (
            f"Posting to X is still on hold since {held_since} ({error}): acknowledgements are not "
            "being posted. One reminder a day while they are held."
            if held_since
            else f"Turnaround stopped posting to X: {error}."
        )
        text = (
            f"{opening}\n\nCase {case_id} hit it. {cause}\n\n"
            "Top up X credits (or raise the usage cap), then delete the HOLD#x-billing item from the "
            "table to resume posting (docs/runbook.md, 'X billing hold'). Cases keep escalating to "
            "reps by email meanwhile."
        )
        subject = f"[Turnaround ops] {error}" + (": posting still on hold" if held_since else "")
    else:
        lines = [f"{what or 'A case needs ops'}: {error}.", f"Case {case_id}. {cause[:1000]}"]
        if mention:
            username = mention.author.username
            lines.append(
                f'The customer, @{username}, wrote: "{mention.text}" ' + post_url(username, mention.tweet_id)
            )
        if case:
            lines.append(f"Assigned to: {case.assignee_email or 'nobody yet'}.")
        lines.append(
            "What to do: docs/runbook.md, 'A case workflow failed or an acknowledgement was not posted'."
        )
        text = "\n\n".join(lines)
        subject = f"[Turnaround ops] {what or 'case'}: {error} - case {case_id.rsplit('-', 1)[-1][-6:]}"
    html = render(PARAGRAPHS_HTML, html=True, paragraphs=text.split("\n\n"))
    return build_message(
        sender=playbook.sender_email,
        to=[playbook.ops_email],
        subject=subject,
        text=text,
        html=html,
    )


AMPLIFY_TEXT = """Hi {{ rep }}, the customer of case {{ ref }} (resolved) posted this about us:

"{{ post.text }}"
{{ x_post_url(username, post.tweet_id) }}

Triage reads it as praise ({{ why }}). Retweet it from the brand's account?
Nothing is retweeted unless you confirm (each link asks you to confirm):
  Retweet:        {{ links.retweet }}
  Do not retweet: {{ links.no_retweet }}
Links expire {{ expires }} and work once; no answer means no retweet.
"""

AMPLIFY_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; max-width: 640px">
<p>Hi {{ rep }}, the customer of case {{ ref }} (resolved) posted this about us:</p>
<blockquote style="border-left: 4px solid #ccc; padding-left: 8px; white-space: pre-wrap">{{ post.text }}</blockquote>
<p><a href="{{ x_post_url(username, post.tweet_id) }}">Open the post on X</a></p>
<p>Triage reads it as praise ({{ why }}). Retweet it from the brand's account? Nothing is retweeted
unless you confirm.</p>
<p><a href="{{ links.retweet }}">Retweet</a> &middot; <a href="{{ links.no_retweet }}">Do not retweet</a></p>
<p style="color: #666">Links expire {{ expires }} and work once; no answer means no retweet.</p>
</body></html>
"""


def amplify_request_email(
    *,
    playbook: Playbook,
    case: Case,
    post: FollowUpPost,
    recipient: Person,
    links: dict[str, str],
    expires_at: int,
    escalation_id: str,
) -> EmailMessage:
    """ "Retweet this?": the rep decides whether the brand amplifies a customer's praise. It has no
    reply address: an answer to a yes/no question ("no, it's sarcastic") must never reach the customer."""
    ref = case_ref(case.case_id)
    username = case.customer_username
    context = {
        "rep": recipient.name,
        "ref": ref,
        "post": post,
        "username": username,
        "why": post.triage_reason or "praise",
        "links": links,
        "expires": datetime.fromtimestamp(expires_at, UTC).strftime("%d %b %Y %H:%M UTC"),
    }
    return build_message(
        sender=playbook.sender_email,
        to=[recipient.email],
        subject=f"Retweet this? @{safe_header(username, 30)} - case {ref}",
        text=render(AMPLIFY_TEXT, html=False, **context),
        html=render(AMPLIFY_HTML, html=True, **context),
        headers={"X-Turnaround-Case": case.case_id, "X-Turnaround-Escalation": escalation_id},
    )


# Others' posts an email lists, the latest: a viral thread's thousands would take the email past
# SES's 10 MB (about 5,000 posts in Japanese), and every email of the case would be refused.
THREAD_SHOWN = 30


def _thread_shown(thread: list[Mention], mention: Mention, customer_id: str) -> dict[str, Any]:
    """Every post of the customer's in the thread, and the latest THREAD_SHOWN of everyone else's."""
    others = sorted((m for m in thread if m.tweet_id != mention.tweet_id), key=lambda m: int(m.tweet_id))
    crowd = [m.tweet_id for m in others if m.author.id != customer_id]
    left_out = set(crowd[:-THREAD_SHOWN])
    return {
        "thread": [m for m in others if m.tweet_id not in left_out],
        "thread_more": len(left_out),
    }


def ack_not_posted_email(
    *,
    playbook: Playbook,
    case: Case,
    recipient: Person,
    username: str,
    reason: str,
    headers: dict[str, str],
    how_to_answer: str = "",
) -> EmailMessage:
    """A note in the case's thread: the public acknowledgement was not posted, so the customer has
    heard nothing from us yet. ``how_to_answer``: where a reply to this email cannot reach them."""
    ref = case_ref(case.case_id)
    text = (
        f"{recipient.name}, our public acknowledgement to @{username} (case {ref}) was not posted: "
        f"{reason}.\n\nThe customer has heard nothing from us yet. "
        + (
            how_to_answer
            or "Please answer them in person (reply to this email: your reply goes to them on X), or on X"
        )
        + "; the case email's links still resolve or reassign it."
    )
    html = render(PARAGRAPHS_HTML, html=True, paragraphs=text.split("\n\n"))
    subject = f"Re: [P{case.priority}] @{safe_header(username, 30)} - case {ref}"
    return build_message(
        sender=playbook.sender_email,
        to=[recipient.email],
        subject=subject,
        text=text,
        html=html,
        headers=headers,
    )
