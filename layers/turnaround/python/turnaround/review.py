"""The unsure queue: posts triage could not decide reach a person, who opens a case or says no.

Ingest files every ``unsure`` post under ``REVIEW#<handle>``. ``UnsureDigestFunction`` emails the
on-duty rep a digest of the posts still waiting, each with two signed links, "Open a case" and "Not a
complaint". As with escalation links, GET shows a confirm page and changes nothing; POST verifies
the signature again and decides once (a conditional write: a replayed or sibling link gets 409).
"Open a case" opens the case exactly as ingest would have (one transaction: case, thread pointer,
the mention's case id), so the table's stream starts the workflow; "Not a complaint" relabels the
mention. Every decision stays on the review item: labelled posts of the brand's own, to train on.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from functools import cache
from typing import Any, Literal

from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from jinja2 import Environment, StrictUndefined, select_autoescape
from pydantic import BaseModel, ValidationError

from turnaround.adapters.mailer import Mailer, build_message
from turnaround.adapters.store import MentionStore, _to_item
from turnaround.clock import utc_now
from turnaround.exceptions import StorageError
from turnaround.links import MAX_TOKEN_LENGTH, ActionLinkExpired, ActionLinkInvalid, ActionLinkUsed
from turnaround.models import CaseStatus, Mention
from turnaround.observability import logger, metrics
from turnaround.playbook import Person, Playbook

Decision = Literal["open_case", "not_complaint"]
DECISIONS: tuple[Decision, ...] = ("open_case", "not_complaint")
LABELS = {"open_case": "Open a case", "not_complaint": "Not a complaint"}
DIGEST_LIMIT = 50
RETENTION = timedelta(days=30)


class ReviewClaim(BaseModel):
    handle: str
    review_key: str
    tweet_id: str
    decision: Decision
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class ReviewLinkSigner:
    """HMAC-SHA256 like escalation links, with the key bound to this purpose: one link kind can
    never be replayed as the other."""

    def __init__(self, secret: bytes):
        if len(secret) < 32:
            raise ValueError("action link secret must be at least 32 bytes")
        self._key = hmac.new(secret, b"turnaround review links", hashlib.sha256).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())

    def sign(self, claim: ReviewClaim) -> str:
        body = _b64(json.dumps(claim.model_dump(), separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str, *, now: datetime) -> ReviewClaim:
        if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1 or not token.isascii():
            raise ActionLinkInvalid("malformed review link")
        body, mac = token.split(".")
        if not hmac.compare_digest(mac, self._mac(body)):
            raise ActionLinkInvalid("review link signature does not match")
        try:
            claim = ReviewClaim.model_validate_json(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, ValidationError) as exc:
            raise ActionLinkInvalid("review link payload is invalid") from exc
        if now.timestamp() >= claim.expires_at:
            raise ActionLinkExpired("this review link has expired")
        return claim


@dataclass
class ReviewQueue:
    store: MentionStore

    @staticmethod
    def key(tweet_id: str) -> str:
        """Post ids grow with time, so zero-padded they keep the queue oldest first."""
        return f"{int(tweet_id):020d}"

    def add(self, mention: Mention) -> None:
        """File an unsure post once (a re-read post is already there)."""
        item = _to_item(
            {
                "pk": f"REVIEW#{mention.handle}",
                "sk": self.key(mention.tweet_id),
                "type": "review",
                "state": "PENDING",
                "tweet_id": mention.tweet_id,
                "handle": mention.handle,
                "queued_at": mention.ingested_at.isoformat(),
                "expires_at": int((mention.ingested_at + RETENTION).timestamp()),
            }
        )
        try:
            self.store.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise StorageError(f"could not queue {mention.tweet_id} for review: {exc}") from exc
            return
        metrics.add_metric(name="MentionsUnsure", unit=MetricUnit.Count, value=1)

    def waiting(self, handle: str) -> list[dict[str, Any]]:
        """Posts not yet decided, oldest first."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(f"REVIEW#{handle}"),
            "FilterExpression": Attr("state").eq("PENDING"),
            "ConsistentRead": True,
        }
        while True:
            page = self.store.table.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def claim(self, item: dict[str, Any], at: datetime) -> bool:
        """Claim a new post for one digest; False if another run already has it."""
        try:
            self.store.table.update_item(
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET digested_at = :at",
                ConditionExpression="attribute_not_exists(digested_at)",
                ExpressionAttributeValues={":at": at.isoformat()},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"could not claim {item['tweet_id']} for a digest: {exc}") from exc
        return True

    def release(self, item: dict[str, Any]) -> None:
        self.store.table.update_item(
            Key={"pk": item["pk"], "sk": item["sk"]}, UpdateExpression="REMOVE digested_at"
        )

    def get(self, handle: str, review_key: str) -> dict[str, Any] | None:
        return self.store.table.get_item(Key={"pk": f"REVIEW#{handle}", "sk": review_key}).get("Item")

    def decide(self, claim: ReviewClaim, *, at: datetime) -> bool:
        """Record the decision once; False if the post was already decided."""
        try:
            self.store.table.update_item(
                Key={"pk": f"REVIEW#{claim.handle}", "sk": claim.review_key},
                UpdateExpression="SET #state = :decided, decision = :decision, decided_at = :at",
                ConditionExpression="#state = :pending",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":decided": "DECIDED",
                    ":pending": "PENDING",
                    ":decision": claim.decision,
                    ":at": at.isoformat(),
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise StorageError(f"could not record the decision on {claim.tweet_id}: {exc}") from exc
        return True


def _plain(value: Any) -> Any:
    """DynamoDB's Decimals back to JSON numbers, so a read item can be written again."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def open_case_for(store: MentionStore, mention: dict[str, Any], *, opened_at: datetime, by: str) -> str:
    """Open the case ingest would have opened for this post: case + thread pointer + mention, at once.

    If its thread already has a case, the post joins it instead. The new CASE item reaches the
    dispatcher through the table's stream, like any case.
    """
    tweet_id, conversation_id = str(mention["tweet_id"]), str(mention["conversation_id"])
    triage = {
        **_plain(mention["triage"]),
        "category": "complaint",
        "reasons": [*mention["triage"].get("reasons", []), f"opened by {by} from the unsure queue"],
    }
    pointer = store.table.get_item(Key={"pk": f"CONVERSATION#{conversation_id}", "sk": "CASE"}).get("Item")
    if pointer:  # the thread has a case: attach, as ingest does
        case_id = str(pointer["case_id"])
        store.update_item_fields(
            f"MENTION#{tweet_id}", "MENTION", case_id=case_id, triage=triage,
            gsi1pk=f"CASE#{case_id}", gsi1sk=f"MENTION#{tweet_id}",
        )  # fmt: skip
        return case_id
    case_id = f"case-{tweet_id}"
    author, severity = mention["author"], triage.get("severity")
    case = _to_item(
        {
            "pk": f"CASE#{case_id}",
            "sk": "CASE",
            "type": "case",
            "case_id": case_id,
            "status": CaseStatus.OPEN,
            "handle": mention["handle"],
            "root_tweet_id": tweet_id,
            "conversation_id": conversation_id,
            "customer_id": author["id"],
            "customer_username": author["username"],
            "priority": int(triage.get("priority", 4)),
            "severity": severity,
            "route": "offline" if severity in ("charged", "complex") else "public",
            "opened_at": opened_at.isoformat(),
            "opened_by": by,
            "mention_count": 1,
            "gsi1pk": f"CUSTOMER#{author['id']}",
            "gsi1sk": f"{CaseStatus.OPEN}#{opened_at.isoformat()}",
        }
    )
    try:
        store.table.meta.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": store.table_name, "Item": case, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": store.table_name, "Item": {"pk": f"CONVERSATION#{conversation_id}", "sk": "CASE", "case_id": case_id}, "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Update": {
                    "TableName": store.table_name,
                    "Key": {"pk": f"MENTION#{tweet_id}", "sk": "MENTION"},
                    "UpdateExpression": "SET case_id = :case, triage = :triage, gsi1pk = :g1, gsi1sk = :g1s",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(case_id)",
                    "ExpressionAttributeValues": _to_item({":case": case_id, ":triage": triage, ":g1": f"CASE#{case_id}", ":g1s": f"MENTION#{tweet_id}"}),
                }},
            ]
        )  # fmt: skip
    except ClientError as exc:
        raise StorageError(f"could not open a case for {tweet_id}: {exc}") from exc
    return case_id


DIGEST_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; max-width: 640px">
<p>Hi {{ recipient }}, triage could not decide about {{ posts|length }} post{{ "s" if posts|length != 1 }}
to @{{ handle }}. Please open a case for each complaint and mark the rest "not a complaint".</p>
{% for p in posts %}<hr>
<blockquote style="border-left: 4px solid #ccc; padding-left: 8px; white-space: pre-wrap">{{ p.text }}</blockquote>
<p>@{{ p.username }} &middot; {{ "{:,}".format(p.followers) }} followers{% if p.lang %} &middot; language {{ p.lang }}{% endif %}
&middot; queued {{ p.queued }}<br>Why unsure: {{ p.reasons }}<br><a href="{{ p.url }}">Open the post on X</a></p>
<p><a href="{{ p.links.open_case }}">Open a case</a> &middot; <a href="{{ p.links.not_complaint }}">Not a complaint</a></p>
{% endfor %}
<p style="color: #666">Each link asks you to confirm. Links expire {{ expires }}; a post stays in the digest until decided.</p>
</body></html>
"""

DIGEST_TEXT = """Hi {{ recipient }}, triage could not decide about {{ posts|length }} post(s) to @{{ handle }}.
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
"""


@cache
def _env(html: bool) -> Environment:
    return Environment(undefined=StrictUndefined, autoescape=select_autoescape(default=html))


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
        fresh = [item for item in waiting if not item.get("digested_at") and self.queue.claim(item, now)]
        if not fresh:
            return 0
        shown = waiting[-DIGEST_LIMIT:]
        expires_at = int((now + timedelta(seconds=self.playbook.sla.action_link_ttl_seconds)).timestamp())
        posts = []
        for item in shown:
            mention = self.queue.store.get_mention(str(item["tweet_id"])) or {}
            author = mention.get("author", {})
            triage = mention.get("triage", {})
            links = {
                decision: f"{self.action_url.rstrip('/')}/review?t="
                + self.signer.sign(
                    ReviewClaim(
                        handle=handle,
                        review_key=str(item["sk"]),
                        tweet_id=str(item["tweet_id"]),
                        decision=decision,
                        expires_at=expires_at,
                    )
                )
                for decision in DECISIONS
            }
            posts.append(
                {
                    "text": str(mention.get("text", "")),
                    "username": str(author.get("username", "")),
                    "followers": int(author.get("followers", 0)),
                    "lang": triage.get("lang"),
                    "reasons": ", ".join(triage.get("reasons", [])),
                    "queued": str(item.get("queued_at", ""))[:16].replace("T", " ") + " UTC",
                    "url": f"https://x.com/{author.get('username', 'i')}/status/{item['tweet_id']}",
                    "links": links,
                }
            )
        recipient = self.reviewer()
        context = {
            "recipient": recipient.name,
            "handle": handle,
            "posts": posts,
            "expires": datetime.fromtimestamp(expires_at, UTC).strftime("%d %b %Y %H:%M UTC"),
        }
        message: EmailMessage = build_message(
            sender=self.playbook.sender_email,
            to=[recipient.email],
            subject=f"Triage {now.strftime('%d %b %H:%M')} UTC: {len(posts)} post(s) to @{handle} "
            f"need a person ({len(fresh)} new)",
            text=_env(False).from_string(DIGEST_TEXT).render(context),
            html=_env(True).from_string(DIGEST_HTML).render(context),
            headers={"X-Turnaround-Review": handle},
        )
        try:
            self.mailer.send(message)
        except Exception:
            for item in fresh:
                self.queue.release(item)
            raise
        logger.info("unsure digest sent", extra={"handle": handle, "posts": len(posts), "new": len(fresh)})
        return len(posts)


@dataclass
class ReviewDesk:
    """What the digest's links do: GET previews (no effect), POST decides once."""

    queue: ReviewQueue
    signer: ReviewLinkSigner
    clock: Callable[[], datetime] = utc_now

    def preview(self, token: str) -> tuple[ReviewClaim, dict[str, Any]]:
        claim = self.signer.verify(token, now=self.clock())
        item = self.queue.get(claim.handle, claim.review_key)
        if item is None or str(item.get("tweet_id")) != claim.tweet_id:
            raise ActionLinkUsed("this link no longer belongs to a post waiting for review")
        if item.get("state") != "PENDING":
            raise ActionLinkUsed(
                f"this post was already decided: {LABELS.get(str(item.get('decision')), '')}"
            )
        return claim, self.queue.store.get_mention(claim.tweet_id) or {}

    def act(self, token: str, *, by: str = "the on-duty rep") -> Decision:
        claim, mention = self.preview(token)
        now = self.clock()
        if not self.queue.decide(claim, at=now):
            raise ActionLinkUsed("this post was already decided")
        if claim.decision == "open_case":
            case_id = open_case_for(self.queue.store, mention, opened_at=now, by=by)
            logger.info("case opened from the unsure queue", extra={"case_id": case_id})
        else:
            triage = {
                **_plain(mention["triage"]),
                "category": "other",
                "reasons": [*mention["triage"].get("reasons", []), f"{by}: not a complaint"],
            }
            self.queue.store.update_item_fields(f"MENTION#{claim.tweet_id}", "MENTION", triage=triage)
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


def review_page(claim: ReviewClaim, mention: dict[str, Any], token: str) -> str:
    return (
        _env(True)
        .from_string(REVIEW_PAGE)
        .render(
            label=LABELS[claim.decision],
            text=str(mention.get("text", "")),
            username=str(mention.get("author", {}).get("username", "")),
            token=token,
        )
    )
