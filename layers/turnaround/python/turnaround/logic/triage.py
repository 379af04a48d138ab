"""Triage of one post: complaint or not, how charged, how urgent.

vaderSentiment (tuned for social media: emoji, caps, "!!", slang) gives the tone; short, readable
rules give the intent. Every decision records its reasons so a rep can see why a case is urgent.
"""

from __future__ import annotations

import re
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from turnaround.models.mention import Category, Severity, Triage

_MENTION = re.compile(r"@\w{1,15}")


def _patterns(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{w})" for w in words), re.IGNORECASE)


SPAM_STRONG = _patterns(
    r"earn \$",
    r"free followers",
    r"giveaway",
    r"hot singles",
    r"link in bio",
    r"follow4follow",
    r"\d+% off",
    r"\b(send|get) [\d.]+ (eth|btc)\b",
    r"click here",
)
SPAM_WEAK = _patterns(r"https?://", r"www\.", r"\bdm me\b", r"\bcrypto\b", r"\bpromo:", r"🚀")

PROBLEM = _patterns(
    r"\bdelay",
    r"\blate\b",
    r"\bcancel",
    r"\blost\b",
    r"\bbroken\b",
    r"not working",
    r"n't working",
    r"\bdoesn'?t work",
    r"\bcrash",
    r"\brefund",
    r"\bcharged\b",
    r"\bbilled\b",
    r"still waiting",
    r"\bstill nothing\b",
    r"hasn'?t (shown|moved|arrived)",
    r"never (posted|arrived|came)",
    r"\bwrong\b",
    r"\blocked\b",
    r"can'?t (see|log|access|find)",
    r"won'?t let",
    r"\bsmashed\b",
    r"\bdented\b",
    r"\brude\b",
    r"caught fire",
    r"\bmissing\b",
    r"on hold",
    r"\bstuck\b",
    r"\berror\b",
    r"misspelled",
    r"logging me out",
    r"no (water|updates|ticket|announcement)",
    r"\bdamaged\b",
    r"thanks for nothing",
    r"\bworst\b",
    r"\bdisgusting\b",
    r"left at",
    r"\bhung up\b",
    r"\bpaid (for|extra)\b",
    r"\bwant my .* back\b",
    r"\bno ?one can\b",
    r"\bnobody\b",
    r"\bdead\b",
    r"\bsnapped\b",
    r"\bnothing at\b",
    r"\bopened\b",
    r"\binjur",
    r"\bcut my\b",
    r"\bburn(ed|t)\b",
    r"\bdisgrace\b",
    r"\bmiss my\b",
    r"\bnever (received|got)\b",
    r"\bdidn'?t (arrive|work|get)\b",
)
CHARGED = _patterns(
    r"\bfurious\b",
    r"\bdisgusting\b",
    r"\bworst\b",
    r"never \w+ with you again",
    r"\bscam",
    r"\btheft\b",
    r"\blawyer",
    r"\bunacceptable\b",
    r"\bpathetic\b",
    r"\bhorrible\b",
    r"caught fire",
    r"\bhurt\b",
    r"\binjur",
    r"\bruined\b",
    r"\bscreamed\b",
    r"\blaughed at\b",
    r"\bi'?m done\b",
    r"\bavoid you\b",
    r"\bjoke\b",
    r"\bnow\b.*\brefund|\brefund\b.*\bnow\b",
    r"thanks for nothing",
    r"\bshaking\b",
    r"\bmedication\b",
    r"\bsafety\b",
    r"\bfraud\b",
    r"\bdisgrace\b",
    r"\bcut my\b",
    r"\binjur",
    r"\bbleeding\b",
    r"\bburn(ed|t)\b",
    r"\bwedding\b|\bfuneral\b",
)
COMPLEX = _patterns(
    r"\bbooking\b",
    r"\bref\b",
    r"\baccount\b",
    r"\bpassword\b",
    r"\brefund\b",
    r"\bmiles\b",
    r"order number",
    r"\bbilled\b",
    r"\bsubscription\b",
    r"\bstatement\b",
    r"\bcard\b",
    r"frequent flyer",
    r"name on",
    r"\border\s*#?\d{3,}",
    r"\bpaid\b",
    r"\bdelivered\b",
    r"\bitems missing\b",
    r"\bfee\b",
)
QUESTION_START = _patterns(
    r"^(can|could|do|does|is|are|what|when|how|where|which|will|should|any)\b",
)
PRAISE = _patterns(
    r"\bthank",
    r"\blove\b",
    r"\bgreat\b",
    r"\bamazing\b",
    r"\bbrilliant\b",
    r"\brock\b",
    r"\bbest\b",
    r"\bawesome\b",
    r"\bperfect\b",
    r"\bproud\b",
    r"❤️",
    r"👏",
    r"really good",
    r"\bkudos\b",
    r"\bobsessed\b",
    r"😍",
    r"\bspecial\b",
    r"\bkind\b",
)

CHARGED_SENTIMENT = -0.6
PRAISE_SENTIMENT = 0.4


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def sentiment(text: str) -> float:
    """VADER compound score in [-1, 1] for the words, without the @handles."""
    return float(_analyzer().polarity_scores(_MENTION.sub("", text))["compound"])


def _shouting(text: str) -> bool:
    return sum(1 for word in re.findall(r"\b[A-Z]{4,}\b", text)) >= 1 or "!!" in text


def classify(text: str) -> tuple[Category, float, list[str]]:
    body = _MENTION.sub("", text).strip()
    score = sentiment(text)
    reasons: list[str] = [f"sentiment {score:+.2f}"]
    if SPAM_STRONG.search(body) or len(SPAM_WEAK.findall(body)) >= 2:
        return "spam", score, [*reasons, "spam pattern"]
    asks = body.endswith("?") and QUESTION_START.search(body) is not None
    if asks and score > -0.3 and not CHARGED.search(body):
        return "question", score, [*reasons, "asks a question"]
    problems = PROBLEM.findall(body)
    if problems or score <= -0.5:
        reasons.append("problem words" if problems else "strongly negative")
        return "complaint", score, reasons
    if score >= PRAISE_SENTIMENT and PRAISE.search(body):
        return "praise", score, [*reasons, "positive words"]
    return "other", score, reasons


def severity(text: str, score: float) -> tuple[Severity, list[str]]:
    if score <= CHARGED_SENTIMENT or CHARGED.search(text) or (_shouting(text) and score < 0):
        return "charged", ["charged tone or stakes"]
    if COMPLEX.search(text):
        return "complex", ["needs account or booking details"]
    return "simple", ["can be settled publicly"]


def priority(severity_: Severity | None, *, followers: int, verified: bool) -> tuple[int, list[str]]:
    """1 is most urgent. Influence raises priority; it never turns a non-complaint into work."""
    if severity_ is None:
        return 4, []
    score = {"charged": 2, "complex": 1, "simple": 0}[severity_]
    reasons = []
    if followers >= 100_000:
        score, reasons = score + 2, [f"{followers:,} followers"]
    elif followers >= 10_000:
        score, reasons = score + 1, [f"{followers:,} followers"]
    if verified:
        score, reasons = score + 1, [*reasons, "verified"]
    level = 1 if score >= 4 else 2 if score == 3 else 3 if score >= 1 else 4
    return level, reasons


def triage(text: str, *, followers: int = 0, verified: bool = False) -> Triage:
    category, score, reasons = classify(text)
    level_of: Severity | None = None
    if category == "complaint":
        level_of, why = severity(text, score)
        reasons += why
    level, why_priority = priority(level_of, followers=followers, verified=verified)
    return Triage(
        category=category,
        sentiment=score,
        severity=level_of,
        priority=level,
        reasons=reasons + why_priority,
    )
