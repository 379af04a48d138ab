"""Amplify: retweet the customer's follow-up only if triage calls it praise, it is their own clean
words, and (by default) the rep confirmed it from the "Retweet this?" email."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.adapters.x_api import XApi
from turnaround.logic.rep_actions.links import AMPLIFY_ACTIONS
from turnaround.logic.triage import sentiment
from turnaround.logic.triage_cues import BACKHANDED
from turnaround.logic.workflow.emails import amplify_request_email
from turnaround.logic.workflow.notify import issue_links
from turnaround.logic.workflow.voice import PROFANITY
from turnaround.models.case import Case, FollowUpPost, ShownPost
from turnaround.observability import logger, metrics
from turnaround.personal_details import describe

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow


def amplify(
    flow: CaseWorkflow, case_id: str, post_input: dict[str, Any], confirmed: bool = False
) -> dict[str, Any]:
    """Decide on the follow-up post; retweet it when the playbook lets the workflow decide, or when the
    rep ``confirmed`` it. ``ask_rep`` in the result sends the workflow to ask the rep first."""
    case = flow.case(case_id)
    post = FollowUpPost.model_validate(post_input)
    score = sentiment(post.text)
    mode = flow.playbook.follow_up.amplify
    reason = _amplify_refusal(flow, case, post, score)
    if reason is None and mode == "never":
        reason = "the playbook never retweets"
    if not confirmed:
        flow.store.cases.follow_up_read(case_id, at=flow.clock(), tweet_id=post.tweet_id, sentiment=score)
    if reason:
        flow.store.cases.amplification(case_id, "not amplified: " + reason)
        logger.info("follow-up not amplified", extra={"case_id": case_id, "reason": reason})
        return {"retweeted": False, "ask_rep": False, "reason": reason, "sentiment": score}
    if mode == "ask_rep" and not confirmed:
        flow.store.cases.amplification(case_id, "asking the rep")
        return {"retweeted": False, "ask_rep": True, "sentiment": score}
    flow.effects.check_posting_hold()
    x = flow.x_for(case.handle)
    _, posted_now = flow.effects.post_once(f"{case_id}#retweet", lambda: _retweet(x, post.tweet_id))
    flow.store.cases.amplification(case_id, "retweeted", at=flow.clock())
    if posted_now:
        metrics.add_metric(name="Amplified", unit=MetricUnit.Count, value=1)
    return {"retweeted": True, "ask_rep": False, "sentiment": score}


def ask_rep_to_amplify(
    flow: CaseWorkflow, case_id: str, post_input: dict[str, Any], task_token: str
) -> dict[str, Any]:
    """Email the case's rep "Retweet this?" with signed links that answer ``task_token``, once per wait."""
    case = flow.case(case_id)
    post = FollowUpPost.model_validate(post_input)
    recipient = flow.assignee(case, flow.root_mention(case))
    escalation_id = hashlib.sha256(task_token.encode()).hexdigest()[:32]

    def email() -> dict[str, Any]:
        shown = ShownPost(tweet_id=post.tweet_id, text=post.text)
        links, expires_at = issue_links(
            flow, case_id, escalation_id, task_token, "rep", recipient, AMPLIFY_ACTIONS, post=shown
        )
        message = amplify_request_email(
            playbook=flow.playbook,
            case=case,
            post=post,
            recipient=recipient,
            links=links,
            expires_at=expires_at,
            escalation_id=escalation_id,
        )
        return {"result_id": flow.mailer.send(message)}

    once = flow.effects.at_most_once(f"{escalation_id}#email", email)
    if once.made_now:  # only the newest email's links work
        flow.store.cases.asked_about(case_id, escalation_id=escalation_id)
    return {"escalation_id": escalation_id, "emailed": once.made_now}


def _retweet(x: XApi, tweet_id: str) -> str:
    x.retweet(tweet_id)
    return tweet_id


def _praise(post: FollowUpPost, mode: str) -> bool:
    """Praise by triage; or, where the rep confirms, plain thanks that the complaint model was unsure
    of (it learned from first posts, and "Alex rebooked me ... thank you" reads like one)."""
    return post.category == "praise" or (mode == "ask_rep" and post.category == "unsure" and post.thanks)


def _amplify_refusal(flow: CaseWorkflow, case: Case, post: FollowUpPost, score: float) -> str | None:
    if case.opted_out:
        return "customer opted out"
    if post.author_id != case.customer_id:
        return "not the customer's post"
    if post.quoted_tweet_id:  # retweets never reach here: ingest skips them
        return "not in the customer's own words"
    if not _praise(post, flow.playbook.follow_up.amplify):  # sarcasm can score high on sentiment
        return f"triage does not call it praise ({post.category or 'not triaged'})"
    if PROFANITY.search(post.text):
        return "contains profanity"
    if BACKHANDED.search(post.text):  # "only took 3 weeks and 9 calls... amazing service"
        return "it counts what it cost the customer: maybe backhanded"
    details = flow.playbook.personal_details_in(post.text, customers_own=True)
    if details:  # "...reach me on 07700 900123": a retweet would spread their contact details
        return f"it shows the customer's personal details: {describe(details)}"
    if score < flow.playbook.follow_up.amplify_min_sentiment:
        return f"sentiment {score:+.2f} below {flow.playbook.follow_up.amplify_min_sentiment:+.2f}"
    newer = flow.store.cases.another_open_case(case.customer_id, case.case_id)
    if newer is not None:  # read again when the rep confirms: a complaint may have come since
        return f"the customer has an open case now ({newer.case_id})"
    return None
