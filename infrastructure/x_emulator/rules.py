"""X's 2026 rules for automated accounts, and the record of every time a client broke one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn

from twitter_text import extract_urls, parse_tweet

from x_emulator.problems import PROBLEMS, ProblemError
from x_emulator.world import Post, User, World

MAX_TEXT = 280
# X's answer (403) to a reply whose target its author deleted, or that we cannot see.
REPLY_TARGET_GONE = "You attempted to reply to a Tweet that is deleted or not visible to you."
# X's answer (403) to a reply to someone who blocks us: the wording X's v1.1 gave (code 136), as
# clients record it; X's v2 docs do not print this refusal's text.
BLOCKED_BY_AUTHOR = "You have been blocked from the author of this tweet."
TOO_LONG = (
    "Your Tweet text is too long. For more information on how Twitter determines text length see "
    "https://github.com/twitter/twitter-text."
)


def weighted_length(text: str) -> int:
    """twitter-text v3: a URL counts 23, CJK and emoji 2, most Latin text 1 (what X's 280 counts).
    twitter-text-parser 3.0.0 passes all 22 v3 weighted-length cases and both directional-marker
    cases of twitter-text's published conformance suite (validate.yml), checked when it was pinned."""
    return int(parse_tweet(text).weightedLength)


def has_url(text: str) -> bool:
    """X's autolinker links bare domains too (acme.com/help), and any linked post is a URL post."""
    return bool(extract_urls(text))


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

    def refuse_quote(self, user: User) -> NoReturn:
        raise self.violation(
            "quote_post",
            "Quote-posts via the API are not available on self-serve tiers.",
            user,
            problem=PROBLEMS + "client-forbidden",
        )

    def refuse_like(self, user: User) -> NoReturn:
        raise self.violation(
            "like",
            "Likes via the API are not available on self-serve tiers.",
            user,
            problem=PROBLEMS + "client-forbidden",
        )

    def record(self, rule: str, detail: str, user: User) -> None:
        """A rule X enforces by suspending the account, not by refusing the request: X answers as
        usual, and the breach is recorded for tests and the run's summary to fail on."""
        self.violations.append(Violation(rule, detail, user.username, self.world.clock()))

    def check_summoned(self, user: User, target: Post) -> None:
        if not self.world.summoned(user, target):
            raise self.violation(
                "unsummoned_reply",
                "Reply to this conversation is not allowed because you have not been mentioned or "
                "otherwise engaged by the author of the post you are replying to.",
                user,
            )

    def record_second_reply(self, user: User, target: Post) -> None:
        if target.author_id != user.id and any(
            p.author_id == user.id and p.in_reply_to_tweet_id == target.id and p.via_api
            for p in self.world.posts.values()
        ):
            self.record("second_reply_to_interaction", "At most one automated reply per interaction.", user)

    def check_duplicate(self, user: User, text: str) -> None:
        normalized = " ".join(text.split())
        # A reply's stored text starts with the "@user " X added; the author's own text follows it.
        if any(
            p.author_id == user.id
            and normalized in (" ".join(p.text.split()), " ".join(p.text[p.display_start :].split()))
            for p in self.world.posts.values()
        ):
            raise self.violation(
                "duplicate_content", "You are not allowed to create a Tweet with duplicate content.", user
            )

    def check_dm(self, user: User, recipient: User) -> None:
        """X refuses a DM the recipient's settings do not allow; an automated DM to someone who has
        open DMs but never wrote to us is delivered, and is a breach of the automation rules."""
        if not self.world.can_dm(user, recipient):
            if not self.world.has_messaged(recipient, user):
                self.record(
                    "unsolicited_dm",
                    "Automated DMs are only allowed after the user has messaged you first.",
                    user,
                )
            raise ProblemError(403, "Forbidden", "You cannot send messages to this user.")
        if not self.world.has_messaged(recipient, user):
            self.record(
                "unsolicited_dm",
                "Automated DMs are only allowed after the user has messaged you first.",
                user,
            )

    def record_duplicate_retweet(self, user: User) -> None:
        self.violation("duplicate_retweet", "Post already retweeted by this user.", user)
