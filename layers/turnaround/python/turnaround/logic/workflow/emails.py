"""Emails to reps, supervisors and ops. HTML is autoescaped; headers are single-line and sanitised."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from turnaround.adapters.mailer import build_message, safe_header
from turnaround.models.case import Case, FollowUpPost, StoredDm
from turnaround.models.mention import Mention
from turnaround.models.playbook import Person, Playbook
from turnaround.rendering import render

ESCALATION_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; max-width: 640px">
<p>{{ intro }}</p>
<h2>Priority P{{ case.priority }} &middot; {{ severity }} &middot; case {{ ref }}</h2>
<blockquote style="border-left: 4px solid #ccc; padding-left: 8px; white-space: pre-wrap">{{ mention.text }}</blockquote>
<p><b>{{ mention.author.name }}</b> @{{ mention.author.username }} &middot; {{ "{:,}".format(followers) }} followers
{% if mention.author.verified %}&middot; verified{% endif %} &middot; sentiment {{ "%+.2f"|format(sentiment) }}<br>
<a href="{{ post_url }}">Open the post on X</a></p>
<p>Why: {{ reasons }}</p>
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
{% if thread %}
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
) -> EmailMessage:
    ref = case.case_id.rsplit("-", 1)[-1][-6:]
    username = mention.author.username
    if supervisor:
        intro = f"Hi {recipient.name}, this case has had no response from the assigned rep within the SLA."
    elif reminder:
        intro = f"Reminder, {recipient.name}: this case is still waiting for you."
    else:
        intro = f"Hi {recipient.name}, a new case on X is yours."
    context = {
        "intro": intro,
        "case": case,
        "mention": mention,
        "ref": ref,
        "severity": mention.triage.severity or mention.triage.category,
        "followers": mention.author.followers,
        "sentiment": mention.triage.sentiment,
        "reasons": ", ".join(mention.triage.reasons),
        "post_url": f"https://x.com/{username}/status/{mention.tweet_id}",
        "thread": [m for m in thread if m.tweet_id != mention.tweet_id],
        "dms": dms,
        "conversation": conversation or [],
        "reply_to": bool(reply_headers),
        "links": links,
        "fallback": playbook.render("dm_fallback_note", key=case.case_id, first_name=username)
        if case.dm_refused
        else "",
        "expires": datetime.fromtimestamp(expires_at, UTC).strftime("%d %b %Y %H:%M UTC"),
    }
    # A reminder says so, to the supervisor too: each email of a case reads differently.
    prefix = ("Reminder: " if reminder else "") + ("Escalated: " if supervisor else "")
    subject = f"{prefix}[P{case.priority}] @{safe_header(username, 30)} - case {ref}"
    return build_message(
        sender=playbook.sender_email,
        to=[recipient.email],
        subject=subject,
        text=render(ESCALATION_TEXT, html=False, **context),
        html=render(ESCALATION_HTML, html=True, **context),
        # One escalation, one email: a reminder is a new escalation (and says so in its subject).
        headers={"X-Turnaround-Case": case.case_id}
        | ({"X-Turnaround-Escalation": escalation_id} if escalation_id else {})
        | (reply_headers or {}),
    )


def ops_alert_email(*, playbook: Playbook, case_id: str, error: str, cause: str) -> EmailMessage:
    text = (
        f"Turnaround stopped posting to X: {error}.\n\nCase {case_id} hit it. {cause}\n\n"
        "Top up X credits (or raise the usage cap), then delete the HOLD#x-billing item from the "
        "table to resume posting. Cases keep escalating to reps by email meanwhile."
    )
    html = render("<p>{{ text }}</p>", html=True, text=text)
    return build_message(
        sender=playbook.sender_email,
        to=[playbook.ops_email],
        subject=f"[Turnaround ops] {error}",
        text=text,
        html=html,
    )


AMPLIFY_TEXT = """Hi {{ rep }}, the customer of case {{ ref }} (resolved) posted this about us:

"{{ post.text }}"
https://x.com/{{ username }}/status/{{ post.tweet_id }}

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
<p><a href="https://x.com/{{ username }}/status/{{ post.tweet_id }}">Open the post on X</a></p>
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
    """ "Retweet this?": the rep decides whether the brand amplifies a customer's praise."""
    ref = case.case_id.rsplit("-", 1)[-1][-6:]
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
