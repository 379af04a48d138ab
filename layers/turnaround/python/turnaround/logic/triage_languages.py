"""Posts that are not in English: what X's ``lang`` tells triage, and the few words it can read.

The learned model reads English only. For the languages the playbook ships replies in (es, fr, pt,
de) a short lexicon of unmistakable complaint and praise words lets triage open a case or file
praise; anything else in those languages, and every post in any other language, goes to a person
(the unsure queue). No post in another language is ever answered with an English template.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from turnaround.models.language import fold

ForeignCategory = Literal["complaint", "praise", "unsure"]


class Words:
    """Words of one language, compiled on first use: a container mostly reads English, and compiling
    every language's lexicons at import cost the mention poller's INIT ~5 ms."""

    __slots__ = ("_compiled", "source")

    def __init__(self, *patterns: str) -> None:
        self.source = r"\b(?:" + "|".join(patterns) + r")"
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> bool:
        return self._compiled is not None

    def _pattern(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.source, re.IGNORECASE)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self._pattern().search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self._pattern().finditer(text)

    def without(self, text: str) -> str:
        return self._pattern().sub(" ", text)


COMPLAINT = {
    "es": Words(
        r"retras",
        r"demora",
        r"cancel",
        r"perd(i|io|ieron|ida)",
        r"reembols",
        r"devolu",
        r"peor",
        r"pesim",
        r"fatal",
        r"verguenza",
        r"horrible",
        r"nadie (me )?(responde|contesta|atiende)",
        r"no funciona",
        r"estafa",
        r"queja",
        r"reclam",
        r"cobr",
        r"roto",
        r"rota",
        r"sin respuesta",
        r"indignante",
        r"inaceptable",
        r"mal servicio",
        r"desastre",
    ),
    "fr": Words(
        r"retard",
        r"annul",
        r"perdu",
        r"rembours",
        r"pire",
        r"nul\b",
        r"honte",
        r"horrible",
        r"personne ne (repond|rappelle)",
        r"ne marche pas",
        r"ne fonctionne pas",
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
    ),
    "pt": Words(
        r"atras(o|a|ad|ou)",  # atraso, atrasado, atrasou; never "atrás" (ago)
        r"cancel",
        r"perd(i|eu|eram|ida)",
        r"reembols",
        r"pior",
        r"pessim",
        r"vergonha",
        r"horrivel",
        r"ninguem (responde|atende)",
        r"nao funciona",
        r"golpe",
        r"reclama",
        r"cobra",
        r"quebrad",
        r"absurdo",
        r"inaceitavel",
        r"descaso",
    ),
    "de": Words(
        r"verspat",
        r"versp[aä]tung",
        r"annulliert",
        r"storniert",
        r"gestrichen",
        r"verloren",
        r"erstatt",
        r"schlecht",
        r"schlimm",
        r"katastroph",
        r"frechheit",
        r"unverschamt",
        r"niemand (antwortet|ruft)",
        r"funktioniert nicht",
        r"betrug",
        r"beschwerde",
        r"abgebucht",
        r"kaputt",
        r"inakzeptabel",
        r"skandal",
        r"entschadigung",
    ),
}
PRAISE = {
    "es": Words(r"gracias", r"excelente", r"genial", r"increible", r"encanta", r"felicidades", r"maravill"),
    "fr": Words(r"merci", r"excellent", r"genial", r"super\b", r"bravo", r"parfait", r"formidable"),
    "pt": Words(r"obrigad", r"excelente", r"otimo", r"parabens", r"maravilh", r"adorei", r"perfeito"),
    "de": Words(r"danke", r"vielen dank", r"super\b", r"toll", r"klasse", r"perfekt", r"ausgezeichnet"),
}
# A negated or hedged praise word is not praise ("gracias por nada" = thanks for nothing).
_SARCASM = {
    "es": Words(r"gracias por nada"),
    "fr": Words(r"merci pour rien", r"merci de rien"),
    "pt": Words(r"obrigad[oa] por nada"),
    "de": Words(r"danke f[uü]r nichts"),
}
# Thanks said before asking, for nothing done yet ("gracias de antemano"): not praise.
_THANKS_IN_ADVANCE = {
    "es": Words(r"gracias de antemano", r"gracias por adelantado", r"de antemano gracias"),
    "fr": Words(r"merci d.avance", r"merci par avance", r"d.avance merci"),  # either apostrophe
    "pt": Words(r"desde ja obrigad[oa]", r"obrigad[oa] desde ja", r"agradeco desde ja"),
    "de": Words(r"(vielen )?dank(e)? im voraus", r"vorab (vielen )?dank"),
}
# What a customer may simply ask how to do ("¿cómo cancelo mi reserva?"): as a question's only
# complaint words, a person decides whether it is one.
_ASKED_ABOUT = {
    "es": Words(r"cancel", r"reembols", r"devolu", r"cobr", r"reclam"),
    "fr": Words(r"annul", r"rembours", r"factur", r"reclamation"),
    "pt": Words(r"cancel", r"reembols", r"cobra", r"reclama"),
    "de": Words(r"storniert", r"erstatt", r"abgebucht", r"beschwerde"),
}
# Anger, money lost, threats to leave or to sue: a complaint a person answers in DM, as
# triage.CHARGED in English (VADER reads English only: these posts score 0).
CHARGED = {
    "es": Words(
        r"estafa",
        r"verguenza",
        r"nunca mas",
        r"ladron",
        r"robo\b",
        r"robaron",
        r"denunci",
        r"abogad",
        r"asco",
        r"indignante",
        r"inaceptable",
        r"hart[oa]s?\b",
        r"peor (aerolinea|empresa|servicio|compania)",
        r"mierda",
        r"gracias por nada",
    ),
    "fr": Words(
        r"arnaque",
        r"escroc",
        r"honte",
        r"plus jamais",
        r"voleur",
        r"avocat",
        r"inadmissible",
        r"scandal",
        r"degoutant",
        r"marre",
        r"pire (compagnie|entreprise|service)",
        r"merde",
        r"merci pour rien",
    ),
    "pt": Words(
        r"golpe",
        r"vergonha",
        r"nunca mais",
        r"ladr(ao|oes)",
        r"roubo",
        r"roubaram",
        r"processar",
        r"advogad",
        r"procon",
        r"absurdo",
        r"descaso",
        r"nojo",
        r"pior (companhia|empresa|servico)",
        r"merda",
        r"obrigad[oa] por nada",
    ),
    "de": Words(
        r"betrug",
        r"betruger",
        r"abzocke",
        r"frechheit",
        r"nie wieder",
        r"unverschamt",
        r"anwalt",
        r"skandal",
        r"verbraucherzentrale",
        r"schlechteste",
        r"scheiss",
        r"schei\u00df",
        r"danke fur nichts",
    ),
}


def foreign_charged(text: str, language: str) -> list[str]:
    """The charged words of a post in ``language`` (accents folded), if triage can read it."""
    return sorted(_charged_in(fold(text), language))


def _charged_in(folded: str, language: str) -> set[str]:
    words = CHARGED.get(language)
    return {m.group(0) for m in words.finditer(folded)} if words else set()


# What belongs in DM, as in triage.OFFLINE_TOPICS, in the other reply languages (accents folded).
OFFLINE_TOPICS = {
    "es": {
        "bags": Words(r"maleta", r"equipaje", r"valija"),
        "booking": Words(r"reserva", r"localizador", r"billete", r"boleto", r"millas"),
        "payment": Words(r"reembols", r"cobr", r"tarjeta", r"pago", r"devolu", r"dinero", r"cargo"),
        "account": Words(r"cuenta", r"contrasena"),
        "personal details": Words(r"pasaporte", r"direccion", r"telefono"),
    },
    "fr": {
        "bags": Words(r"valise", r"bagage"),
        "booking": Words(r"reservation", r"billet", r"dossier", r"miles"),
        "payment": Words(r"rembours", r"factur", r"carte", r"paiement", r"preleve", r"argent"),
        "account": Words(r"compte", r"mot de passe"),
        "personal details": Words(r"passeport", r"adresse", r"telephone"),
    },
    "pt": {
        "bags": Words(r"mala", r"bagagem"),
        "booking": Words(r"reserva", r"passagem", r"bilhete", r"milhas"),
        "payment": Words(r"reembols", r"cobra", r"cartao", r"pagamento", r"estorno", r"dinheiro"),
        "account": Words(r"conta", r"senha"),
        "personal details": Words(r"passaporte", r"endereco", r"telefone"),
    },
    "de": {
        "bags": Words(r"koffer", r"gepack"),
        "booking": Words(r"buchung", r"ticket", r"meilen", r"reservierung"),
        "payment": Words(r"erstatt", r"abgebucht", r"karte", r"zahlung", r"geld", r"rechnung"),
        "account": Words(r"konto", r"passwort"),
        "personal details": Words(r"reisepass", r"adresse", r"telefonnummer"),
    },
}


def foreign_offline_topics(text: str, language: str) -> list[str]:
    body = fold(text)
    return [topic for topic, pattern in OFFLINE_TOPICS.get(language, {}).items() if pattern.search(body)]


def read_foreign(text: str, language: str) -> tuple[ForeignCategory, list[str]]:
    """complaint | praise | unsure for a post in ``language`` (not English), with the reason."""
    lexicon = COMPLAINT.get(language)
    if lexicon is None:
        return "unsure", [f"language '{language}': triage cannot read it, a person decides"]
    body = fold(text)
    if _SARCASM[language].search(body):
        return "complaint", [f"{language} thanks for nothing: sarcasm"]
    complaint_words = sorted({m.group(0) for m in lexicon.finditer(body)} | _charged_in(body, language))
    named = ", ".join(complaint_words)[:80]
    praised = PRAISE[language].search(_THANKS_IN_ADVANCE[language].without(body)) is not None
    if complaint_words and praised:  # "gracias por el reembolso tan rápido": never a canned sorry
        return "unsure", [f"{language} praise and complaint words ({named}): a person decides"]
    if complaint_words:
        asking = "?" in body and all(_ASKED_ABOUT[language].search(word) for word in complaint_words)
        if asking:
            return "unsure", [f"{language} a question about {named}: a person decides"]
        return "complaint", [f"{language} complaint words: {named}"]
    if praised:
        return "praise", [f"{language} praise words"]
    return "unsure", [f"language '{language}': no clear complaint or praise words, a person decides"]
