"""What the poller does with each stored mention beyond storing it (the workflow's side of ingest):
honour opt-outs at once, and hand a resolved customer's next post to the workflow waiting for it."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.adapters.workflow_client import WorkflowClient
from turnaround.dal.repositories import Repositories
from turnaround.exceptions import TaskTokenRejected
from turnaround.logic.triage import sounds_grateful
from turnaround.models.case import FollowUpPost
from turnaround.models.mention import Mention
from turnaround.models.playbook import Playbook
from turnaround.observability import logger, metrics


def _about_the_old_case(category: str, thanks: bool) -> bool:
    """Whether a post outside the case's thread is its follow-up: not a complaint, and if triage is
    unsure of it, plain thanks (a new complaint, even a sarcastic one, opens its own case)."""
    return category != "complaint" and (category != "unsure" or thanks)


class CustomerPostListener:
    """What the poller does with each stored mention beyond storing it: honour opt-outs at once, and
    hand a resolved customer's next post to the workflow waiting for it.

    Who awaits a follow-up is read once per pass (``begin_pass``, then on the first post), not once
    per post: only a post from one of those customers costs a lookup of their case."""

    def __init__(self, store: Repositories, playbook: Playbook, workflow: WorkflowClient) -> None:
        self.store, self.playbook, self.workflow = store, playbook, workflow
        self._awaiting: set[str] | None = None

    def begin_pass(self) -> None:
        self._awaiting = None  # cases resolve and close between passes: read it again

    def __call__(self, mention: Mention) -> None:
        store = self.store
        author_id = mention.author.id
        if self.playbook.is_opt_out(mention.text):
            opted_out = store.cases.customer_opted_out(author_id, at=mention.ingested_at)
            metrics.add_metric(name="OptOuts", unit=MetricUnit.Count, value=len(opted_out))
            return
        if self._awaiting is None:
            self._awaiting = store.cases.customers_awaiting_follow_up()
        if author_id not in self._awaiting:
            return
        case = store.cases.find_awaiting_follow_up(author_id)
        if case is None or case.follow_up_post or case.opted_out:
            return
        in_thread = mention.conversation_id == case.conversation_id
        thanks = sounds_grateful(mention.text)
        if not in_thread and not _about_the_old_case(mention.triage.category, thanks):
            return  # a new complaint, not how the old one turned out: it opens its own case
        post = FollowUpPost(
            tweet_id=mention.tweet_id,
            text=mention.text,
            author_id=author_id,
            quoted_tweet_id=mention.quoted_tweet_id,
            category=mention.triage.category,
            thanks=thanks,
            triage_reason=", ".join(mention.triage.reasons[-2:]),
            in_thread=in_thread,
        )
        store.cases.follow_up_arrived(case.case_id, post)
        if case.follow_up_token:
            try:
                self.workflow.succeed(case.follow_up_token, post.model_dump(mode="json"))
            except TaskTokenRejected:
                logger.info("follow-up window already closed", extra={"case_id": case.case_id})
