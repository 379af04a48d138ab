"""How the brand addresses a customer in posts, DMs and emails."""

from __future__ import annotations

from typing import Any


def case_ref(case_id: str) -> str:
    """The short case reference customers and reps see (the case id's last six digits)."""
    return case_id.rsplit("-", 1)[-1][-6:]


def first_name(author: dict[str, Any]) -> str:
    name = "".join(ch for ch in str(author.get("name") or "") if ch.isprintable()).split()
    candidate = name[0] if name else str(author.get("username", ""))
    return candidate[:20] or "there"
