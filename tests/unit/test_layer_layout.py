"""The layer's folders are its architecture: only ``dal/`` and ``adapters/`` reach AWS or X."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers/turnaround/python/turnaround"
OUTSIDE_WORLD = ("boto3", "botocore", "tweepy", "requests")
MAY_TOUCH = {"dal", "adapters"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_dal_and_adapters_import_aws_or_x_clients() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 15, "the layer was not found"
    offenders = {
        str(module.relative_to(PACKAGE)): sorted(imported_roots(module) & set(OUTSIDE_WORLD))
        for module in modules
        if module.relative_to(PACKAGE).parts[0] not in MAY_TOUCH
    }
    assert {name: roots for name, roots in offenders.items() if roots} == {}


def test_every_folder_is_a_package_that_says_what_it_holds() -> None:
    for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__")]:
        init = folder / "__init__.py"
        assert init.exists(), f"{folder} has no __init__.py"
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init} has no docstring"
