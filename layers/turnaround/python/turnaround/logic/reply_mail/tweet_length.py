"""X's weighted post length (twitter-text v3: URLs count 23, CJK and emoji 2, limit 280).

Uses ``twitter-text-parser`` (a port of X's own twitter-text config v3), imported on first use: it
compiles a large emoji pattern (about 1.4 s), which only the inbound-mail function ever pays.
"""

from __future__ import annotations

MAX_WEIGHTED_LENGTH = 280


def weighted_length(text: str) -> int:
    from twitter_text import parse_tweet

    return int(parse_tweet(text).weightedLength)


def fits_in_a_post(text: str) -> bool:
    return 0 < weighted_length(text) <= MAX_WEIGHTED_LENGTH
