"""The language of a post, as X tags it: what both triage and the playbook's templates go by."""

from __future__ import annotations

import unicodedata

# X's lang values that carry no language: undetermined, links/media only, hashtags, mentions, art.
NO_LANGUAGE = frozenset({"und", "zxx", "qme", "qht", "qam", "qct", "art"})


def fold(text: str) -> str:
    """Lower case without accents, so 'retrasó', 'retraso' and 'RETRASO' read alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def language_of(lang: str | None, default: str = "en") -> str:
    """X's tag reduced to the language ('pt-BR' → 'pt'); ``default`` when X gave none we can use."""
    if not lang:
        return default
    base = lang.strip().lower().replace("_", "-").split("-")[0]
    return default if not base or base in NO_LANGUAGE else base


# The languages X tags most often, by name, for the people who read our emails ("written in it"
# reads as a typo); any other tag is shown as it is.
_NAMES = {
    "ar": "Arabic", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish", "fr": "French", "he": "Hebrew",
    "hi": "Hindi", "hu": "Hungarian", "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean",
    "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sv": "Swedish", "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
    "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip


def language_name(lang: str | None) -> str:
    """'Italian (it)' for X's 'it', the tag alone for a language not listed."""
    code = language_of(lang)
    name = _NAMES.get(code)
    return f"{name} ({code})" if name else code
