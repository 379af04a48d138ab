"""The playbook's ``incidents`` block (storm mode) is validated at load, and picks topics and reps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import edited_playbook
from turnaround.exceptions import ConfigurationError
from turnaround.models.playbook import load_playbook

SOURCE = Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"


def _load(tmp_path: Path, edit: Any) -> Any:
    path = edited_playbook(tmp_path, lambda playbook: edit(playbook["incidents"]))
    try:
        return load_playbook(path)
    finally:
        load_playbook.cache_clear()


def _refused(tmp_path: Path, edit: Any) -> str:
    with pytest.raises(ConfigurationError) as error:
        _load(tmp_path, edit)
    return str(error.value)


def test_the_shipped_incidents_block_loads_and_reads_topics(tmp_path):
    incidents = _load(tmp_path, lambda i: None).incidents
    assert incidents.threshold >= 2 and incidents.status_url.startswith("https://")
    assert incidents.topic_of("@AcmeAir your app is NOT WORKING again") == "outage"
    assert incidents.topic_of("@AcmeAir flight delayed 3 hours") == "delays"
    assert incidents.topic_of("@AcmeAir lovely crew today") is None
    # "down" as a phrase of an outage, not of a disappointment (which would get the outage's status post)
    assert incidents.topic_of("@AcmeAir your app has been down all morning") == "outage"
    assert incidents.topic_of("@AcmeAir app down again, can't check in") == "outage"
    assert incidents.topic_of("@AcmeAir down? can't log in or check in") == "outage"
    assert incidents.topic_of("@AcmeAir is the site down for everyone else?") == "outage"
    assert incidents.topic_of("@AcmeAir your website's down again") == "outage"
    assert incidents.topic_of("@AcmeAir your agent let me down and refused my refund") is None
    assert incidents.topic_of("@AcmeAir I was turned down for an upgrade, sat down at the gate") is None


def test_an_incident_ack_with_a_typo_is_refused_naming_it(tmp_path):
    def typo(i: dict[str, Any]) -> None:
        i["ack"]["en"][1] = "@{{ customer }} known issue {{ status_url }} {{ firstname }}"

    message = _refused(tmp_path, typo)
    assert "incidents.ack.en[1]" in message and "'firstname' is undefined" in message
    assert "status_url" in message  # the variables it could have used


def test_an_incident_ack_must_point_to_the_status_post(tmp_path):
    def no_status(i: dict[str, Any]) -> None:
        i["ack"]["en"][0] = "@{{ customer }} We know, sorry (ref {{ case_ref }})"

    assert "incidents.ack.en[0] must point to {{ status_url }}" in _refused(tmp_path, no_status)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda i: i.update(threshold=1), "threshold"),
        (lambda i: i.update(status_url="http://insecure.example"), "status_url"),
        (lambda i: i["topics"].update(outage=[]), "topics.outage"),
        (lambda i: i["topics"].update(outage=["Outage"]), "lower case"),
        (lambda i: i["ack"].update(it=["{{ status_url }} a", "{{ status_url }} b"]), "['it']"),
        # A French customer in an outage would be promised "we'll be back to you here" by the usual ack.
        (lambda i: i["ack"].pop("fr"), "incidents.ack is needed in: ['fr']"),
        (lambda i: i.update(surprise=1), "surprise"),
        (lambda i: i.update(post_budget_per_15_minutes=101), "post_budget_per_15_minutes"),  # X allows 100
        (lambda i: i.update(post_budget_per_15_minutes=10, urgent_reserve=10), "urgent_reserve must be less"),
    ],
)
def test_bad_incident_settings_are_refused(tmp_path, edit, expected):
    assert expected in _refused(tmp_path, edit)


def test_in_an_incident_every_rep_who_takes_the_priority_is_a_candidate(tmp_path):
    playbook = _load(tmp_path, lambda i: None)
    text = "@AcmeAir the app is down"
    assert [r.initials for r in playbook.candidate_reps(text, 4)] == ["SE"]  # the generalist
    assert [r.initials for r in playbook.candidate_reps(text, 4, whole_roster=True)] == ["AB", "CD", "SE"]
    assert [r.initials for r in playbook.candidate_reps(text, 1, whole_roster=True)] == ["AB", "CD"]
    assert playbook.choose_rep("@AcmeAir lost my bag", 4).initials == "AB"


@pytest.mark.parametrize(
    ("text", "initials"),
    [
        ("@AcmeAir perdieron mi maleta en Madrid", "AB"),
        ("@AcmeAir vous avez perdu ma valise", "AB"),
        ("@AcmeAir minha bagagem não chegou", "AB"),
        ("@AcmeAir mein Koffer ist nicht angekommen", "AB"),
        ("@AcmeAir me cobraron dos veces el billete", "CD"),
        ("@AcmeAir j'attends mon remboursement depuis un mois", "CD"),
        ("@AcmeAir ich warte seit Wochen auf die Erstattung", "CD"),
        ("@AcmeAir el vuelo va fatal", "SE"),  # no topic in any language: the generalist
    ],
)
def test_the_shipped_roster_routes_by_topic_in_every_language_it_speaks(tmp_path, text, initials):
    assert _load(tmp_path, lambda i: None).choose_rep(text, 4).initials == initials


def test_the_shipped_incident_topics_read_posts_in_every_language_it_speaks(tmp_path):
    incidents = _load(tmp_path, lambda i: None).incidents
    assert incidents.topic_of("@AcmeAir la app no funciona otra vez") == "outage"
    assert incidents.topic_of("@AcmeAir l'appli est en panne") == "outage"
    assert incidents.topic_of("@AcmeAir Flug verspätet, drei Stunden") == "delays"
    assert incidents.topic_of("@AcmeAir voo atrasado de novo") == "delays"
