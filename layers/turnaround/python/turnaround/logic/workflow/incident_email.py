"""The supervisor's live digest of an incident: counts, top posts, VIPs, and where cases went."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from email.message import EmailMessage

from turnaround.adapters.mailer import build_message
from turnaround.models.incident import Incident, IncidentCase
from turnaround.models.playbook import Playbook
from turnaround.rendering import render

TOP_POSTS = 10

DIGEST_TEXT = """Hi {{ supervisor }},

{% if first %}Complaints about "{{ incident.topic }}" spiked past the playbook's threshold ({{ threshold }} within {{ window }} minutes): Turnaround opened incident {{ incident.incident_id }} at complaint {{ incident.opened_on_count }} of the window (the ones before it are ordinary cases, with their reps).{% else %}Incident {{ incident.incident_id }} ("{{ incident.topic }}") is still going.{% endif %}

Cases in the incident: {{ cases|length }} (opened {{ opened }}, latest {{ latest }})
By priority: {% for p, n in by_priority %}P{{ p }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}
Acknowledgements point to the status post: {{ incident.status_url }}
Cases by rep: {% for rep, n in by_rep %}{{ rep }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}

VIPs ({{ vips|length }}):{% for c in vips %}
  @{{ c.username }} ({{ "{:,}".format(c.followers) }} followers{% if c.verified %}, verified{% endif %}, P{{ c.priority }}) - {{ c.rep_email }}
    "{{ c.text }}" https://x.com/{{ c.username }}/status/{{ c.tweet_id }}{% else %} none{% endfor %}

Top posts by reach:{% for c in top %}
  @{{ c.username }} ({{ "{:,}".format(c.followers) }} followers, P{{ c.priority }}): "{{ c.text }}"
    https://x.com/{{ c.username }}/status/{{ c.tweet_id }}{% endfor %}

Each case has its rep's email; this digest comes again at most every {{ every }} minutes while cases join.
"""

DIGEST_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; max-width: 640px">
<p>Hi {{ supervisor }},</p>
<p>{% if first %}Complaints about <b>{{ incident.topic }}</b> spiked past the playbook's threshold
({{ threshold }} within {{ window }} minutes): Turnaround opened incident {{ incident.incident_id }} at
complaint {{ incident.opened_on_count }} of the window (the ones before it are ordinary cases, with their reps).
{% else %}Incident {{ incident.incident_id }} (<b>{{ incident.topic }}</b>) is still going.{% endif %}</p>
<p>Cases in the incident: <b>{{ cases|length }}</b> (opened {{ opened }}, latest {{ latest }})<br>
By priority: {% for p, n in by_priority %}P{{ p }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}<br>
Acknowledgements point to the status post: <a href="{{ incident.status_url }}">{{ incident.status_url }}</a><br>
Cases by rep: {% for rep, n in by_rep %}{{ rep }} {{ n }}{% if not loop.last %}, {% endif %}{% endfor %}</p>
<h3>VIPs ({{ vips|length }})</h3>
<ul>{% for c in vips %}<li>@{{ c.username }} ({{ "{:,}".format(c.followers) }} followers{% if c.verified %}, verified{% endif %}, P{{ c.priority }}) &middot; {{ c.rep_email }}:
<a href="https://x.com/{{ c.username }}/status/{{ c.tweet_id }}">{{ c.text }}</a></li>{% else %}<li>none</li>{% endfor %}</ul>
<h3>Top posts by reach</h3>
<ul>{% for c in top %}<li>@{{ c.username }} ({{ "{:,}".format(c.followers) }} followers, P{{ c.priority }}):
<a href="https://x.com/{{ c.username }}/status/{{ c.tweet_id }}">{{ c.text }}</a></li>{% endfor %}</ul>
<p style="color: #666">Each case has its rep's email; this digest comes again at most every {{ every }} minutes while cases join.</p>
</body></html>
"""


def incident_digest_email(
    *, playbook: Playbook, incident: Incident, cases: list[IncidentCase], now: datetime, first: bool
) -> EmailMessage:
    settings = playbook.incidents
    reach = sorted(cases, key=lambda c: (-c.followers, c.priority, c.joined_at))
    values = {
        "supervisor": playbook.supervisor.name,
        "first": first,
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
    }
    count = f"{len(cases)} case" + ("" if len(cases) == 1 else "s")
    subject = f"[Incident] {incident.topic}: {count}" + (" - incident opened" if first else " - update")
    return build_message(
        sender=playbook.sender_email,
        to=[playbook.supervisor.email],
        subject=subject,
        text=render(DIGEST_TEXT, html=False, **values),
        html=render(DIGEST_HTML, html=True, **values),
        headers={"X-Turnaround-Thread": incident.incident_id},
    )
