"""Follow-up: ask once how it turned out (by DM if the customer opened one, else in public), then
wait for the customer's next post, which the mention poller hands over.

``listen`` in every result says whether to wait for that post. We listen even when we could not ask
(a public case whose only post already had our one reply): a customer's own thank-you in the thread
is still the follow-up, and may be amplified."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from turnaround.adapters.x_api import XApi
from turnaround.exceptions import XDirectMessageRefused
from turnaround.logic.effects import find_our_dm
from turnaround.logic.replyable import replyable_posts
from turnaround.logic.workflow.voice import case_ref, first_name
from turnaround.models.case import Case
from turnaround.models.mention import Mention
from turnaround.models.outbox import OutboxClaim
from turnaround.observability import logger

if TYPE_CHECKING:
    from turnaround.logic.workflow.case_workflow import CaseWorkflow


def ask_follow_up(flow: CaseWorkflow, case_id: str) -> dict[str, Any]:
    """Ask once, by DM if the customer opened one, else as a reply to one of their thread posts."""
    case = flow.case(case_id)
    if case.opted_out:
        return {"asked": False, "listen": False, "reason": "customer opted out"}
    mention = flow.root_mention(case)
    if mention.triage.sensitive:
        # "Would you share how it turned out?" after an injury or a death, and a retweet of their
        # kind words about it, would embarrass the brand: the rep closes such a case in person.
        reason = f"the case is about {mention.triage.sensitive}: no request for feedback, nothing amplified"
        return {"asked": False, "listen": False, "reason": reason}
    if case.follow_up_post is not None:  # they wrote in the thread since the resolution: no need to ask
        return {"asked": False, "listen": True, "reason": "the customer wrote after the resolution already"}
    newer = flow.store.cases.another_open_case(case.customer_id, case_id)
    if newer is not None:
        # "Hope everything is sorted now" under a customer whose new complaint is open: no.
        reason = (
            f"the customer has an open case ({newer.case_id}): no request for feedback, nothing amplified"
        )
        return {"asked": False, "listen": False, "reason": reason}
    lang = mention.triage.lang
    if not flow.playbook.speaks(lang):
        return {"asked": False, "listen": True, "reason": f"no templates in the customer's language ({lang})"}
    author, rep = mention.author, flow.assignee(case, mention)
    values = {
        "lang": lang,
        "customer": author.username,
        "first_name": first_name(author),
        "rep_name": rep.name,
        "initials": rep.initials,
        "case_ref": case_ref(case_id),
    }
    x = flow.x_for(case.handle)
    flow.effects.check_posting_hold()
    once = flow.effects.at_most_once(
        f"{case_id}#follow_up",
        lambda: _ask(flow, case, x, values),
        find_earlier=_find_dm(flow, case, x, values),  # the DM, if an earlier attempt died unrecorded
    )
    if not once.made_now:
        earlier = once.recorded
        return {
            "asked": earlier.state == "DONE" and earlier.channel != "none",
            "channel": earlier.channel,
            "listen": True,
            "repeat": True,
        }
    channel = once.recorded.channel
    if channel is None or channel == "none":
        return {"asked": False, "listen": True, "reason": "no customer post left to reply to"}
    flow.store.cases.follow_up_asked(case_id, at=flow.clock(), channel=channel)
    return {"asked": True, "listen": True, "channel": channel}


def _ask(flow: CaseWorkflow, case: Case, x: XApi, values: dict[str, Any]) -> dict[str, Any]:
    """Ask by DM if the customer opened one, else publicly; returns the channel used."""
    case_id = case.case_id
    if case.dm_open:
        try:
            x.send_dm(case.customer_id, flow.playbook.render("follow_up_dm", key=case_id, **values))
            return {"channel": "dm"}
        except XDirectMessageRefused:
            logger.info("follow-up DM refused; asking publicly", extra={"case_id": case_id})
    target = _latest_customer_post(flow, case)
    if target is None:
        return {"channel": "none"}
    # Their @name as of their latest post: days after the first one, the name the case opened with
    # may be someone else's now, and "@{{ customer }}" would mention a stranger.
    values = {**values, "customer": target.author.username}
    x.reply(target.tweet_id, flow.playbook.render("follow_up_public", key=case_id, **values))
    return {"channel": "public"}


def _find_dm(
    flow: CaseWorkflow, case: Case, x: XApi, values: dict[str, Any]
) -> Callable[[OutboxClaim], dict[str, Any] | None] | None:
    """After an attempt that died unrecorded, our follow-up DM found on X counts as asked."""
    if not case.dm_open:
        return None
    text = flow.playbook.render("follow_up_dm", key=case.case_id, **values)

    def find(claim: OutboxClaim) -> dict[str, Any] | None:
        brand = flow.store.checkpoints.get(case.handle).user_id or x.me().id
        found = find_our_dm(x, brand, text)(claim)
        return {"channel": "dm", **found} if found else None

    return find


def _latest_customer_post(flow: CaseWorkflow, case: Case) -> Mention | None:
    """A post of the customer's in the case that we have not replied to (one reply per interaction)."""
    own = replyable_posts(
        flow.store.mentions.for_case(case.case_id),
        flow.store.conversation.messages(case.case_id),
        customer_id=case.customer_id,
        answered=[case.root_tweet_id],  # the ack's
    )
    return max(own, key=lambda m: int(m.tweet_id)) if own else None


def await_follow_up(flow: CaseWorkflow, case_id: str, task_token: str) -> dict[str, Any]:
    case = flow.case(case_id)
    flow.store.cases.await_follow_up(case_id, task_token=task_token)
    arrived = case.follow_up_post
    if arrived and flow.workflow:  # the post came before we started waiting
        flow.workflow.succeed(task_token, arrived.model_dump(mode="json"))
    return {"waiting": True}
