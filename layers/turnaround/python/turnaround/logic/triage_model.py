"""The learned complaint model: logistic regression over hashed word n-grams and a few cues.

Pure Python at inference (no numpy): a post becomes a few hundred hashed features, and the score is
a sum of their weights. The weights ship in the layer beside this module
(``triage_weights.json.gz``, written by ``make train-triage``; ``triage_model_card.md`` says what
it was trained on and how well it does). Feature extraction lives here, once, so training and
inference can never disagree about what a feature is.

Handles (@brand) are dropped and URLs and numbers are normalised, so the model learns the
customer's words ("on hold for 0 hours", "nobody calls back"), not which brand was addressed.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math
import re
import sys
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from turnaround.logic.triage_cues import GRATITUDE, PRAISE, RESOLVED, open_problem

WEIGHTS = Path(__file__).with_name("triage_weights.json.gz")
BUCKETS = 1 << 20
# 3: no character n-grams; praise, thanks and open-problem cues. 4: the shares of positive and negative words
FORMAT_VERSION = 4

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@\w{1,15}")
_DIGITS = re.compile(r"\d+")
_TOKEN = re.compile(r"[^\W\d_][\w']*|\d+|[?!]|[^\w\s]", re.UNICODE)
_NEGATORS = frozenset(
    {"not", "no", "never", "nobody", "nothing", "none", "nor", "cannot", "without", "neither", "nowhere"}
)
_CLAUSE_END = frozenset({".", ",", "!", "?", ";", ":"})
EYE_ROLL = frozenset("🙄😒😤😡🤬😠😑😩😫🤦😞😔😢😭💩👎")
_EMOTICON = re.compile(r"(?<!\w)(?:[:;=]-?[)D]|<3)(?!\w)")
_SMILES = frozenset("😀😃😄😁😊😍🥰😘🙏👍👏❤💕💖💙💯🎉🙌✨😎🤩")


@cache
def _vader() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=64)  # triage asks for a post's tone, then the model for its features: VADER once
def polarity(text: str) -> tuple[float, float, float]:
    """VADER (compound in [-1, 1], share of positive words, share of negative words), without @handles."""
    scores = _vader().polarity_scores(_HANDLE.sub("", text))
    return float(scores["compound"]), float(scores["pos"]), float(scores["neg"])


def sentiment(text: str) -> float:
    """VADER compound score in [-1, 1] for the words, without the @handles."""
    return polarity(text)[0]


@lru_cache(maxsize=1 << 17)  # the same n-grams recur post after post: hash each once per container
def _bucket(name: str) -> int:
    return zlib.crc32(name.encode("utf-8")) & (BUCKETS - 1)


def tokens(text: str) -> list[str]:
    """Lower-cased words, digits as ``0``, URLs as ``<url>``, handles removed, ``?``/``!``/emoji kept."""
    # X's API sends text HTML-escaped ("&amp;", "&lt;3"): read the characters, not the entity names.
    body = _URL.sub(" urltoken ", _HANDLE.sub(" ", html.unescape(text))).lower().replace("\u2019", "'")
    body = body.replace("#", " ")
    return [_DIGITS.sub("0", tok) for tok in _TOKEN.findall(body)]


def feature_names(text: str, compound: float | None = None) -> dict[str, float]:
    """Every feature of a post with its value (the training and inference view of a post)."""
    toks = tokens(text)
    words = [t for t in toks if t[0].isalnum()]
    sparse: set[str] = set()
    negated = 0
    for i, tok in enumerate(toks):
        if tok in _CLAUSE_END:
            negated = 0
        sparse.add("w:" + tok)
        if negated:
            sparse.add("n:" + tok)
            negated -= 1
        if tok in _NEGATORS or tok.endswith("n't"):
            negated = 3
        if i:
            sparse.add("b:" + toks[i - 1] + " " + tok)
    scale = 1.0 / math.sqrt(len(sparse)) if sparse else 0.0
    features = dict.fromkeys(sparse, scale)
    score = sentiment(text) if compound is None else compound
    features["d:bias"] = 1.0
    features["d:pos"] = max(score, 0.0)
    features["d:neg"] = max(-score, 0.0)
    # The shares of positive and of negative words, apart: the compound score nets them out, and
    # praise that says "nothing but great things" or "horrible cold" nets to a negative one.
    _, positive_share, negative_share = polarity(text)
    features["d:vpos"] = positive_share
    features["d:vneg"] = negative_share
    features["d:question"] = 1.0 if "?" in text else 0.0
    features["d:exclaim2"] = 1.0 if "!!" in text else 0.0
    features["d:eyeroll"] = 0.0 if EYE_ROLL.isdisjoint(text) else 1.0
    features["d:smile"] = (
        1.0 if not _SMILES.isdisjoint(text) or _EMOTICON.search(html.unescape(text)) else 0.0
    )
    features["d:url"] = 1.0 if "urltoken" in toks else 0.0
    features["d:caps"] = 1.0 if re.search(r"\b[A-Z]{4,}\b", _HANDLE.sub("", text)) else 0.0
    features["d:long"] = min(len(words), 40) / 40
    # Positive words around a problem are how sarcasm reads ("so glad I paid ... to stand in the rain").
    features["d:pos_and_neg"] = 1.0 if score > 0.3 and any(("n:" + w) in sparse for w in words) else 0.0
    # Praise, thanks and "all good" are dense cues, learned across every post rather than per word:
    # brand-directed praise is rare in the training data, so its words alone carry little weight.
    praise, thanks = PRAISE.search(text) is not None, GRATITUDE.search(text) is not None
    open_ = open_problem(text)
    features["d:praise"] = 1.0 if praise else 0.0
    features["d:thanks"] = 1.0 if thanks else 0.0
    features["d:open"] = 1.0 if open_ else 0.0
    features["d:praise_no_open"] = 1.0 if (praise or thanks) and not open_ else 0.0
    features["d:resolved"] = 1.0 if RESOLVED.search(text) else 0.0
    return features


def hashed(features: dict[str, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for name, value in features.items():
        if value:
            index = _bucket(name)
            out[index] = out.get(index, 0.0) + value
    return out


@dataclass(frozen=True)
class Thresholds:
    """At or above ``complaint``: open a case; at or above ``unsure``: a person decides; below: not one.

    A post whose words read positive (VADER > 0) opens a case only at or above ``positive_tone``
    (never below ``complaint``); between the two a person decides. Praise that the model half-reads
    as a complaint sits there, and a public sorry to it embarrasses the brand. A case whose post
    thanks or praises gets the automated public ack only at or above ``praise_ack``.
    """

    complaint: float
    unsure: float
    positive_tone: float = 0.0
    # A complaint whose words thank or praise gets the automated public ack only at or above this
    # (and the playbook's acknowledge.min_confidence); below, its case opens and the rep writes the
    # first reply. 0: no bar of its own (weights written before it).
    praise_ack: float = 0.0

    def opens_a_case(self, confidence: float, tone: float) -> bool:
        needed = max(self.complaint, self.positive_tone) if tone > 0 else self.complaint
        return confidence >= needed


@dataclass
class ComplaintModel:
    weights: dict[int, float]
    thresholds: Thresholds
    card: dict[str, Any] = field(default_factory=dict)

    def probability(self, text: str, compound: float | None = None) -> float:
        return self.probability_of(hashed(feature_names(text, compound)))

    def probability_of(self, features: dict[int, float]) -> float:
        z = sum(self.weights.get(i, 0.0) * v for i, v in features.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))

    def to_json(self) -> dict[str, Any]:
        """Weights as base64 little-endian uint32 indices and float32 values: loads in milliseconds."""
        kept = sorted((i, w) for i, w in self.weights.items() if abs(w) >= 5e-4)
        indices, values = array("I", (i for i, _ in kept)), array("f", (w for _, w in kept))
        if sys.byteorder != "little":
            indices.byteswap()
            values.byteswap()
        return {
            "format": FORMAT_VERSION,
            "buckets": BUCKETS,
            "thresholds": {
                "complaint": self.thresholds.complaint,
                "unsure": self.thresholds.unsure,
                "positive_tone": self.thresholds.positive_tone,
                "praise_ack": self.thresholds.praise_ack,
            },
            "card": self.card,
            "indices": base64.b64encode(indices.tobytes()).decode(),
            "values": base64.b64encode(values.tobytes()).decode(),
        }

    def save(self, path: Path = WEIGHTS) -> None:
        data = json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True).encode()
        path.write_bytes(gzip.compress(data, mtime=0))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComplaintModel:
        if data.get("format") != FORMAT_VERSION or data.get("buckets") != BUCKETS:
            raise ValueError("triage weights were written by another version of the features")
        indices, values = array("I"), array("f")
        indices.frombytes(base64.b64decode(data["indices"]))
        values.frombytes(base64.b64decode(data["values"]))
        if sys.byteorder != "little":
            indices.byteswap()
            values.byteswap()
        return cls(
            weights=dict(zip(indices, values, strict=True)),
            thresholds=Thresholds(**data["thresholds"]),
            card=data.get("card", {}),
        )


@cache
def load_model(path: Path = WEIGHTS) -> ComplaintModel:
    return ComplaintModel.from_json(json.loads(gzip.decompress(path.read_bytes())))


def train(
    examples: Iterable[tuple[dict[int, float], int, float]],
    *,
    epochs: int = 10,
    rate: float = 0.1,
    l2: float = 1e-3,
    seed: int = 7,
) -> dict[int, float]:
    """Logistic regression by AdaGrad SGD on hashed features: (features, 1 = complaint, sample weight)."""
    import random

    data = list(examples)
    rng = random.Random(seed)
    weights: dict[int, float] = {}
    squares: dict[int, float] = {}
    for _ in range(epochs):
        rng.shuffle(data)
        for features, label, weight in data:
            z = sum(weights.get(i, 0.0) * v for i, v in features.items())
            p = 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))
            g = (p - label) * weight
            for i, v in features.items():
                w = weights.get(i, 0.0)
                grad = g * v + l2 * w
                s = squares.get(i, 1e-8) + grad * grad
                squares[i] = s
                weights[i] = w - rate * grad / math.sqrt(s)
    return weights
