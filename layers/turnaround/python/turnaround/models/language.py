"""The language of a post, as X tags it: what both triage and the playbook's templates go by."""

from __future__ import annotations

# X's lang values that carry no language: undetermined, links/media only, hashtags, mentions, art.
NO_LANGUAGE = frozenset({"und", "zxx", "qme", "qht", "qam", "qct", "art"})


def language_of(lang: str | None, default: str = "en") -> str:
    """X's tag reduced to the language ('pt-BR' → 'pt'); ``default`` when X gave none we can use."""
    if not lang:
        return default
    base = lang.strip().lower().replace("_", "-").split("-")[0]
    return default if not base or base in NO_LANGUAGE else base
