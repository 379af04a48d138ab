"""Emails of the reply-by-email conversation: the customer's DMs and new posts forwarded to the rep,
and the outcome of each emailed reply (what was posted, or why nothing was).

Every email about a case refers to the case's thread anchor (``References``/``In-Reply-To``) and keeps
the escalation's subject behind "Re: ", so mail clients (Gmail threads on subject plus references)
show the case as one conversation; ``Reply-To`` is the case's signed reply address.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from turnaround.adapters.mailer import build_message, safe_header
from turnaround.logic.reply_mail.reply_address import thread_anchor
from turnaround.logic.workflow.voice import case_ref, supervisor_copied
from turnaround.models.case import Case
from turnaround.models.playbook import Playbook
from turnaround.rendering import render

OUTCOME_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; max-width: 640px">
<p><b>{{ headline }}</b></p>
{% if text %}<blockquote style="border-left: 4px solid #ccc; padding-left: 8px; white-space: pre-wrap">
{{- text -}}
</blockquote>{% endif %}
{% for line in notes %}<p>{{ line }}</p>{% endfor %}
<p style="color: #666">Reply to this email to write to the customer again (only your new text is used;
quoted history and your signature are left out). The links in the case email still resolve,
reassign or give up the case.</p>
</body></html>
"""


def case_subject(case: Case) -> str:
    """The escalation email's subject without its Reminder/Escalated prefix (see emails.py)."""
    ref = case_ref(case.case_id)
    return f"[P{case.priority}] @{safe_header(case.customer_username, 30)} - case {ref}"


def thread_headers(
    case_id: str, domain: str, *, reply_to: str | None, in_reply_to: str | None = None
) -> dict[str, str]:
    anchor = thread_anchor(case_id, domain)
    parent = in_reply_to if in_reply_to and in_reply_to.startswith("<") else None
    headers = {
        "In-Reply-To": parent or anchor,
        "References": f"{anchor} {parent}" if parent else anchor,
        "X-Turnaround-Thread": case_id,
    }
    if reply_to:
        headers["Reply-To"] = reply_to
    return headers


def thread_email(
    *,
    playbook: Playbook,
    to: str,
    subject: str,
    headline: str,
    text: str,
    notes: list[str],
    headers: dict[str, str],
    copy: list[str] | None = None,
) -> EmailMessage:
    """An email in the case's thread: a headline, the text it is about (quoted) and notes. A reply's
    outcome is one (what was posted and where, or why nothing was, with the rep's text kept)."""
    plain = "\n\n".join(
        [headline, *(["\n".join("  " + line for line in text.splitlines())] if text else []), *notes]
    )
    plain += (
        "\n\nReply to this email to write to the customer again (only your new text is used; quoted "
        "history and your signature are left out).\n"
    )
    html = render(OUTCOME_HTML, html=True, headline=headline, text=text, notes=notes)
    return build_message(
        sender=playbook.sender_email, to=[to, *(copy or [])], subject=subject, text=plain, html=html,
        headers=headers,
    )  # fmt: skip


def customer_dm_email(
    *,
    playbook: Playbook,
    to: str,
    subject: str,
    username: str,
    text: str,
    at: datetime | None,
    headers: dict[str, str],
    copy: list[str] | None = None,
) -> EmailMessage:
    when = at.strftime("%d %b %H:%M UTC") if at else "just now"
    return thread_email(
        playbook=playbook,
        to=to,
        subject=subject,
        headline=f"@{username} sent a direct message on X ({when}):",
        text=text,
        notes=["Your reply to this email is sent to them as a DM."],
        headers=headers,
        copy=copy,
    )


def customer_post_email(
    *,
    playbook: Playbook,
    to: str,
    subject: str,
    username: str,
    text: str,
    url: str,
    at: datetime | None,
    edited: bool,
    headers: dict[str, str],
    sensitive: str | None = None,
    details_shown: str | None = None,
    copy: list[str] | None = None,
) -> EmailMessage:
    """A post the customer added to their case's thread. One that names a sensitive situation ("he is
    in hospital now": logic/triage_sensitive.py) copies the supervisor, as the case's first email
    would have: they hear of it now. ``details_shown``: the personal details the post shows in
    public (described, masked), which the rep is warned of."""
    when = at.strftime("%d %b %H:%M UTC") if at else "just now"
    did = "edited their post" if edited else "posted again in the case's thread"
    copied = supervisor_copied(playbook, sensitive, to)
    also = list(dict.fromkeys([*(copy or []), *copied]))
    urgent = [
        f"This post is about {sensitive}: please answer it yourself, soon. {playbook.supervisor.name} "
        "(supervisor) is copied."
    ] if copied else []  # fmt: skip
    exposed = [
        f"Their post shows their personal details in public: {details_shown}. Never repeat them in a "
        "reply; ask them to DM us instead, and suggest they delete the post."
    ] if details_shown else []  # fmt: skip
    return thread_email(
        playbook=playbook,
        to=to,
        subject=subject,
        headline=f"@{username} {did} on X ({when}):",
        text=text,
        notes=[
            *urgent,
            *exposed,
            url,
            "Your reply to this email goes to them as a DM if they have DMed us, otherwise publicly "
            "in their thread on X.",
        ],
        headers=headers,
        copy=also,
    )


PILE_ON_SHOWN = 10


def pile_on_email(
    *,
    playbook: Playbook,
    to: str,
    subject: str,
    username: str,
    people: int,
    posts: list[tuple[str, str, str]],
    headers: dict[str, str],
    supervisor: list[str],
    copy: list[str] | None = None,
) -> EmailMessage:
    """Others pile on under the customer's complaint: how many, their newest posts (username, text,
    url), and what to do. ``supervisor``: copied from the second alert on."""
    shown = [f'@{who}: "{text}"\n  {url}' for who, text, url in posts[:PILE_ON_SHOWN]]
    hidden = len(posts) - PILE_ON_SHOWN
    more = [f"... and {hidden} more posts in the thread."] if hidden > 0 else []
    return thread_email(
        playbook=playbook,
        to=to,
        subject=subject,
        headline=f"Pile-on: {people} other people have joined @{username}'s complaint on X, newest first:",
        text="",
        notes=[
            *shown,
            *more,
            "They get no reply of their own from us (one case, one reply). Everyone in the thread sees "
            f"a public answer to @{username}: replying to this email posts one (as a DM instead if "
            "they have DMed us)."
            + (f" {playbook.supervisor.name} (supervisor) is copied." if supervisor else ""),
        ],
        headers=headers,
        copy=list(dict.fromkeys([*(copy or []), *supervisor])),
    )
