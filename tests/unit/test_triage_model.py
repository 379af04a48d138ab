# mypy: disable-error-code="operator"
# (the figures are float | None; a None fails its comparison, as a test should)
"""The learned complaint model: cross-validated on the development set against the issue's targets.

Every post is triaged by a model (weights and thresholds) fitted without it: 5-fold cross-validation
over the project's labelled set plus the brand-addressed tweets of ../shared/data/complaints-social-media.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from triage_lab.data import DEV_SET, LabelledDataError, read_labelled_csv
from triage_lab.evaluate import KEYS, Figures, brand_posts_total, cross_validate, training_posts
from turnaround.logic.triage import triage
from turnaround.logic.triage_model import WEIGHTS, feature_names, load_model

ROOT = Path(__file__).resolve().parents[2]
FIGURES: dict[str, dict[str, float | int | None]] = {}  # printed in the closing summary (conftest)


@pytest.fixture(scope="module")
def cross_validated() -> dict[str, Figures]:
    if not DEV_SET.exists():
        pytest.skip(f"development set not found at {DEV_SET} (clone shared/ beside the repository)")
    return cross_validate(training_posts())


def test_cross_validated_figures_meet_the_targets(cross_validated):
    dev = cross_validated["complaints-social-media"].as_dict()
    total = brand_posts_total(cross_validated)  # real posts to brands: not random tweets, not written
    project = cross_validated["project"].as_dict()
    FIGURES["dev set 5-fold CV"] = dev
    FIGURES["project set 5-fold CV"] = project
    print("\ncross-validated:", json.dumps(FIGURES))
    assert dev["complaint_recall"] >= 0.80
    assert dev["complaints_dropped"] <= 0.05
    assert project["complaint_recall"] >= 0.80
    # Its praise is hard on purpose (thanks for fixing a delay, a lost bag...); 3% is the goal on real praise.
    assert project["praise_apologised"] <= 0.06  # at most 2 of its 35 praise posts
    assert total.as_dict()["unsure_rate"] <= 0.25  # a person can keep up with the digest


def test_the_shipped_model_is_small_and_has_a_card():
    model = load_model()
    assert WEIGHTS.stat().st_size < 1_500_000
    assert 0 < model.thresholds.unsure <= model.thresholds.complaint < 1
    card = WEIGHTS.with_name("triage_model_card.md").read_text()
    assert "complaints-social-media" in card and "cross-validation" in card.lower()


def test_triage_eval_reads_the_documented_csv_and_writes_the_json(tmp_path):
    data = tmp_path / "posts.csv"
    data.write_text(
        "text,label,lang,followers,verified\n"
        '"@AcmeAir lost my bag, nobody answers the phone",complaint,en,10,false\n'
        '"@AcmeAir thank you, lovely flight",praise,en,5,true\n'
        '"@AcmeAir do you fly to Oslo?",neutral,,,\n'
    )
    out = tmp_path / "eval.json"
    done = subprocess.run(
        [sys.executable, "-m", "triage_lab.evaluate", str(data), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": "layers/turnaround/python:infrastructure", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert "complaint_recall" in done.stdout
    figures = json.loads(out.read_text())
    assert tuple(figures) == KEYS and figures["n"] == 3 and figures["complaint_recall"] == 1.0


def test_a_case_the_rep_answers_first_is_caught_but_is_no_public_sorry():
    """The figures count what production does: a case whose automated ack the playbook withholds
    (``acknowledge.min_confidence``) reaches a rep, so it is recall, but nobody posts a canned sorry."""
    from triage_lab.evaluate import REP_FIRST

    figures = Figures()
    for label, outcome in [
        ("complaint", "complaint"),
        ("complaint", REP_FIRST),
        ("complaint", "unsure"),
        ("complaint", "other"),
        ("praise", REP_FIRST),
        ("praise", "praise"),
    ]:
        figures.add(label, outcome)
    got = figures.as_dict()
    assert got["complaint_recall"] == 0.5 and got["complaints_acked"] == 0.25
    assert got["praise_apologised"] == 0.0 and got["praise_to_rep"] == 0.5
    assert got["complaints_dropped"] == 0.25 and got["complaint_precision"] == round(2 / 3, 4)


def test_the_eval_applies_the_playbooks_ack_bar(tmp_path):
    from triage_lab.data import Labelled
    from triage_lab.evaluate import REP_FIRST, measure
    from turnaround.models.playbook import load_playbook

    shipped = load_playbook()
    post = Labelled(
        text="@AcmeAir you lost my bag and nobody answers the phone", label="complaint", source="t"
    )
    confidence = triage(post.text).confidence
    assert confidence is not None
    for bar, outcome in ((0.0, "complaint"), (min(1.0, confidence + 0.01), REP_FIRST)):
        playbook = shipped.model_copy(
            update={"acknowledge": shipped.acknowledge.model_copy(update={"min_confidence": bar})}
        )
        assert measure([post], playbook=playbook).confusion == {("complaint", outcome): 1}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("words,label\nhi,complaint\n", "'text' and 'label'"),
        ("text,label\nhi,angry\n", ":2: label 'angry'"),
        ("text,label\n", "no rows"),
    ],
)
def test_a_bad_csv_is_refused_with_its_line(tmp_path, content, message):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    with pytest.raises(LabelledDataError, match=message):
        read_labelled_csv(data)


def test_triage_eval_ignores_columns_it_does_not_know(tmp_path):
    """A brand's export often carries more columns (an airline, a date): they are read past."""
    data = tmp_path / "export.csv"
    data.write_text('text,label,airline\n"@AcmeAir lost my bag",complaint,Acme\n')
    (post,) = read_labelled_csv(data)
    assert (post.text, post.label) == ("@AcmeAir lost my bag", "complaint")


def test_features_read_html_escapes_emoticons_and_praise_cues():
    """X sends text HTML-escaped; ':)' and '<3' are smiles; thanks for a solved problem is a cue."""
    features = feature_names("@AcmeAir I &lt;3 you guys :) thanks, all good in the end")
    assert features["d:smile"] == 1.0 and "w:lt" not in features and "w:amp" not in features
    assert features["d:thanks"] == features["d:praise"] == features["d:resolved"] == 1.0
    assert not any(name.startswith("c:") for name in features)  # no character n-grams any more
    still_open = feature_names("@AcmeAir thanks, still waiting 3 hours for my bag")
    assert still_open["d:open"] == 1.0 and still_open["d:praise_no_open"] == 0.0


def test_the_card_carries_figures_on_posts_it_was_not_trained_on_only_when_measured(tmp_path):
    from triage_lab.train import _card

    card: dict[str, Any] = {
        "trained_at": "now",
        "training_rows": {"project complaint": 1},
        "thresholds": {"complaint": 0.5, "unsure": 0.2},
        "cross_validation": {},
    }
    figures = dict.fromkeys(KEYS, 0.5) | {"n": 10}
    assert "not trained on" not in _card(card, 1.0, 1, {})
    measured = _card(card | {"measured": {"brand-march": figures}}, 1.0, 1, {}, "March export.")
    assert "| brand-march | 10 | 0.500" in measured and "March export." in measured


def test_the_positive_tone_bar_costs_at_most_its_share_of_complaints():
    """Fitted on out-of-fold scores: at most POSITIVE_TONE_COST of complaints lose their case to it."""
    from triage_lab.data import Labelled
    from triage_lab.fit import POSITIVE_TONE_COST, RECALL_GOAL, Row, choose_thresholds

    complaint, other = Labelled("c", "complaint", "dev"), Labelled("n", "neutral", "dev")
    scores = [i / 200 for i in range(200)]  # complaints score 0 to 1; every other one reads positive
    rows = [Row(complaint, {}, 1.0, tone=0.5 if i % 2 else -0.5) for i in range(200)]
    rows += [Row(other, {}, 1.0, tone=0.5)] * 50
    bars = choose_thresholds(rows, scores + [0.9] * 50)
    assert bars.positive_tone > bars.complaint
    caught = [s for r, s in zip(rows, scores, strict=False) if bars.opens_a_case(s, r.tone)]
    assert RECALL_GOAL - POSITIVE_TONE_COST - 0.01 <= len(caught) / 200 <= RECALL_GOAL


def test_the_praise_ack_bar_withholds_the_ack_of_at_most_its_share_of_complaints():
    """Fitted on out-of-fold scores: at most PRAISE_ACK_COST of all complaints are cases of posts
    that thank or praise scoring below it (their rep replies first)."""
    from triage_lab.data import Labelled
    from triage_lab.fit import PRAISE_ACK_COST, Row, choose_thresholds

    complaint = Labelled("c", "complaint", "dev")
    scores = [i / 200 for i in range(200)]  # complaints score 0 to 1; every fourth one thanks or praises
    rows = [Row(complaint, {}, 1.0, tone=-0.5, praises=i % 4 == 0) for i in range(200)]
    bars = choose_thresholds(rows, scores)
    assert bars.praise_ack > bars.complaint
    withheld = [
        s for r, s in zip(rows, scores, strict=True) if r.praises and bars.complaint <= s < bars.praise_ack
    ]
    assert len(withheld) == int(PRAISE_ACK_COST * 200)
    shipped = load_model().thresholds
    assert shipped.complaint <= shipped.praise_ack < 1


def test_the_eval_applies_the_posts_own_ack_bar():
    """A complaint that thanks, over the playbook's bar but under the model's praise-ack bar: its
    case opens (recall) and the rep writes the first reply (no automated sorry)."""
    from triage_lab.data import Labelled
    from triage_lab.evaluate import REP_FIRST, measure, shipped_playbook

    post = Labelled(text="@AcmeAir thanks, still waiting 3 hours for my bag", label="complaint", source="t")
    result = triage(post.text)
    assert result.category == "complaint" and result.ack_bar == load_model().thresholds.praise_ack
    assert shipped_playbook().acknowledge.min_confidence <= result.confidence < result.ack_bar
    assert measure([post]).confusion == {("complaint", REP_FIRST): 1}


def test_praise_with_a_negative_word_keeps_its_share_of_positive_words():
    """VADER nets "nothing but great things" to a negative compound; the shares keep the praise apart."""
    features = feature_names("@AcmeAir so excited for my first trip with you, heard nothing but great things")
    assert features["d:neg"] > 0 and features["d:vpos"] > 0
    plain = feature_names("@AcmeAir my flight to Oslo is at 6")
    assert plain["d:vpos"] == plain["d:vneg"] == 0.0
