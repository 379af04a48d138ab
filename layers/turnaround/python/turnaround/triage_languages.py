"""Posts that are not in English: what X's ``lang`` tells triage, and the few words it can read.

The learned model reads English only. For the languages the playbook ships replies in (es, fr, pt,
de) a short lexicon of unmistakable complaint and praise words lets triage open a case or file
praise; anything else in those languages, and every post in any other language, goes to a person
(the unsure queue). No post in another language is ever answered with an English template.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

ForeignCategory = Literal["complaint", "praise", "unsure"]

# X's lang values that carry no language: undetermined, links/media only, hashtags, mentions, art.
NO_LANGUAGE = frozenset({"und", "zxx", "qme", "qht", "qam", "qct", "art"})


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(patterns) + r")", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case without accents, so 'retrasó', 'retraso' and 'RETRASO' read alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


COMPLAINT = {
    "es": _words(
        r"retras",
        r"demora",
        r"cancel",
        r"perd(i|io|ieron|ida)",
        r"maleta",
        r"equipaje",
        r"reembols",
        r"devolu",
        r"peor",
        r"pesim",
        r"fatal",
        r"verguenza",
        r"horrible",
        r"nadie (me )?(responde|contesta|atiende)",
        r"no funciona",
        r"esperando",
        r"estafa",
        r"queja",
        r"reclam",
        r"cobr",
        r"roto",
        r"rota",
        r"sin respuesta",
        r"una hora",
        r"horas",
        r"indignante",
        r"inaceptable",
        r"mal servicio",
        r"desastre",
    ),
    "fr": _words(
        r"retard",
        r"annul",
        r"perdu",
        r"valise",
        r"bagage",
        r"rembours",
        r"pire",
        r"nul\b",
        r"honte",
        r"horrible",
        r"personne ne (repond|rappelle)",
        r"ne marche pas",
        r"ne fonctionne pas",
        r"attend",
        r"arnaque",
        r"plainte",
        r"reclamation",
        r"factur",
        r"casse",
        r"inadmissible",
        r"inacceptable",
        r"scandal",
        r"catastroph",
        r"deplorable",
        r"heures",
    ),
    "pt": _words(
        r"atras",
        r"cancel",
        r"perd(i|eu|eram|ida)",
        r"mala",
        r"bagagem",
        r"reembols",
        r"pior",
        r"pessim",
        r"vergonha",
        r"horrivel",
        r"ninguem (responde|atende)",
        r"nao funciona",
        r"esperando",
        r"aguardando",
        r"golpe",
        r"reclama",
        r"cobra",
        r"quebrad",
        r"absurdo",
        r"inaceitavel",
        r"descaso",
        r"horas",
    ),
    "de": _words(
        r"verspat",
        r"versp[aä]tung",
        r"annulliert",
        r"storniert",
        r"gestrichen",
        r"verloren",
        r"koffer",
        r"gepack",
        r"erstatt",
        r"schlecht",
        r"schlimm",
        r"katastroph",
        r"frechheit",
        r"unverschamt",
        r"niemand (antwortet|ruft)",
        r"funktioniert nicht",
        r"warte",
        r"betrug",
        r"beschwerde",
        r"abgebucht",
        r"kaputt",
        r"inakzeptabel",
        r"skandal",
        r"stunden",
        r"entschadigung",
    ),
}
PRAISE = {
    "es": _words(r"gracias", r"excelente", r"genial", r"increible", r"encanta", r"felicidades", r"maravill"),
    "fr": _words(r"merci", r"excellent", r"genial", r"super\b", r"bravo", r"parfait", r"formidable"),
    "pt": _words(r"obrigad", r"excelente", r"otimo", r"parabens", r"maravilh", r"adorei", r"perfeito"),
    "de": _words(r"danke", r"vielen dank", r"super\b", r"toll", r"klasse", r"perfekt", r"ausgezeichnet"),
}
# A negated or hedged praise word is not praise ("gracias por nada" = thanks for nothing).
_SARCASM = {
    "es": _words(r"gracias por nada"),
    "fr": _words(r"merci pour rien", r"merci de rien"),
    "pt": _words(r"obrigad[oa] por nada"),
    "de": _words(r"danke f[uü]r nichts"),
}


def language_of(lang: str | None) -> str:
    """X's tag reduced to the language ('pt-BR' → 'pt'); 'en' when X gave none we can use."""
    if not lang:
        return "en"
    base = lang.strip().lower().replace("_", "-").split("-")[0]
    return "en" if not base or base in NO_LANGUAGE else base


def read_foreign(text: str, language: str) -> tuple[ForeignCategory, list[str]]:
    """complaint | praise | unsure for a post in ``language`` (not English), with the reason."""
    lexicon = COMPLAINT.get(language)
    if lexicon is None:
        return "unsure", [f"language '{language}': triage cannot read it, a person decides"]
    body = fold(text)
    complaint_words = [m.group(0) for m in lexicon.finditer(body)]
    if complaint_words or _SARCASM[language].search(body):
        return "complaint", [f"{language} complaint words: {', '.join(sorted(set(complaint_words)))[:80]}"]
    if PRAISE[language].search(body):
        return "praise", [f"{language} praise words"]
    return "unsure", [f"language '{language}': no clear complaint or praise words, a person decides"]
