"""How the brand addresses a customer in posts, DMs and emails, and when it speaks automatically."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from turnaround.models.language import language_name, language_of
from turnaround.models.mention import Author

if TYPE_CHECKING:
    from turnaround.models.case import Case
    from turnaround.models.mention import Mention
    from turnaround.models.playbook import Playbook


def ack_withheld(
    playbook: Playbook, case: Case, mention: Mention, *, followed_unanswered: bool = False
) -> str | None:
    """Why this case gets no automated public ack (its rep writes the first reply), or None: what
    the Acknowledge task does and what the rep's email says of it. ``followed_unanswered``: nothing
    of ours reached the customer on the earlier case this one follows
    (``CaseWorkflow.followed_case_unanswered``), so this case's ack is their only answer."""
    if case.follows_case_id and not followed_unanswered:
        # A customer posting again ("hello??", a second post about it) would get canned reply after
        # canned reply: the first case's ack (or its rep) speaks for us, the rep answers the rest.
        return (
            f"the customer's earlier case {case_ref(case.follows_case_id)} is still open; one automated "
            "reply per customer at a time, so the rep answers this post"
        )
    if mention.triage.sensitive:
        # "Sorry about this, we're on it!" under an injury, a death or a racist remark embarrasses
        # the brand: the rep (the supervisor copied) answers it in their own words, urgently.
        return f"the post is about {mention.triage.sensitive}: a person writes the first reply"
    rival = playbook.competitor_named(mention.text)
    if rival:
        return f"the post names @{rival}, a competitor: a canned sorry could apologise for them"
    if not mention.mentions_handle:
        # X only allows replies to posts that mention or quote us: a human decides instead.
        return "the post does not mention or quote us, so X allows no automated reply to it"
    if not playbook.speaks(mention.triage.lang):  # never an English canned reply to another language
        return (
            f"the playbook has no reply templates in the customer's language, "
            f"{language_name(mention.triage.lang)}: "
            "a person writes the first reply"
        )
    return playbook.ack_withheld(
        mention.triage.confidence, opened_by_a_person=bool(case.opened_by), post_bar=mention.triage.ack_bar
    )


def supervisor_copied(playbook: Playbook, sensitive: str | None, recipient_email: str) -> list[str]:
    """Who else reads an email to ``recipient_email`` about a post naming a ``sensitive`` situation
    (an injury, a death, a legal threat: logic/triage_sensitive.py): the supervisor, who hears of it
    now, not after the SLA (the case's first email to its rep, and a later such post in its thread)."""
    if not sensitive or recipient_email == playbook.supervisor.email:
        return []
    return [str(playbook.supervisor.email)]


def details_shown(playbook: Playbook, mention: Mention) -> str | None:
    """The customer's personal details their own post shows in public ("a phone number (07*** ***
    *23)"), for the rep, or None. Such a case goes on by DM whatever triage's route: a public "we'll
    update you here" would keep the conversation under their phone number or booking reference."""
    from turnaround.personal_details import describe

    details = playbook.personal_details_in(mention.text, customers_own=True)
    return describe(details) if details else None


def after_hours_opening(playbook: Playbook, case: Case) -> datetime | None:
    """When the team opens, for a case that came in outside support hours and has no on-call
    person (an urgent one with on-call is answered now): its SLA clock starts then."""
    return playbook.sla_starts_at_opening(case.priority, case.opened_at)


# The day the team is back, in the customer's words (the languages the playbook ships; others get
# English): "back at 08:00" alone would mislead on a Saturday night when the team opens on Monday.
WEEKDAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "pt": (
        "segunda-feira",
        "terça-feira",
        "quarta-feira",
        "quinta-feira",
        "sexta-feira",
        "sábado",
        "domingo",
    ),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}


def opening_values(opening: datetime, lang: str | None) -> dict[str, str]:
    """What after-hours templates say of the opening, in the brand's time zone: ``opens_on`` (the
    weekday) and ``opens_at`` ("08:00 GMT")."""
    names = WEEKDAY_NAMES.get(language_of(lang), WEEKDAY_NAMES["en"])
    return {"opens_on": names[opening.weekday()], "opens_at": f"{opening:%H:%M} {opening.tzname()}"}


def case_ref(case_id: str) -> str:
    """The short case reference customers and reps see (the case id's last six digits)."""
    return case_id.rsplit("-", 1)[-1][-6:]


# Titles people put before their name: "Dr. Jane Doe" is greeted as "Jane".
_HONORIFICS = frozenset(
    {"dr", "mr", "mrs", "ms", "mx", "miss", "prof", "sir", "dame", "rev", "sr", "sra", "mme", "herr", "frau"}
)
_NAME_JOINERS = "-'\u2019"  # hyphen, apostrophe, typographic apostrophe

# Swearing, in a customer's post (never amplified) or their display name or username (never repeated).
PROFANITY = re.compile(
    r"\b(f+u+c+k\w*|shit\w*|damn|crap|bitch\w*|bastard\w*|wtf|asshole\w*)\b", re.IGNORECASE
)
# Words an angry customer (or a business) puts first in a display name that are not names: "Still
# Waiting For My Refund", "Boycott AcmeAir", "Angry Customer", "The Guardian Travel". Greeting them by
# it ("Really sorry for the trouble, Still.") is a screenshot; a rare real "Sunny" gets their username.
_NOT_NAMES = frozenset(
    {
        "a", "an", "the", "my", "your", "our", "their", "this", "that", "not", "no", "never", "just", "still",
        "yet", "again", "very", "so", "too", "only", "i", "im", "me", "we", "us", "you", "they", "dear",
        "hey", "hi", "hello", "please", "help", "stop", "why", "where", "when", "what", "how", "who", "angry",
        "furious", "fed", "mad", "upset", "unhappy", "disappointed", "frustrated", "annoyed", "disgusted",
        "livid", "sad", "tired", "sick", "done", "ex", "former", "loyal", "worst", "bad", "terrible", "awful",
        "poor", "shameful", "useless", "pathetic", "boycott", "refund", "refunds", "stranded", "delayed",
        "cancelled", "canceled", "lost", "waiting", "stuck", "justice", "scam", "fraud", "shame", "sucks",
        "hate", "honest", "real", "official", "customer", "customers", "passenger", "traveller", "traveler",
        "flyer", "victim", "another", "team", "support", "service", "news", "travel", "media", "info", "fan",
        "user", "account",
        # The same, in the other languages the playbook answers in ("Sigo Esperando Mi Reembolso",
        # "Cliente Enfadado", "Toujours Sans Valise", "Immer Noch Kein Koffer").
        "sigo", "todavia", "todavía", "aun", "aún", "esperando", "cliente", "clienta", "clientes", "enfadado",
        "enfadada", "harto", "harta", "indignado", "indignada", "estafado", "estafada", "boicot", "reembolso",
        "mi", "tu", "el", "los", "las", "un", "otro", "otra", "pasajero", "pasajera", "sin", "nunca", "peor",
        "toujours", "encore", "sans", "client", "mon", "ma", "mes", "les", "une", "passager",
        "passagère", "furieux", "furieuse", "vol", "remboursement", "marre", "jamais", "pire",
        "ainda", "sem", "meu", "minha", "os", "um", "passageiro", "passageira", "revoltado", "revoltada",
        "pior",
        "immer", "noch", "kein", "keine", "kunde", "kundin", "der", "die", "das", "ein", "eine", "mein",
        "meine", "ohne", "wütend", "sauer", "genervt", "passagier", "warte", "wieder", "schlechteste",
    }
)  # fmt: skip
# In a username ("AcmeAirSucks", "boycott_acme"): the customer's handle is not repeated either.
_PROTEST_IN_USERNAME = re.compile(r"suck|ihate|boycott|scam|fraud|worst|fuck|shit|bitch", re.IGNORECASE)


def first_name(author: Author | None) -> str:
    """The name we greet the customer by in public: the first word of the display name if it is
    plainly a name, else their username (their own handle, which every language reads as a name).

    A display name is whatever the customer typed, and our post repeats it to everyone: a word that
    is not plainly a name ("@elonmusk" would mention a third party from our account, "#boycott",
    "BOYCOTT", "Sam2024", "Still Waiting For My Refund", a swear word) is never used, nor is a username
    of protest ("AcmeAirSucks"): then it is "", and the post leaves the name out ("Sorry about this.").
    Titles and emoji before the name are skipped."""
    for word in (author.name if author else "").split():
        word = word.rstrip(".,:;!")
        if word.lower() in _HONORIFICS or not any(ch.isalpha() for ch in word):
            continue  # "Dr." or a decoration such as an emoji
        if _plainly_a_name(word):
            return word
        break  # the first word that is not a title is the name, or there is none we can use
    username = author.username if author else ""
    usable = username.replace("_", "").isalnum() and username.isascii()
    # No name at all: "" leaves it out of the template (Playbook.render), in every language.
    return username[:20] if usable and not _PROTEST_IN_USERNAME.search(username) else ""


def _plainly_a_name(word: str) -> bool:
    letters = [ch for ch in word if ch not in _NAME_JOINERS]
    return (
        2 <= len(word) <= 20
        and bool(letters)
        and all(ch.isalpha() for ch in letters)
        and word[0].isalpha()
        and word[-1].isalpha()
        and not (word.isupper() and len(letters) > 3)  # shouting, not a name
        and "".join(letters).lower() not in _NOT_NAMES
        and not PROFANITY.search(word)
    )
