"""A playbook whose templates cannot render is refused at load, naming the template and variable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import edited_playbook
from turnaround.exceptions import ConfigurationError
from turnaround.models.playbook import load_playbook

SOURCE = Path(__file__).resolve().parents[2] / "infrastructure" / "playbook.yaml"


_write = edited_playbook


def test_the_shipped_playbook_loads():
    load_playbook.cache_clear()
    assert load_playbook(str(SOURCE)).brand


def test_a_typo_in_one_variant_is_refused_naming_the_template_and_the_variable(tmp_path):
    def typo(p: dict[str, Any]) -> None:
        p["templates"]["ack_public"][2] = "@{{ customer }} Sorry, {{ firstname }}! (ref {{ case_ref }})"

    with pytest.raises(ConfigurationError) as error:
        load_playbook(_write(tmp_path, typo))
    message = str(error.value)
    assert "templates.ack_public[2]" in message and "'firstname' is undefined" in message
    assert "first_name" in message  # the variables it could have used


def test_a_variable_another_situation_has_is_refused_where_it_is_not_passed(tmp_path):
    def misplaced(p: dict[str, Any]) -> None:  # acks are signed with initials; no rep_name is passed
        p["languages"]["es"]["ack_offline"][1] = "@{{ customer }} {{ rep_name }} (ref {{ case_ref }})"

    with pytest.raises(ConfigurationError, match=r"languages\.es\.ack_offline\[1\]: 'rep_name' is undefined"):
        load_playbook(_write(tmp_path, misplaced))


def test_a_template_that_does_not_parse_is_refused(tmp_path):
    def broken(p: dict[str, Any]) -> None:
        p["templates"]["dm_fallback_note"] = "We could not DM {{ first_name }"

    with pytest.raises(ConfigurationError, match=r"templates\.dm_fallback_note\[0\]"):
        load_playbook(_write(tmp_path, broken))


def test_every_problem_is_listed_at_once(tmp_path):
    def two(p: dict[str, Any]) -> None:
        p["templates"]["follow_up_dm"][0] = "Hi {{ fist_name }}"
        p["languages"]["fr"]["dm_confirm"][0] = "Bonjour {{ prenom }}"

    with pytest.raises(ConfigurationError) as error:
        load_playbook(_write(tmp_path, two))
    assert "'fist_name' is undefined" in str(error.value) and "'prenom' is undefined" in str(error.value)


def test_the_build_refuses_a_playbook_lambda_would_load_without_rendering(tmp_path, monkeypatch, capsys):
    """Lambda skips the render at cold start, so `make build` (check_playbook) is where it happens."""
    from check_playbook import main

    def typo(p: dict[str, Any]) -> None:
        p["templates"]["ack_offline"][0] = "@{{ customer }} DM us, {{ firstname }}"

    path = _write(tmp_path, typo)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "WorkflowTasksFunction")
    assert load_playbook(path).brand  # as a cold start loads it: no render
    load_playbook.cache_clear()
    assert main(path) == 2
    assert "templates.ack_offline[0]: 'firstname' is undefined" in capsys.readouterr().err
    assert main(str(SOURCE)) == 0


def test_a_name_the_post_cannot_leave_out_is_refused(tmp_path):
    """A customer without a usable name is greeted with the name left out ("Sorry about this."), which
    works where the name sits beside a comma; "Dear {{ first_name }} we're sorry" would post "Dear
    we're sorry"."""

    def no_comma(p: dict[str, Any]) -> None:
        no_comma_ack = "@{{ customer }} Cher {{ first_name }} désolés ({{ case_ref }})"
        p["languages"]["fr"]["ack_public"][0] = no_comma_ack

    with pytest.raises(ConfigurationError, match=r"languages\.fr\.ack_public\[0\]: first_name must come"):
        load_playbook(_write(tmp_path, no_comma))


def test_pile_on_alerts_that_do_not_ascend_are_refused(tmp_path):
    def unordered(p: dict[str, Any]) -> None:
        p["pile_on_alerts"] = [10, 3]

    refused = r"pile_on_alerts must ascend without repeats, got \[10, 3\]"
    with pytest.raises(ConfigurationError, match=refused):
        load_playbook(_write(tmp_path, unordered))
