"""What the poller does with each stored mention beyond storing it (the workflow's side of ingest):
honour opt-outs at once, and hand a resolved customer's next post to the workflow waiting for it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from turnaround.adapters.workflow_client import WorkflowClient
from turnaround.dal.store import MentionStore
from turnaround.exceptions import TaskTokenRejected
from turnaround.models.playbook import Playbook
from turnaround.observability import logger, metrics


def customer_post_listener(
    store: MentionStore, playbook: Playbook, workflow: WorkflowClient
) -> Callable[[Any], None]:
    """What the poller does with each stored mention beyond storing it: honour opt-outs at once, and
    hand a resolved customer's next post to the workflow waiting for it."""

    def on_stored(mention: Any) -> None:
        author_id = mention.author.id
        if playbook.is_opt_out(mention.text):
            for case in (
                store.find_open_case_for_customer(author_id),
                store.find_case_awaiting_follow_up(author_id),
            ):
                if case:
                    store.update_case(
                        str(case["case_id"]), opted_out=True, opted_out_at=mention.ingested_at.isoformat()
                    )
                    metrics.add_metric(name="OptOuts", unit=MetricUnit.Count, value=1)
            return
        case = store.find_case_awaiting_follow_up(author_id)
        if case is None or case.get("follow_up_post") or case.get("opted_out"):
            return
        post = {
            "tweet_id": mention.tweet_id,
            "text": mention.text,
            "author_id": author_id,
            "quoted_tweet_id": mention.quoted_tweet_id,
        }
        store.update_case(str(case["case_id"]), follow_up_post=post)
        token = case.get("follow_up_token")
        if token:
            try:
                workflow.succeed(str(token), post)
            except TaskTokenRejected:
                logger.info("follow-up window already closed", extra={"case_id": case["case_id"]})

    return on_stored
