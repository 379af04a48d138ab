"""The layer ships the playbook's YAML and a JSON copy of it, so Lambda reads it without a YAML parser
(issue 17); the copy is used only while it is the YAML's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from turnaround.exceptions import ConfigurationError
from turnaround.models.playbook import load_playbook
from turnaround.playbook_file import compiled_path, read, write_compiled

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "infrastructure" / "playbook.yaml"


@pytest.fixture
def playbook(tmp_path: Path) -> Path:
    path = tmp_path / "playbook.yaml"
    path.write_bytes(SHIPPED.read_bytes())
    return path


def test_the_copy_holds_the_same_data(playbook: Path) -> None:
    import yaml

    written = write_compiled(playbook)
    assert written == compiled_path(playbook)
    assert json.loads(written.read_text())["playbook"] == yaml.safe_load(SHIPPED.read_text())
    load_playbook.cache_clear()
    assert load_playbook(str(playbook)) == load_playbook(str(SHIPPED))


def test_the_copy_is_read_instead_of_the_yaml(playbook: Path) -> None:
    write_compiled(playbook)
    copy = json.loads(compiled_path(playbook).read_text())
    copy["playbook"]["brand"] = "Read From The Copy"
    compiled_path(playbook).write_text(json.dumps(copy))
    assert read(playbook)["brand"] == "Read From The Copy"


def test_an_edited_yaml_is_read_itself_never_a_stale_copy(playbook: Path) -> None:
    write_compiled(playbook)
    playbook.write_text(playbook.read_text().replace("brand:", "brand: Edited Air\nold_brand:", 1))
    assert read(playbook)["brand"] == "Edited Air"


def test_a_broken_copy_falls_back_to_the_yaml(playbook: Path) -> None:
    compiled_path(playbook).write_text("{not json")
    assert read(playbook)["brand"]


def test_yaml_json_cannot_carry_gets_no_copy(tmp_path: Path) -> None:
    source = tmp_path / "playbook.yaml"
    source.write_text("brand: x\nsince: 2026-01-01\n")  # a date
    assert write_compiled(source) is None
    source.write_text("brand: x\ncodes: {1: one}\n")  # an integer key
    assert write_compiled(source) is None
    assert not compiled_path(source).exists()


def test_an_unparsable_playbook_is_a_configuration_error(tmp_path: Path) -> None:
    source = tmp_path / "playbook.yaml"
    source.write_text("brand: [unclosed\n")
    load_playbook.cache_clear()
    with pytest.raises(ConfigurationError, match="could not be read"):
        load_playbook(str(source))


def test_in_lambda_the_shipped_playbook_loads_without_pyyaml(playbook: Path) -> None:
    """As the layer build leaves it: the copy beside the YAML, and no YAML parser imported."""
    subprocess.run(
        [sys.executable, "-m", "turnaround.playbook_file", str(playbook)],
        check=True,
        env={"PYTHONPATH": str(ROOT / "layers/turnaround/python")},
    )
    code = (
        "import sys\n"
        "from turnaround.models.playbook import load_playbook\n"
        f"assert load_playbook({str(playbook)!r}).brand\n"
        "print(sorted(m for m in sys.modules if m == 'yaml' or m.startswith('yaml.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "layers/turnaround/python"), "AWS_LAMBDA_FUNCTION_NAME": "f"},
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
