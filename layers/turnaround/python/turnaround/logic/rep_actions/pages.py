"""HTML of the rep's confirm and result pages (autoescaped)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from turnaround.rendering import render

if TYPE_CHECKING:
    from turnaround.models.incident import Incident

LABELS = {
    "resolved": "Mark as resolved",
    "not_resolved": "Could not resolve",
    "reassign": "Reassign",
    "retweet": "Retweet this post",
    "no_retweet": "Do not retweet",
}

CONFIRM = """<!doctype html><html><head><meta charset="utf-8"><title>Turnaround - confirm</title></head>
<body style="font-family: sans-serif; max-width: 640px">
<h1>{{ label }}?</h1>
<p>Case {{ case.case_id }} &middot; P{{ case.priority }} &middot; @{{ mention.author.username if mention else "" }}</p>
<blockquote style="white-space: pre-wrap">{{ mention.text if mention else "" }}</blockquote>
{% if post %}<p>The customer's post after resolution{% if action == "retweet" %}, which the brand would retweet{% endif %}:</p>
<blockquote style="white-space: pre-wrap">{{ post.text }}</blockquote>{% endif %}
{% if unkept_promise %}<p style="border-left: 4px solid #c60; padding-left: 8px"><strong>The customer is still
waiting to hear from us.</strong> Our public reply promised an update and nothing has followed it:</p>
<blockquote style="white-space: pre-wrap">{{ unkept_promise }}</blockquote>
<p>Before you mark it, reply to the case email (or on X) so they hear how it ended.</p>{% endif %}
<form method="post" action="">
<input type="hidden" name="t" value="{{ token }}">
{% if action == "reassign" %}{% if choices %}<label>Reassign to
<select name="reassign_to" required><option value="" disabled selected>Choose a rep</option>
{% for rep in choices %}<option value="{{ rep.email }}">{{ rep.name }}{% if rep.topics %} ({{ rep.topics|join(", ") }}){% endif %}</option>{% endfor %}
</select></label><br>{% else %}<p>There is no other rep on the roster to reassign this case to.</p>{% endif %}{% endif %}
<label>Note for the record<br><textarea name="note" rows="4" cols="60" maxlength="2000"></textarea></label><br>
<button type="submit" id="confirm">{{ label }}</button>
</form></body></html>"""

RESULT = """<!doctype html><html><head><meta charset="utf-8"><title>Turnaround</title></head>
<body style="font-family: sans-serif; max-width: 640px"><h1>{{ title }}</h1><p>{{ message }}</p></body></html>"""


def confirm_page(**context: Any) -> str:
    """The confirm form. Reassign offers ``choices`` (ActionDesk.reassign_choices: the roster but the
    case's rep and the one asking) and preselects nobody: the rep must choose."""
    context.setdefault("post", None)
    context.setdefault("choices", [])
    context.setdefault("unkept_promise", None)
    return render(CONFIRM, html=True, label=LABELS[context["action"]], **context)


END_INCIDENT = """<!doctype html><html><head><meta charset="utf-8"><title>Turnaround - end the incident</title></head>
<body style="font-family: sans-serif; max-width: 640px">
<h1>End this incident?</h1>
<p>Incident {{ incident.incident_id }}: complaints {{ about }} to @{{ incident.handle }},
opened {{ incident.opened_at.strftime("%Y-%m-%d %H:%M UTC") }}, latest complaint {{ incident.last_case_at.strftime("%H:%M UTC") }}.</p>
<p>End it when the problem is fixed, even if complaints still trickle in. From then on:</p>
<ul>
<li>a new complaint {{ about }} is an ordinary case again: its own acknowledgement (not the one
pointing to the status post {{ incident.status_url }}), its own rep; a new spike opens a new incident;</li>
<li>the incident's cases go on with their reps; a case waiting on you gets an email of its own from its next
reminder;</li>
<li>you get the closing summary, with the cases still waiting on you and their links, at the digest
schedule's next run (within minutes).</li>
</ul>
<form method="post" action="">
<input type="hidden" name="t" value="{{ token }}">
<button type="submit" id="confirm">End the incident</button>
</form></body></html>"""


def end_incident_page(incident: Incident, token: str) -> str:
    """The confirm page of the incident digest's "End this incident" (incident_end.py)."""
    from turnaround.logic.incidents import THREAD_TOPIC
    from turnaround.x_urls import post_url

    topic = incident.topic
    about = (
        f"under our post {post_url(incident.handle, topic.removeprefix(THREAD_TOPIC))}"
        if topic.startswith(THREAD_TOPIC)
        else f"about {topic}"
    )
    return render(END_INCIDENT, html=True, incident=incident, token=token, about=about)


def result_page(title: str, message: str) -> str:
    return render(RESULT, html=True, title=title, message=message)
