"""Where a post or an account is on X, for people to click: one place for X's URL shapes.

Templates call it as ``x_post_url`` (a global of the Jinja environments, turnaround/rendering.py)."""

from __future__ import annotations


def post_url(username: str | None, tweet_id: str) -> str:
    """The post's page; without the author's username X's ``/i/`` path finds it by id alone."""
    return f"https://x.com/{username or 'i'}/status/{tweet_id}"


def profile_url(user_id: str) -> str:
    """The account's profile by id (its "Message" button opens a DM)."""
    return f"https://x.com/i/user/{user_id}"
