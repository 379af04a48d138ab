"""The playbook file: YAML as the brand writes it, and the JSON copy the layer build puts beside it.

Reading YAML in Lambda means importing PyYAML (its reader compiles a large Unicode pattern at import)
and parsing: ~12 ms of every cold start that loads the playbook, measured on the built layers with
CPython 3.12; ``json`` is already loaded and parses the same data in well under a millisecond. So
the build (layers/turnaround/Makefile) writes ``playbook.json`` beside ``playbook.yaml``, holding the
same data and the SHA-256 of the YAML it came from. ``read`` uses the copy only while that digest
matches the YAML beside it, so an edited YAML is never shadowed by a stale copy: it is read itself.
Only the YAML is ever edited; the copy is a build artifact (and what ``read`` returns is validated
by the same model either way).

This module imports nothing heavy: the build runs it with PyYAML and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any


class UnreadablePlaybook(Exception):
    """The YAML could not be parsed (the message says where)."""


def compiled_path(source: Path) -> Path:
    return source.with_suffix(".json")


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def read(source: Path) -> Any:
    """The playbook's data: from the build's JSON copy if it was made from this very YAML, else from
    the YAML (OSError if the YAML cannot be read, UnreadablePlaybook if it cannot be parsed)."""
    raw = source.read_bytes()
    try:
        compiled = json.loads(compiled_path(source).read_bytes())
    except (OSError, ValueError):
        compiled = None
    made_from_this = isinstance(compiled, dict) and compiled.get("source_sha256") == _digest(raw)
    if made_from_this and "playbook" in compiled:
        return compiled["playbook"]
    return _parse_yaml(raw)


def _parse_yaml(raw: bytes) -> Any:
    import yaml

    # libyaml's parser when PyYAML's wheel has it (it does for Lambda's x86_64 and arm64): the same
    # safe constructor, ~10x less CPU than the pure-Python parser.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(raw, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        raise UnreadablePlaybook(str(exc)) from exc


def write_compiled(source: Path) -> Path | None:
    """Write the JSON copy beside ``source``; None (and nothing written) if the YAML holds anything JSON
    does not carry exactly (dates, non-string keys): then Lambda reads the YAML."""
    raw = source.read_bytes()
    data = _parse_yaml(raw)
    try:
        text = json.dumps({"source_sha256": _digest(raw), "playbook": data}, ensure_ascii=False)
    except (TypeError, ValueError):
        return None
    if json.loads(text)["playbook"] != data:  # e.g. an integer key would come back as a string
        return None
    target = compiled_path(source)
    target.write_text(text, encoding="utf-8")
    return target


def main(argv: list[str]) -> int:
    """``python -m turnaround.playbook_file PLAYBOOK.yaml`` (the layer build). Without PyYAML, or with
    data JSON cannot carry, it says so and the build goes on (Lambda reads the YAML); a YAML that does
    not parse fails the build, as it would fail every cold start."""
    source = Path(argv[1])
    try:
        written = write_compiled(source)
    except ImportError:
        written = None
    if written is None:
        print(f"WARNING: no JSON copy of {source}: Lambda parses the YAML at cold start", file=sys.stderr)
        return 0
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
