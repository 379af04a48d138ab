"""How the brand addresses a customer in posts, DMs and emails."""

from __future__ import annotations

from turnaround.models.mention import Author


def case_ref(case_id: str) -> str:
    """The short case reference customers and reps see (the case id's last six digits)."""
    return case_id.rsplit("-", 1)[-1][-6:]


def first_name(author: Author | None) -> str:
    name = "".join(ch for ch in (author.name if author else "") if ch.isprintable()).split()
    candidate = name[0] if name else (author.username if author else "")
    return candidate[:20] or "there"
