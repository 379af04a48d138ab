"""Which of a customer's posts in a case we may still reply to: one rule for the rep's emailed reply
and the follow-up question.

X allows one reply per interaction, and a post with its edits is one interaction (an edit's
``edit_of`` is the first version's id, whichever version opened the case). A post X said was
deleted or is no longer visible is recorded as the target of the refused reply, so it is passed
over too: without that, every later reply went to the same dead post and was refused.
"""

from __future__ import annotations

from collections.abc import Iterable

from turnaround.models.case import CaseMessage
from turnaround.models.mention import Mention


def replyable_posts(
    mentions: Iterable[Mention],
    messages: Iterable[CaseMessage],
    *,
    customer_id: str,
    answered: Iterable[str] = (),
) -> list[Mention]:
    """The customer's posts that mention us and that no reply of ours (posted, or refused because
    the post is gone) targeted, nor any version of them; ``answered``: more posts answered (the
    root, once the ack went out)."""
    posts = list(mentions)
    done = {m.in_reply_to_tweet_id for m in messages if m.in_reply_to_tweet_id} | set(answered)
    done |= {_interaction(m) for m in posts if m.tweet_id in done}
    return [
        m
        for m in posts
        if m.author.id == customer_id
        and m.mentions_handle
        and m.tweet_id not in done
        and _interaction(m) not in done
    ]


def _interaction(mention: Mention) -> str:
    return mention.edit_of or mention.tweet_id
