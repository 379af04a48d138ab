"""One place for claim → act → record: only ``logic/effects.py`` (and the DAL under it) touches the
outbox, and every module that sends a reply, DM, retweet or email hands it to that module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers/turnaround/python/turnaround"
EFFECTS_MODULE = "logic/effects.py"
SENDS = {"reply", "send_dm", "retweet"}  # XApi's effects; Mailer.send is matched on ``mailer.send``
THROUGH_EFFECTS = {"post", "post_once", "at_most_once"}


def _called(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            names.add(f"{owner_name}.{node.func.attr}" if node.func.attr == "send" else node.func.attr)
    return names


def offenders(package: Path) -> dict[str, str]:
    found = {}
    for module in sorted(package.rglob("*.py")):
        name = str(module.relative_to(package))
        if name.startswith(("dal/", "adapters/")) or name == EFFECTS_MODULE:
            continue
        tree = ast.parse(module.read_text(), name)
        if any(isinstance(n, ast.Attribute) and n.attr == "outbox" for n in ast.walk(tree)):
            found[name] = "touches the outbox itself"
            continue
        called = _called(tree)
        if (called & SENDS or "mailer.send" in called) and not called & THROUGH_EFFECTS:
            found[name] = "sends without the effects module"
    return found


def test_only_the_effects_module_claims_and_records_effects() -> None:
    assert (PACKAGE / EFFECTS_MODULE).exists()
    assert offenders(PACKAGE) == {}


def test_a_module_with_its_own_outbox_protocol_is_caught(tmp_path: Path) -> None:
    (tmp_path / "logic").mkdir()
    (tmp_path / "logic" / "own.py").write_text(
        "def confirm(store, x):\n    store.outbox.claim('k')\n    x.send_dm('1', 'hi')\n"
    )
    (tmp_path / "logic" / "bare.py").write_text("def mail(self, m):\n    self.mailer.send(m)\n")
    (tmp_path / "logic" / "fine.py").write_text(
        "def ack(effects, x):\n    effects.post_once('k', lambda: x.reply('1', 'hi'))\n"
    )
    assert offenders(tmp_path) == {
        "logic/own.py": "touches the outbox itself",
        "logic/bare.py": "sends without the effects module",
    }
