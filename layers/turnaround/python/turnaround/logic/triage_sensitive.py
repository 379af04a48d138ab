"""Posts a person answers first: safety (and weapons, bombs), injury or health, bereavement,
discrimination, harassment or threats, accessibility, legal threats and the press.

A canned "Sorry about this, we're on it!" under "my father died on your flight" or "your driver
assaulted me" embarrasses the brand, and such a post is urgent whoever wrote it. Triage marks a
complaint (or a post it is unsure of) with the first kind whose words it contains: the case is
priority 1, goes offline, gets no automated ack (its rep writes the first reply, on the urgent SLA)
and the supervisor is copied on the rep's first email.

The words name the situation, not a mood: "died" only of a person ("my battery died" is a
complaint, not a bereavement), "fire" only as something that burned. Measured on the 3,449 real
tweets of ``../shared/data/complaints-social-media``: see the commit that added this module.
"""

from __future__ import annotations

import re
from functools import cache

from turnaround.logic.triage_cues import _patterns
from turnaround.logic.triage_languages import Words
from turnaround.models.language import fold, language_of

_KIN = (
    r"(mother|father|mum|mom|dad|wife|husband|son|daughter|brother|sister|grandmother|grandfather"
    r"|grandma|grandpa|grandad|granddad|grandson|granddaughter|nan|nana|gran|granny|child|baby|partner"
    r"|friend|aunt|uncle)"
)
_BODY = r"(arm|leg|wrist|ankle|hip|knee|nose|tooth|teeth|finger|foot|back|neck)"
_PEOPLE = (
    r"(me|us|you|them|him|her|someone|somebody|anyone|my \w+"
    r"|your (staff|agents?|crew|drivers?|employees?|people))"
)

ENGLISH_WORDS: dict[str, tuple[str, ...]] = {
    "safety": (
        r"\bunsafe\b",
        r"\bsafety (issue|concern|hazard|risk|problem|violation)",
        r"\bdangerous(ly)?\b(?! (good|delicious|tasty|cheap|addictive|comfy|comfortable|fast wifi))",
        r"\b(health|fire|safety|trip|electrical|choking) hazard\b",
        r"\bhazardous\b",
        r"\bemergency (landing|room|services|slide|evacuation)",  # not an "emergency exit row" seat
        r"\bemergency exits? (was|were|is|are) (blocked|locked|obstructed)",
        r"\bmedical emergency\b",
        r"\bsmoke (in|from|coming|pouring|filled)\b",
        r"\bsmell(s|ed)? of (smoke|burning|gas)\b",
        r"\bcaught fire\b",
        r"\bwent up in flames\b",
        r"\b(battery|phone|charger|tyre|tire|engine|boiler|oven|microwave|laptop|device|bottle|heater|it)"
        r" (has |had |just )?explod(ed|es|ing)\b",
        r"\bexplosion\b",
        r"\bcarbon monoxide\b",
        r"\bgas leak\b",
        r"\bfood poisoning\b",
        r"\bbrakes? (failed|failure)\b",
        r"\ballergic reaction\b",
        r"\banaphyla",
        r"\bchok(ed|ing)\b(?! hazard)",
        r"\bfeared for (my|our|his|her|their) (life|lives|safety)\b",
        r"\bcould('ve| have) (been killed|killed (someone|somebody|us|me|him|her|them|my \w+))\b",
        r"\bbomb (went off|threat|scare|squad)",  # "thought a bomb went off in my house" (a real post)
        r"\b(pulled|waved|brandished|had|carrying|with|threatened me with) an? (gun|knife|weapon)\b",
        r"\bat (gun|knife)point\b",
    ),
    "injury or health": (
        r"\binjur(y|ies|ed)\b",
        r"\b(got|was|were|been|is) (badly |seriously )?hurt\b",
        r"\bbleeding\b",
        rf"\bburn(ed|t|s) (my|his|her|their|our) (\w+ )?"
        rf"({_BODY[1:-1]}|hands?|face|skin|mouth|chest|{_KIN[1:-1]})\b",
        r"\b(got|suffered|with|has|had) (a |bad |severe )?burns?\b",
        r"\b(in|to|from) (the )?hospital\b",
        r"\bhospitali[sz]ed\b",
        r"\bambulance\b",
        r"\bparamedics?\b",
        r"\bheart attack\b",
        r"\bseizure\b",
        r"\b(fainted|lost consciousness)\b",
        r"\bpassed out\b"
        r"(?! (the |some |free )?(snacks|water|food|drinks|blankets|meals|vouchers|forms|cards|menus))",
        rf"\bbroke (my|his|her|their) {_BODY}\b",
    ),
    "bereavement": (
        r"\bpassed away\b",
        rf"\b{_KIN} (has |had )?(just |recently )?died\b",
        rf"\bmy late {_KIN}\b",
        rf"\bdeath of (my|our) {_KIN}\b",
        r"\bdeath (in the family|certificate)\b",
        r"\bfuneral\b",
        r"\bdeceased\b",
        r"\bbereave",
    ),
    "discrimination or harassment": (
        r"\bracis[tm]\b",
        r"\bdiscriminat",
        r"\bsexis[tm]\b",
        r"\bhomophob",
        r"\btransphob",
        r"\bharass",  # "harassing me with calls" is taken out first (NOT_MEANT_WORDS)
        r"\bassault",
        r"\bgroped\b",
        r"\bmolest",
        rf"\b(punched|slapped|shoved|headbutted|spat on|attacked) {_PEOPLE}",
        rf"\bkicked {_PEOPLE}(?! (out|off))",  # not "kicked me out" of a website
        r"\bthreatened (me|us|my|our|to (hit|hurt|kill|punch|attack))\b",
        rf"\b(i'?ll|i will|i'?m going to|i'?m gonna) (kill|hurt|shoot|stab|punch|attack) {_PEOPLE}",
    ),
    "accessibility": (
        r"\bwheel ?chairs?\b",
        r"\bdisabilit(y|ies)\b",
        r"\bdisabled (passenger|customer|son|daughter|child|mother|father|wife|husband|person|people)",
        r"\bservice dogs?\b",
        r"\bservice animals?\b",
        r"\bmobility (aid|scooter|assistance)\b",
        r"\bblind (passenger|customer|person)\b",
    ),
    "legal or press": (
        r"\blawyers?\b",
        r"\battorneys?\b",
        r"\bsolicitors?\b",
        r"\b(i'?ll|i will|going to|gonna|we'?ll|we will) sue\b",
        r"\bsue (you|them|your|@)",
        r"\bsuing (you|them|your|@)",
        r"\blawsuit\b",
        r"\blegal action\b",
        r"\bsmall claims\b",
        r"\bombudsman\b",
        r"\btrading standards\b",
        r"\b(complaint|report) (with|to) (the )?(dot|faa|caa|ftc|bbb|cfpb|fca|ofcom|ofgem|regulator)\b",
        r"\bjournalist\b",
        r"\breporter\b",
        r"\bpress office",
        r"\bpress enquir",
        r"\bpress inquir",
        r"\bwriting an? (piece|story|article)\b",
    ),
}
# Words one of which every phrase above contains (a unit test holds each phrase to it; " sue" starts
# a word, so "issue" is not one):
# a post with none of them names no sensitive situation, and most posts are spared the phrases
# (~50 us a post: the phrases start with common words, "in the hospital", "I'll ... you").
STEMS = (
    "unsafe", "safety", "dangerous", "hazard", "emergency", "smoke", "smell", "caught fire", "flames",
    "explo", "carbon monoxide", "gas leak", "food poisoning", "brake", "allergic", "anaphyla", "chok",
    "feared", " killed", "bomb", " gun", "knife", "weapon",
    "injur", "hurt", "bleeding", "burn", "hospital", "ambulance", "paramedic", "heart attack", "seizure",
    "fainted", "consciousness", "passed out", "broke ",
    "passed away", "died", "my late", "death", "funeral", "deceased", "bereave",
    "racis", "discriminat", "sexis", "homophob", "transphob", "harass", "assault", "groped", "molest",
    "punch", "slap", "shove", "headbutt", "spat on", "attack", " kick", "threatened", " kill", "shoot",
    " stab",
    "wheel", "disabilit", "disabled", "service dog", "service animal", "mobility", "blind",
    "lawyer", "attorney", "solicitor", " sue", " suing", "lawsuit", "legal action", "small claims",
    "ombudsman", "trading standards", " dot", " faa", " caa", " ftc", " bbb", " cfpb", " fca", "ofcom",
    "ofgem", "regulator", "journalist", "reporter", "press office", "press enquir", "press inquir",
    "writing a",
)  # fmt: skip


# Phrases that use those words for something else, blanked before the kinds are looked for.
NOT_MEANT_WORDS = (
    r"\b(nobody|no one|no-one|noone|none of us|thankfully nobody|luckily nobody)( \w+)? (was|were|got|is|are)"
    r"( \w+)? (hurt|injured)\b",
    r"\bfeelings (were |are |got )?hurt\b",
    r"\bharass\w* (me |us )?(with|by) (\w+ )?"
    r"(calls|phone calls|emails|e-mails|texts|messages|letters|mail|spam|ads)",
)


# The same kinds in the other languages the playbook ships replies in (accents folded:
# language.fold); each phrase starts at a word, compiled on first use (Words).
FOREIGN: dict[str, dict[str, Words]] = {
    "es": {
        "safety": Words(
            r"peligr",
            r"insegur",
            r"aterrizaje de emergencia",
            r"evacuacion",
            r"humo\b",
            r"incendio",
            r"intoxicacion",
        ),
        "injury or health": Words(
            r"herid[oa]s?\b",
            r"lesion",
            r"hospital\b",
            r"hospitaliz",
            r"urgencias\b",
            r"ambulancia",
        ),
        "bereavement": Words(
            r"fallec",
            r"(padre|madre|papa|mama|hij[oa]|espos[oa]|marido|mujer|abuel[oa]"
            r"|herman[oa]) (ha |se )?(muerto|murio)",
            r"funeral",
            r"entierro",
        ),
        "discrimination or harassment": Words(r"racis", r"discrimin", r"acoso", r"agresion", r"agredi"),
        "accessibility": Words(r"silla de ruedas", r"discapacidad", r"movilidad reducida"),
        "legal or press": Words(r"abogad", r"denuncia", r"demandar", r"periodista"),
    },
    "fr": {
        "safety": Words(
            r"danger",
            r"atterrissage d'urgence",
            r"evacuation d'urgence",
            r"fumee",
            r"incendie",
            r"intoxication",
        ),
        "injury or health": Words(r"blesse", r"blessure", r"hopital", r"aux urgences", r"ambulance"),
        "bereavement": Words(
            r"decede",
            r"deces\b",
            r"(pere|mere|fils|fille|mari|femme|grand-pere|grand-mere"
            r"|frere|soeur) est morte?\b",
            r"obseques",
            r"funerailles",
        ),
        "discrimination or harassment": Words(r"racis", r"discrimin", r"harcel", r"agress(e|ion)"),
        "accessibility": Words(r"fauteuil roulant", r"handicap", r"mobilite reduite"),
        "legal or press": Words(
            r"mon avocat",
            r"(contacter|consulter|prendre) un avocat",
            r"porter plainte",
            r"en justice",
            r"poursuites judiciaires",
            r"journaliste",
        ),
    },
    "pt": {
        "safety": Words(r"perigo", r"insegur", r"pouso de emergencia", r"fumaca", r"incendio", r"intoxica"),
        "injury or health": Words(
            r"ferid[oa]s?\b",
            r"machuc",
            r"hospital\b",
            r"hospitaliz",
            r"pronto[- ]socorro",
            r"ambulancia",
        ),
        "bereavement": Words(
            r"faleceu",
            r"falecimento",
            r"(pai|mae|filh[oa]|marido|espos[oa]|avo|irmao|irma)"
            r" (morreu|faleceu)",
            r"funeral",
            r"velorio",
        ),
        "discrimination or harassment": Words(r"racis", r"discrimin", r"assedio", r"agredi", r"agressao"),
        "accessibility": Words(
            r"cadeira de rodas",
            r"cadeirante",
            r"pessoa com deficiencia",
            r"deficiente fisic",
            r"mobilidade reduzida",
        ),
        "legal or press": Words(
            r"advogad",
            r"vou (te |vos |voces )?processar",
            r"processo judicial",
            r"acao judicial",
            r"procon",
            r"jornalista",
        ),
    },
    "de": {
        "safety": Words(
            r"gefahr\b",
            r"gefahrlich",
            r"lebensgefahr",
            r"notlandung",
            r"rauch\b",
            r"feuer\b",
            r"vergiftung",
        ),
        "injury or health": Words(r"verletz", r"krankenhaus", r"notarzt", r"notaufnahme", r"krankenwagen"),
        "bereavement": Words(
            r"verstorben",
            r"(vater|mutter|sohn|tochter|mann|frau|opa|oma|bruder|schwester)"
            r" (ist )?(gestorben|tot)\b",
            r"beerdigung",
            r"trauerfall",
        ),
        "discrimination or harassment": Words(r"rassis", r"diskrimin", r"belastig", r"angegriffen"),
        "accessibility": Words(r"rollstuhl", r"schwerbehindert", r"mit behinderung"),
        "legal or press": Words(r"(rechts)?anwalt", r"klage\b", r"verklagen", r"journalist"),
    },
}


# Kinds that name a danger to someone: a post triage is unsure of that names one opens a case at once
# (its rep and the supervisor are emailed now) instead of waiting for the unsure digest.
DANGER = frozenset({"safety", "injury or health", "discrimination or harassment"})


def sensitive_kind(text: str, lang: str | None = None) -> str | None:
    """The first kind of sensitive situation ``text`` names (in X's ``lang``), or None."""
    language = language_of(lang)
    kinds: dict[str, re.Pattern[str]] | dict[str, Words]
    if language == "en":
        lowered = " " + text.lower()  # " sue", not "issue": a stem may start at a word
        if not any(stem in lowered for stem in STEMS):
            return None
        not_meant, kinds = _english()
        text = not_meant.sub(" ", text)
    else:
        text, kinds = fold(text), FOREIGN.get(language, {})
    return next((kind for kind, pattern in kinds.items() if pattern.search(text)), None)


# Compiled when first needed, once per container: compiling them all took ~9 ms of every cold start
# of the mention poller, whose posts rarely hold a stem.
@cache
def _english() -> tuple[re.Pattern[str], dict[str, re.Pattern[str]]]:
    return _patterns(*NOT_MEANT_WORDS), {kind: _patterns(*words) for kind, words in ENGLISH_WORDS.items()}
