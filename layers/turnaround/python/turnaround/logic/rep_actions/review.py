"""The unsure queue: posts triage could not decide reach a person, who opens a case or says no.

Ingest files every ``unsure`` post under ``REVIEW#<handle>``. ``UnsureDigestFunction`` emails the
on-duty rep a digest of the posts still waiting, each with two signed links, "Open a case" and "Not a
complaint". As with escalation links, GET shows a confirm page and changes nothing; POST verifies
the signature again and decides once (a conditional write: a replayed or sibling link gets 409).
"Open a case" opens the case exactly as ingest would have (one transaction: case, thread pointer,
the mention's case id), so the table's stream starts the workflow; "Not a complaint" relabels the
mention. Every decision stays on the review item: labelled posts of the brand's own, to train on.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage

from turnaround.adapters.mailer import Mailer, build_message
from turnaround.clock import utc_now
from turnaround.dal.review_queue import ReviewQueue, open_case_for
from turnaround.exceptions import StorageError
from turnaround.logic.effects import Effects, nothing_went_out
from turnaround.logic.rep_actions.links import ActionLinkUsed, PurposeLinkSigner
from turnaround.models.mention import Mention
from turnaround.models.playbook import Person, Playbook
from turnaround.models.review import Decision, ReviewClaim
from turnaround.observability import logger
from turnaround.rendering import render
from turnaround.x_urls import post_url, profile_url

DECISIONS: tuple[Decision, ...] = ("open_case", "not_complaint")
LABELS = {"open_case": "Open a case", "not_complaint": "Not a complaint"}
DIGEST_LIMIT = 50


class ReviewLinkSigner(PurposeLinkSigner[ReviewClaim]):
    """The unsure digest's links."""

    purpose = "review"
    claim_type = ReviewClaim


DIGEST_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; max-width: 640px">
<p>Hi {{ recipient }},{% if posts %} triage could not decide about {{ posts|length }} post{{ "s" if posts|length != 1 }}
to @{{ handle }}. Please open a case for each complaint and mark the rest "not a complaint".{% endif %}</p>
{% for p in posts %}<hr>
<blockquote style="border-left: 4px solid #ccc; padding-left: 8px; white-space: pre-wrap">{{ p.text }}</blockquote>
<p>@{{ p.username }} &middot; {{ "{:,}".format(p.followers) }} followers{% if p.lang %} &middot; language {{ p.lang }}{% endif %}
&middot; queued {{ p.queued }}<br>Why unsure: {{ p.reasons }}<br><a href="{{ p.url }}">Open the post on X</a></p>
<p><a href="{{ p.links.open_case }}">Open a case</a> &middot; <a href="{{ p.links.not_complaint }}">Not a complaint</a></p>
{% endfor %}
{% if posts %}<p style="color: #666">Each link asks you to confirm. Links expire {{ expires }}; a post stays in the digest until decided.</p>{% endif %}
{% if dms %}<h3>{{ dms|length }} direct message{{ "s" if dms|length != 1 }} from customers with no open case</h3>
<p>Nothing was sent to them; please answer in X's inbox (each is shown once).</p>
{% for d in dms %}<hr>
<blockquote style="border-left: 4px solid #ccc; padding-left: 8px; white-space: pre-wrap">{{ d.text }}</blockquote>
<p>From X user {{ d.sender_id }} &middot; sent {{ d.sent }}<br><a href="{{ d.url }}">Open their profile on X</a></p>
{% endfor %}{% endif %}
</body></html>
"""

DIGEST_TEXT = """Hi {{ recipient }},
{% if posts %}
triage could not decide about {{ posts|length }} post(s) to @{{ handle }}.
Open a case for each complaint; mark the rest "not a complaint" (each link asks you to confirm).
{% for p in posts %}
"{{ p.text }}"
@{{ p.username }} - {{ p.followers }} followers{% if p.lang %} - language {{ p.lang }}{% endif %} - queued {{ p.queued }}
Why unsure: {{ p.reasons }}
{{ p.url }}
  Open a case:     {{ p.links.open_case }}
  Not a complaint: {{ p.links.not_complaint }}
{% endfor %}
Links expire {{ expires }}.
{% endif %}{% if dms %}
{{ dms|length }} direct message(s) to @{{ handle }} from customers with no open case. Nothing was
sent to them; please answer in X's inbox (each is shown once).
{% for d in dms %}
"{{ d.text }}"
From X user {{ d.sender_id }} - sent {{ d.sent }}
{{ d.url }}
{% endfor %}{% endif %}
"""


@dataclass
class UnsureDigest:
    queue: ReviewQueue
    mailer: Mailer
    signer: ReviewLinkSigner
    playbook: Playbook
    action_url: str
    clock: Callable[[], datetime] = utc_now

    def reviewer(self) -> Person:
        return self.playbook.reviewer or self.playbook.choose_rep("", 4)

    def send(self, handle: str) -> int:
        """Email the posts waiting for a person, if any arrived since the last digest. Returns how many."""
        now = self.clock()
        waiting = self.queue.waiting(handle)
        # Each new post is claimed for one digest by a conditional write, so two runs at once (a
        # schedule firing twice) never email the same news twice; a failed send releases them.
        fresh = [item for item in waiting if not item.digested_at and self.queue.claim(item, now)]
        fresh_dms = [
            dm for dm in self.queue.waiting_dms(handle)[:DIGEST_LIMIT] if self.queue.claim_dm(dm, now)
        ]
        if not fresh and not fresh_dms:
            return 0
        shown = waiting[-DIGEST_LIMIT:]  # every post still waiting for a decision
        expires_at = self.playbook.sla.links_expire_at(now)
        posts = []
        for item in shown:
            mention = self.queue.store.mentions.get(item.tweet_id)
            links = {
                decision: f"{self.action_url.rstrip('/')}/review?t="
                + self.signer.sign(
                    ReviewClaim(
                        handle=handle,
                        review_key=item.review_key,
                        tweet_id=item.tweet_id,
                        decision=decision,
                        expires_at=expires_at,
                    )
                )
                for decision in DECISIONS
            }
            username = mention.author.username if mention else ""
            posts.append(
                {
                    "text": mention.text if mention else "",
                    "username": username,
                    "followers": mention.author.followers if mention else 0,
                    "lang": mention.triage.lang if mention else None,
                    "reasons": ", ".join(mention.triage.reasons) if mention else "",
                    "queued": item.queued_at.strftime("%Y-%m-%d %H:%M") + " UTC",
                    "url": post_url(username, item.tweet_id),
                    "links": links,
                }
            )
        dms = [
            {
                "text": dm.text,
                "sender_id": dm.sender_id,
                "sent": (dm.created_at or dm.queued_at).strftime("%Y-%m-%d %H:%M") + " UTC",
                "url": profile_url(dm.sender_id),  # their profile: "Message" opens the chat
            }
            for dm in fresh_dms
        ]
        recipient = self.reviewer()
        context = {
            "recipient": recipient.name,
            "handle": handle,
            "posts": posts,
            "dms": dms,
            "expires": datetime.fromtimestamp(expires_at, UTC).strftime("%d %b %Y %H:%M UTC"),
        }
        message: EmailMessage = build_message(
            sender=self.playbook.sender_email,
            to=[recipient.email],
            subject=f"Triage {now.strftime('%d %b %H:%M')} UTC: "
            + " and ".join(
                part
                for part in (
                    f"{len(posts)} post(s) ({len(fresh)} new)" if posts else "",
                    f"{len(dms)} DM(s) with no case" if dms else "",
                )
                if part
            )
            + f" to @{handle} need a person",
            text=render(DIGEST_TEXT, html=False, **context),  # plain text: never HTML-escaped
            html=render(DIGEST_HTML, html=True, **context),
            headers={"X-Turnaround-Review": handle},
        )
        # One effect per set of new posts: a failure that proves nothing went out releases the posts
        # for the next run; after a timeout the digest may have gone out, so they stay claimed.
        keys = [item.review_key for item in fresh] + [f"DM#{dm.review_key}" for dm in fresh_dms]
        news = hashlib.sha256(" ".join(sorted(keys)).encode()).hexdigest()[:24]
        effects = Effects(self.queue.store, self.clock)
        try:
            effects.at_most_once(
                f"REVIEW#{handle}#digest#{news}", lambda: {"result_id": self.mailer.send(message)}
            )
        except Exception as error:
            if nothing_went_out(error):
                for item in fresh:
                    self.queue.release(item)
                for dm in fresh_dms:
                    self.queue.release_dm(dm)
            raise
        logger.info(
            "unsure digest sent",
            extra={"handle": handle, "posts": len(posts), "new": len(fresh), "dms": len(dms)},
        )
        return len(posts) + len(dms)


@dataclass
class ReviewDesk:
    """What the digest's links do: GET previews (no effect), POST decides once."""

    queue: ReviewQueue
    signer: ReviewLinkSigner
    clock: Callable[[], datetime] = utc_now

    def preview(self, token: str) -> tuple[ReviewClaim, Mention | None]:
        claim = self.signer.verify(token, now=self.clock())
        item = self.queue.get(claim.handle, claim.review_key)
        if item is None or item.tweet_id != claim.tweet_id:
            raise ActionLinkUsed("this link no longer belongs to a post waiting for review")
        if item.state != "PENDING":
            raise ActionLinkUsed(f"this post was already decided: {LABELS.get(str(item.decision), '')}")
        return claim, self.queue.store.mentions.get(claim.tweet_id)

    def act(self, token: str, *, by: str = "the on-duty rep") -> Decision:
        claim, mention = self.preview(token)
        if mention is None:
            raise StorageError(f"post {claim.tweet_id} is queued for review but not stored")
        now = self.clock()
        if not self.queue.decide(claim, at=now):
            raise ActionLinkUsed("this post was already decided")
        if claim.decision == "open_case":
            case_id = open_case_for(self.queue.store, mention, opened_at=now, by=by)
            logger.info("case opened from the unsure queue", extra={"case_id": case_id})
        else:
            triage = mention.triage.model_copy(
                update={"category": "other", "reasons": [*mention.triage.reasons, f"{by}: not a complaint"]}
            )
            self.queue.store.mentions.set_triage(claim.tweet_id, triage)
        return claim.decision


REVIEW_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ label }}</title></head>
<body style="font-family: sans-serif; max-width: 640px">
<h2>{{ label }}?</h2>
<blockquote style="border-left: 4px solid #ccc; padding-left: 8px; white-space: pre-wrap">{{ text }}</blockquote>
<p>@{{ username }}</p>
<form method="post"><input type="hidden" name="t" value="{{ token }}">
<button type="submit">{{ label }}</button></form>
</body></html>
"""


def review_page(claim: ReviewClaim, mention: Mention | None, token: str) -> str:
    return render(
        REVIEW_PAGE,
        html=True,
        label=LABELS[claim.decision],
        text=mention.text if mention else "",
        username=mention.author.username if mention else "",
        token=token,
    )
