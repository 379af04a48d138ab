"""X's 2026 rules for automated accounts, and the record of every time a client broke one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from x_emulator.problems import PROBLEMS, ProblemError
from x_emulator.world import Post, User, World

MAX_TEXT = 280


@dataclass
class Violation:
    rule: str
    detail: str
    user: str
    at: datetime


@dataclass
class Rules:
    world: World
    violations: list[Violation] = field(default_factory=list)

    def violation(
        self, rule: str, detail: str, user: User, status: int = 403, problem: str = "about:blank"
    ) -> ProblemError:
        """Record that the client broke one of X's rules, and refuse the request the way X does."""
        self.violations.append(Violation(rule, detail, user.username, self.world.clock()))
        return ProblemError(status, "Forbidden", detail, problem)

    def check_quote(self, user: User) -> None:
        raise self.violation(
            "quote_post",
            "Quote-posts via the API are not available on self-serve tiers.",
            user,
            problem=PROBLEMS + "client-forbidden",
        )

    def check_like(self, user: User) -> None:
        raise self.violation(
            "like",
            "Likes via the API are not available on self-serve tiers.",
            user,
            problem=PROBLEMS + "client-forbidden",
        )

    def check_reply(self, user: User, target: Post) -> None:
        if not self.world.summoned(user, target):
            raise self.violation(
                "unsummoned_reply",
                "You can only reply to or quote posts where you are mentioned or are the author.",
                user,
            )
        if target.author_id != user.id and any(
            p.author_id == user.id and p.in_reply_to_tweet_id == target.id and p.via_api
            for p in self.world.posts.values()
        ):
            raise self.violation(
                "second_reply_to_interaction", "At most one automated reply per interaction.", user
            )

    def check_duplicate(self, user: User, text: str) -> None:
        normalized = " ".join(text.split())
        if any(
            p.author_id == user.id and " ".join(p.text.split()) == normalized
            for p in self.world.posts.values()
        ):
            raise self.violation(
                "duplicate_content", "You are not allowed to create a Tweet with duplicate content.", user
            )

    def check_dm(self, user: User, recipient: User) -> None:
        if not self.world.has_messaged(recipient, user):
            raise self.violation(
                "unsolicited_dm",
                "Automated DMs are only allowed after the user has messaged you first.",
                user,
            )
        if recipient.dm_refuse:
            raise ProblemError(403, "Forbidden", "You cannot send messages to this user.")

    def record_duplicate_retweet(self, user: User) -> None:
        self.violation("duplicate_retweet", "Post already retweeted by this user.", user)
