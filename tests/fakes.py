"""In-memory stand-ins with the same interface as the adapters, for measuring our own code's cost."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from turnaround.adapters.store import RecordOutcome
from turnaround.models import Checkpoint, Mention
from turnaround.x_models import MentionsPage, RateLimit, XUser


class InMemoryStore:
    """MentionStore's ingest interface over dicts (same outcomes, no I/O)."""

    def __init__(self) -> None:
        self.checkpoints: dict[str, Checkpoint] = {}
        self.mentions: dict[str, Mention] = {}
        self.cases: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, str] = {}

    def get_checkpoint(self, handle: str) -> Checkpoint:
        return self.checkpoints.get(handle) or Checkpoint(handle=handle)

    def _update(self, handle: str, **fields: Any) -> None:
        self.checkpoints[handle] = self.get_checkpoint(handle).model_copy(update=fields)

    def set_user_id(self, handle: str, user_id: str) -> None:
        self._update(handle, user_id=user_id)

    def set_rate_limited(self, handle: str, until: datetime) -> None:
        self._update(handle, rate_limited_until=until)

    def save_progress(
        self, handle: str, *, expected_since: str | None, pending_newest_id: str, resume_until_id: str
    ) -> bool:
        self._update(handle, pending_newest_id=pending_newest_id, resume_until_id=resume_until_id)
        return True

    def complete_pass(self, handle: str, *, expected_since: str | None, since_id: str) -> bool:
        self._update(
            handle, since_id=since_id, pending_newest_id=None, resume_until_id=None, rate_limited_until=None
        )
        return True

    def record(self, mention: Mention, *, open_case: bool, retention: timedelta) -> RecordOutcome:
        if mention.tweet_id in self.mentions:
            return RecordOutcome(stored=False)
        case_id = self.conversations.get(mention.conversation_id)
        if case_id and self.cases[case_id]["status"] == "OPEN":
            self.mentions[mention.tweet_id] = mention
            self.cases[case_id]["mention_count"] += 1
            return RecordOutcome(stored=True, case_id=case_id)
        self.mentions[mention.tweet_id] = mention
        if not open_case:
            return RecordOutcome(stored=True)
        case_id = f"case-{mention.tweet_id}"
        self.cases[case_id] = {"status": "OPEN", "mention_count": 1}
        self.conversations[mention.conversation_id] = case_id
        return RecordOutcome(stored=True, case_id=case_id, case_opened=True)


class PagedX:
    """XApi's read interface over pre-built JSON pages: parsing and validation still happen per call."""

    def __init__(self, user: dict[str, Any], mentions: list[dict[str, Any]], users: list[dict[str, Any]]):
        self.user = XUser.model_validate(user)
        self.mentions = sorted(mentions, key=lambda m: int(m["id"]), reverse=True)
        self.users = {u["id"]: u for u in users}
        self.calls = 0

    def me(self) -> XUser:
        return self.user

    def mentions_page(
        self,
        user_id: str,
        *,
        since_id: str | None = None,
        until_id: str | None = None,
        pagination_token: str | None = None,
        max_results: int = 100,
    ) -> tuple[MentionsPage, RateLimit]:
        self.calls += 1
        selected = [
            m
            for m in self.mentions
            if (since_id is None or int(m["id"]) > int(since_id))
            and (until_id is None or int(m["id"]) < int(until_id))
            and (pagination_token is None or int(m["id"]) < int(pagination_token))
        ]
        page, rest = selected[:max_results], selected[max_results:]
        body: dict[str, Any] = {"meta": {"result_count": len(page)}}
        if page:
            body["data"] = page
            body["includes"] = {"users": [self.users[i] for i in dict.fromkeys(m["author_id"] for m in page)]}
            body["meta"].update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if rest:
            body["meta"]["next_token"] = page[-1]["id"]
        return MentionsPage.model_validate(body), RateLimit(limit=300, remaining=299)
