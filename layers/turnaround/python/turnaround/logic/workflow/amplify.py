"""Amplify: retweet the customer's follow-up only if it is their own, clean, positive words."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.adapters.x_api import XApi
from turnaround.logic.triage import sentiment
from turnaround.models.case import Case
from turnaround.observability import logger, metrics

PROFANITY = re.compile(
    r"\b(f+u+c+k\w*|shit\w*|damn|crap|bitch\w*|bastard\w*|wtf|asshole\w*)\b", re.IGNORECASE
)

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow


def amplify(flow: CaseWorkflow, case_id: str, post: dict[str, Any]) -> dict[str, Any]:
    case = flow.case(case_id)
    score = sentiment(str(post.get("text", "")))
    reason = _amplify_refusal(flow, case, post, score)
    tweet_id = post.get("tweet_id")
    flow.store.cases.follow_up_read(
        case_id, at=flow.clock(), tweet_id=str(tweet_id) if tweet_id else None, sentiment=score
    )
    if reason:
        flow.store.cases.amplification(case_id, "not amplified: " + reason)
        logger.info("follow-up not amplified", extra={"case_id": case_id, "reason": reason})
        return {"retweeted": False, "reason": reason, "sentiment": score}
    flow.effects.check_posting_hold()
    x = flow.x_for(case.handle)
    _, posted_now = flow.effects.post_once(f"{case_id}#retweet", lambda: _retweet(x, str(post["tweet_id"])))
    flow.store.cases.amplification(case_id, "retweeted", at=flow.clock())
    if posted_now:
        metrics.add_metric(name="Amplified", unit=MetricUnit.Count, value=1)
    return {"retweeted": True, "sentiment": score}


def _retweet(x: XApi, tweet_id: str) -> str:
    x.retweet(tweet_id)
    return tweet_id


def _amplify_refusal(flow: CaseWorkflow, case: Case, post: dict[str, Any], score: float) -> str | None:
    if case.opted_out:
        return "customer opted out"
    if str(post.get("author_id")) != case.customer_id:
        return "not the customer's post"
    if post.get("quoted_tweet_id"):  # retweets never reach here: ingest skips them
        return "not in the customer's own words"
    if PROFANITY.search(str(post.get("text", ""))):
        return "contains profanity"
    if score < flow.playbook.follow_up.amplify_min_sentiment:
        return f"sentiment {score:+.2f} below {flow.playbook.follow_up.amplify_min_sentiment:+.2f}"
    return None
