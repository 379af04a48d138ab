"""Test helpers: read template.yaml (CloudFormation tags included) and build moto resources from it."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from local_cloud.stack import load_template as _load_template

ROOT = Path(__file__).resolve().parent.parent

# The tests' X client timeout, and a delay past it for timeout faults. Short, so a timeout test is
# quick, but long enough that a 100-post page served on a loaded 2-core machine never trips it.
X_TIMEOUT = 2.5
PAST_X_TIMEOUT = X_TIMEOUT + 0.5
TEMPLATE = ROOT / "template.yaml"


@cache
def load_template() -> dict[str, Any]:
    return _load_template(TEMPLATE)


def resource(name: str) -> dict[str, Any]:
    return load_template()["Resources"][name]


def create_table_from_template(
    dynamodb_client: Any, table_name: str, logical_id: str = "TurnaroundTable"
) -> None:
    """Create the table exactly as template.yaml declares it (keys, GSIs, stream, TTL)."""
    props = resource(logical_id)["Properties"]
    dynamodb_client.create_table(
        TableName=table_name,
        BillingMode=props["BillingMode"],
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props.get("GlobalSecondaryIndexes", []),
        StreamSpecification={"StreamEnabled": True, **props["StreamSpecification"]},
    )
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb_client.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)


def x_only_workflow(store: Any, x_api: Any, *, playbook: Any = None, clock: Any = None) -> Any:
    """The case workflow's X side alone (acknowledge, follow-up) on the repositories and X client a
    test built: no mailer and no link signer, which those tasks do not use."""
    from turnaround.logic.workflow.case_workflow import CaseWorkflow
    from turnaround.models.playbook import load_playbook

    extra = {"clock": clock} if clock is not None else {}
    return CaseWorkflow(
        store=store,
        x_for=lambda handle: x_api,
        mailer=None,  # type: ignore[arg-type]
        signer=None,  # type: ignore[arg-type]
        playbook=playbook or load_playbook(),
        action_url="https://example.invalid/",
        **extra,
    )


def a_complaint(tweet_id: str = "1900", *, at: Any = None, **triage: Any) -> Any:
    """Jane's complaint "@acmeair lost my bag" as ingest stores it (a thread root, unless the id
    says otherwise: its conversation is 1900), triaged complex, priority 2."""
    from datetime import UTC, datetime

    from turnaround.models.mention import Author, Mention, Triage

    at = at or datetime(2026, 11, 23, 10, 0, 5, 250000, tzinfo=UTC)
    return Mention(
        tweet_id=tweet_id,
        handle="acmeair",
        text="@acmeair lost my bag",
        author=Author(id="42", username="jane", name="Jane"),
        created_at=at,
        conversation_id="1900",
        mentions_handle=True,
        triage=Triage(category="complaint", sentiment=-0.5, severity="complex", priority=2, **triage),
        ingested_at=at,
    )


def triaged_case(text: str, **case_fields: Any) -> tuple[Any, Any]:
    """Ann's post ``text`` as ingest stores it (triaged by the real triage) and the case it opened,
    with ``case_fields`` on the case: for tests of what the workflow says and to whom."""
    from turnaround.logic.triage import triage
    from turnaround.models.case import Case
    from turnaround.models.mention import Mention

    case = Case.model_validate(
        {
            "case_id": "case-77", "status": "OPEN", "handle": "acmeair", "root_tweet_id": "77",
            "conversation_id": "77", "customer_id": "42", "customer_username": "ann",
            "opened_at": "2026-11-23T08:50:00+00:00", **case_fields,
        }
    )  # fmt: skip
    mention = Mention.model_validate(
        {
            "tweet_id": "77", "handle": "acmeair", "text": text, "created_at": None, "conversation_id": "77",
            "author": {"id": "42", "username": "ann", "name": "Ann"}, "mentions_handle": True,
            "triage": triage(text).model_dump(), "ingested_at": "2026-11-23T08:50:00+00:00",
        }
    )  # fmt: skip
    return case, mention


def edited_playbook(tmp_path: Path, edit: Any) -> str:
    """The shipped playbook with ``edit`` applied to its parsed YAML, written under ``tmp_path``: the
    file's path, with the playbook cache cleared so the next load reads it."""
    import yaml

    from turnaround.models.playbook import SOURCE, load_playbook

    playbook = yaml.safe_load(SOURCE.read_text())
    edit(playbook)
    path = tmp_path / "playbook.yaml"
    path.write_text(yaml.safe_dump(playbook, allow_unicode=True))
    load_playbook.cache_clear()
    return str(path)
