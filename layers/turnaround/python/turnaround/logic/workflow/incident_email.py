"""The supervisor's live digest of an incident (counts, where its cases stand, top posts, VIPs,
where cases went), and its closing summary when it ends."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from email.message import EmailMessage

from turnaround.adapters.mailer import build_message
from turnaround.logic.incidents import THREAD_TOPIC, Waiting
from turnaround.models.case import Case
from turnaround.models.incident import Incident, IncidentCase
from turnaround.models.playbook import Playbook
from turnaround.rendering import render
from turnaround.x_urls import post_url

TOP_POSTS = 10

DIGEST_TEXT = """Hi {{ supervisor }},

{% if ended %}Incident {{ incident.incident_id }} ("{{ incident.topic }}") has ended: {% if incident.ended_by %}{{ incident.ended_by }} ended it at {{ incident.ended_at.strftime("%H:%M UTC") }}{% else %}no new complaint about it for {{ quiet }} minutes{% endif %}. It ran from {{ opened }} to {{ latest }}.{% elif first %}Complaints about "{{ incident.topic }}" spiked past the playbook's threshold ({{ threshold }} within {{ window }} minutes): Turnaround opened incident {{ incident.incident_id }} at complaint {{ incident.opened_on_count }} of the window (the ones before it are ordinary cases, with their reps).{% if incident.opened_by_pile_on %} The window counts each person who piled on under @{{ incident.opened_by_pile_on }}'s complaint, as a complaint of their own would count: their thread is one case, listed below.{% endif %}{% else %}Incident {{ incident.incident_id }} ("{{ incident.topic }}") is still going.{% endif %}
{% if our_post %}
Its complaints reply to (or quote) our post: {{ our_post }}
{% endif %}
Cases in the incident: {{ cases|length }} (opened {{ opened }}, latest {{ latest }})
Joined {{ cases|length }}, acknowledged {{ acknowledged }}, resolved {{ resolved }}, still open {{ still_open|sum(attribute=1) }}
Still open by rep: {% for rep, n in still_open %}{{ rep }} {{ n }}{% if not loop.last %}, {% endif %}{% else %}none{% endfor %}
By priority: {% for p, n in by_priority %}P{{ p }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}
Acknowledgements point to the status post: {{ incident.status_url }}
Cases by rep: {% for rep, n in by_rep %}{{ rep }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}
{% if waiting %}
Waiting on you ({{ waiting|length }}): the rep did not act in time. While the incident lasts these cases come to you here, not in an email each; each one's links answer it.{% for w, c in waiting %}
  @{{ c.username }} (P{{ w.case.priority }}, rep {{ w.case.assignee_email or "none" }}, waiting since {{ w.since.strftime("%H:%M UTC") }}): "{{ c.text }}"
    {{ x_post_url(c.username, c.tweet_id) }}
    Resolved:          {{ w.links.resolved }}
    Could not resolve: {{ w.links.not_resolved }}
    Reassign:          {{ w.links.reassign }}{% endfor %}
{% endif %}
VIPs ({{ vips|length }}):{% for c in vips %}
  @{{ c.username }} ({{ "{:,}".format(c.followers) }} followers{% if c.verified %}, verified{% endif %}, P{{ c.priority }}) - {{ c.rep_email }}
    "{{ c.text }}" {{ x_post_url(c.username, c.tweet_id) }}{% else %} none{% endfor %}

Top posts by reach:{% for c in top %}
  @{{ c.username }} ({{ "{:,}".format(c.followers) }} followers, P{{ c.priority }}): "{{ c.text }}"
    {{ x_post_url(c.username, c.tweet_id) }}{% endfor %}

{% if ended %}This is the incident's last digest: the reps go on with the cases still open, each from its own email.{% if waiting %} The links above still answer the cases waiting on you; from its next reminder on, each comes in an email of its own.{% endif %}{% else %}Each case has its rep's email; this digest comes again every {{ every }} minutes while the incident lasts, and a closing summary when {{ quiet }} minutes pass without a new case.{% endif %}
{% if end_link %}
Is it over? End the incident now, even if complaints still trickle in (new ones then get ordinary cases and acknowledgements, not the status post):
  {{ end_link }}
{% endif %}"""

DIGEST_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; max-width: 640px">
<p>Hi {{ supervisor }},</p>
<p>{% if ended %}Incident {{ incident.incident_id }} (<b>{{ incident.topic }}</b>) has ended:
{% if incident.ended_by %}{{ incident.ended_by }} ended it at {{ incident.ended_at.strftime("%H:%M UTC") }}{% else %}no new
complaint about it for {{ quiet }} minutes{% endif %}. It ran from {{ opened }} to {{ latest }}.
{% elif first %}Complaints about <b>{{ incident.topic }}</b> spiked past the playbook's threshold
({{ threshold }} within {{ window }} minutes): Turnaround opened incident {{ incident.incident_id }} at
complaint {{ incident.opened_on_count }} of the window (the ones before it are ordinary cases, with their reps).
{% if incident.opened_by_pile_on %}The window counts each person who piled on under @{{ incident.opened_by_pile_on }}'s
complaint, as a complaint of their own would count: their thread is one case, listed below.{% endif %}
{% else %}Incident {{ incident.incident_id }} (<b>{{ incident.topic }}</b>) is still going.{% endif %}</p>
{% if our_post %}<p>Its complaints reply to (or quote) our post: <a href="{{ our_post }}">{{ our_post }}</a></p>{% endif %}
<p>Cases in the incident: <b>{{ cases|length }}</b> (opened {{ opened }}, latest {{ latest }})<br>
Joined {{ cases|length }}, acknowledged {{ acknowledged }}, resolved {{ resolved }}, still open {{ still_open|sum(attribute=1) }}<br>
Still open by rep: {% for rep, n in still_open %}{{ rep }} {{ n }}{% if not loop.last %}, {% endif %}{% else %}none{% endfor %}<br>
By priority: {% for p, n in by_priority %}P{{ p }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}<br>
Acknowledgements point to the status post: <a href="{{ incident.status_url }}">{{ incident.status_url }}</a><br>
Cases by rep: {% for rep, n in by_rep %}{{ rep }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}</p>
{% if waiting %}<h3>Waiting on you ({{ waiting|length }})</h3>
<p>The rep did not act in time. While the incident lasts these cases come to you here, not in an email each; each one's links answer it.</p>
<ul>{% for w, c in waiting %}<li>@{{ c.username }} (P{{ w.case.priority }}, rep {{ w.case.assignee_email or "none" }}, waiting since {{ w.since.strftime("%H:%M UTC") }}):
<a href="{{ x_post_url(c.username, c.tweet_id) }}">{{ c.text }}</a><br>
<a href="{{ w.links.resolved }}">Resolved</a> &middot; <a href="{{ w.links.not_resolved }}">Could not resolve</a>
&middot; <a href="{{ w.links.reassign }}">Reassign</a></li>{% endfor %}</ul>{% endif %}
<h3>VIPs ({{ vips|length }})</h3>
<ul>{% for c in vips %}<li>@{{ c.username }} ({{ "{:,}".format(c.followers) }} followers{% if c.verified %}, verified{% endif %}, P{{ c.priority }}) &middot; {{ c.rep_email }}:
<a href="{{ x_post_url(c.username, c.tweet_id) }}">{{ c.text }}</a></li>{% else %}<li>none</li>{% endfor %}</ul>
<h3>Top posts by reach</h3>
<ul>{% for c in top %}<li>@{{ c.username }} ({{ "{:,}".format(c.followers) }} followers, P{{ c.priority }}):
<a href="{{ x_post_url(c.username, c.tweet_id) }}">{{ c.text }}</a></li>{% endfor %}</ul>
<p style="color: #666">{% if ended %}This is the incident's last digest: the reps go on with the cases still open, each from its own email.{% if waiting %} The links above still answer the cases waiting on you; from its next reminder on, each comes in an email of its own.{% endif %}{% else %}Each case has its rep's email; this digest comes again every {{ every }} minutes while the incident lasts, and a closing summary when {{ quiet }} minutes pass without a new case.{% endif %}</p>
{% if end_link %}<p>Is it over? <a href="{{ end_link }}">End the incident now</a>, even if complaints still trickle in
(new ones then get ordinary cases and acknowledgements, not the status post).</p>{% endif %}
</body></html>
"""


def incident_digest_email(
    *,
    playbook: Playbook,
    incident: Incident,
    cases: list[IncidentCase],
    now: datetime,
    first: bool,
    standing: list[Case] | None = None,
    waiting: list[Waiting] | None = None,
    ended: bool = False,
    end_link: str | None = None,
) -> EmailMessage:
    """``standing``: the incident's cases as they are now (acknowledged, resolved, whose);
    ``waiting``: those waiting on the supervisor, listed with their links; ``end_link``: the signed
    link that ends the incident now (rep_actions/incident_end.py)."""
    settings = playbook.incidents
    reach = sorted(cases, key=lambda c: (-c.followers, c.priority, c.joined_at))
    standing = standing or []
    listed = {c.case_id: c for c in cases}
    resolved = [c for c in standing if c.resolved_at or c.status != "OPEN"]
    still_open = Counter(
        c.assignee_email or "nobody" for c in standing if not (c.resolved_at or c.status != "OPEN")
    )
    values = {
        "supervisor": playbook.supervisor.name,
        "first": first,
        "ended": ended,
        "end_link": end_link,
        "quiet": settings.quiet_minutes if settings else "",
        "acknowledged": sum(1 for c in standing if c.first_response_at),
        "resolved": len(resolved),
        "still_open": still_open.most_common(),
        "incident": incident,
        "cases": cases,
        "threshold": settings.threshold if settings else "",
        "window": settings.window_minutes if settings else "",
        "every": settings.digest_minutes if settings else "",
        "opened": incident.opened_at.strftime("%Y-%m-%d %H:%M UTC"),
        "latest": max((c.joined_at for c in cases), default=now).strftime("%H:%M UTC"),
        "by_priority": sorted(Counter(c.priority for c in cases).items()),
        "by_rep": Counter(c.rep_email for c in cases).most_common(),
        "vips": [c for c in reach if c.vip],
        "top": reach[:TOP_POSTS],
        "waiting": [(w, listed[w.case.case_id]) for w in waiting or [] if w.case.case_id in listed],
        # a backlash under a post of ours (assign.py's topic): which post, for the supervisor to open
        "our_post": post_url(incident.handle, incident.topic.removeprefix(THREAD_TOPIC))
        if incident.topic.startswith(THREAD_TOPIC)
        else None,
    }
    count = f"{len(cases)} case" + ("" if len(cases) == 1 else "s")
    kind = " - ended" if ended else " - incident opened" if first else " - update"
    if waiting:
        kind += f", {len(waiting)} waiting on you"
    subject = f"[Incident] {incident.topic}: {count}{kind}"
    return build_message(
        sender=playbook.sender_email,
        to=[playbook.supervisor.email],
        subject=subject,
        text=render(DIGEST_TEXT, html=False, **values),
        html=render(DIGEST_HTML, html=True, **values),
        headers={"X-Turnaround-Thread": incident.incident_id},
    )
