"""HTML of the rep's confirm and result pages (autoescaped)."""

from __future__ import annotations

from typing import Any

from turnaround.rendering import render

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


def result_page(title: str, message: str) -> str:
    return render(RESULT, html=True, title=title, message=message)
