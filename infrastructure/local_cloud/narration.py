"""The run's narration: one line per thing a person would want to see happen, as it happens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Any, TextIO

from local_cloud.cloud import EmbeddedCloud
from local_cloud.inbound_mail import ScriptedReplies
from local_cloud.report import save_email


def scan(table: Any) -> list[dict[str, Any]]:
    """The whole table, as the run's observer reads it between the workflows' writes."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = _scan_page(table, kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _scan_page(table: Any, kwargs: dict[str, Any], attempts: int = 5) -> dict[str, Any]:
    # moto's table is not safe to scan while a Lambda thread updates an item ("dictionary changed
    # size during iteration" from its size count); DynamoDB has no such failure: read the page again.
    for attempt in range(attempts):
        try:
            page: dict[str, Any] = table.scan(**kwargs)
            return page
        except RuntimeError as exc:
            if "changed size during iteration" not in str(exc) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@dataclass
class Narrator:
    out: Path
    stream: TextIO | None = None
    progress: list[str] = field(default_factory=list)
    seen: dict[str, Any] = field(
        default_factory=lambda: {"posts": 0, "dms": 0, "retweets": 0, "emails": 0, "cases": {}}
    )
    email_times: dict[str, list[tuple[datetime, Message]]] = field(default_factory=dict)  # by case id
    scripted: ScriptedReplies = field(default_factory=lambda: ScriptedReplies([], None))  # rep_replies

    def say(self, sim: datetime, text: str) -> None:
        line = f"{sim.strftime('%H:%M')}  {text}"
        self.progress.append(line)
        if self.stream:
            print(line, file=self.stream, flush=True)

    def report_poll(self, now: datetime, function: str, result: Any, errored: bool) -> None:
        if errored:
            self.say(
                now,
                f"!! {function.split('-')[1]} failed: "
                f"{result.get('errorType')}: {result.get('errorMessage')}",
            )
            return
        for handle in result.get("handles", []) if isinstance(result.get("handles"), list) else []:
            if handle.get("stored"):
                self.say(
                    now,
                    f"ingested {handle['stored']} mention(s) for @{handle['handle']} "
                    f"({handle['cases_opened']} new case(s), {handle['attached_to_case']} joined a case, "
                    f"{handle['skipped_own'] + handle['skipped_retweets']} skipped)",
                )
        if isinstance(result.get("handles"), dict):
            for handle, counts in result["handles"].items():
                if counts.get("received"):
                    self.say(
                        now,
                        f"DMs for @{handle}: {counts['received']} received, {counts['threaded']} threaded, "
                        f"{counts['confirmations']} confirmation sent, {counts['refused']} refused",
                    )

    def observe(self, now: datetime, cloud: EmbeddedCloud, table: Any) -> None:
        """Narrate what changed since the last look: posts, DMs, retweets, emails, case milestones."""
        emulator, seen, email_times = cloud.emulator, self.seen, self.email_times
        users = emulator.world.users
        for post in emulator.posts_created()[seen["posts"] :]:
            if post.retweet_of:
                continue
            kind = "acknowledged" if post.direct_message_deep_link is None else "acknowledged + DM invite"
            if post.text in self.scripted.texts:
                kind = "rep's reply (by email), public"
            self.say(now, f"{kind}: {post.text[:110]}")
        seen["posts"] = len(emulator.posts_created())
        for dm in emulator.dms_sent()[seen["dms"] :]:
            by_rep = " (rep's reply by email)" if dm.text in self.scripted.texts else ""
            self.say(now, f"DM to @{users[dm.recipient_id].username}{by_rep}: {dm.text[:100]}")
        seen["dms"] = len(emulator.dms_sent())
        for _, tweet_id in emulator.retweets[seen["retweets"] :]:
            self.say(now, f"amplified: retweeted @{users[emulator.world.posts[tweet_id].author_id].username}")
        seen["retweets"] = len(emulator.retweets)
        emails = cloud.emails()
        for number, message in enumerate(emails[seen["emails"] :], seen["emails"] + 1):
            case_id = str(message.get("X-Turnaround-Case", ""))
            email_times.setdefault(case_id, []).append((now, message))
            self.scripted.saw_email(now, message)
            html_file = save_email(self.out / "mail", number, message)  # readable while the run goes on
            self.say(
                now, f"emailed {message['To']}: {message['Subject']}  [{html_file.relative_to(self.out)}]"
            )
        seen["emails"] = len(emails)
        for case in (i for i in scan(table) if i.get("type") == "case"):
            before = seen["cases"].get(case["case_id"], {})
            for field_name, label in (
                ("resolved_at", "resolved"),
                ("unresolved_at", "could not resolve"),
                ("follow_up_asked_at", "follow-up asked"),
                ("follow_up_at", "follow-up post"),
                ("opted_out", "customer opted out"),
                ("dm_refused", "DM refused"),
                ("closed_at", "closed"),
            ):
                if case.get(field_name) and not before.get(field_name):
                    detail = f" ({case.get('outcome')})" if field_name == "closed_at" else ""
                    self.say(now, f"{case['case_id']} @{case['customer_username']}: {label}{detail}")
            seen["cases"][case["case_id"]] = case
