"""The layer's folders are its architecture: only ``dal/`` and ``adapters/`` reach AWS or X, and
imports point one way: models <- dal, adapters <- logic <- handlers."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers/turnaround/python/turnaround"
OUTSIDE_WORLD = ("boto3", "botocore", "tweepy", "requests")
MAY_TOUCH = {"dal", "adapters"}
# What each folder must not import (the shared top-level modules, exceptions, settings... are free).
MUST_NOT_IMPORT = {
    "models": {"dal", "adapters", "logic", "handlers"},
    "dal": {"adapters", "logic", "handlers"},
    "adapters": {"dal", "logic", "handlers"},
    "logic": {"handlers"},
}


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


def imported_layers(path: Path) -> set[str]:
    """The layer folders a module imports from (``TYPE_CHECKING`` imports count too)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return {name.split(".")[1] for name in names if name.startswith("turnaround.") and "." in name}


def layer_leaks(package: Path) -> dict[str, list[str]]:
    leaks = {}
    for module in sorted(package.rglob("*.py")):
        layer = module.relative_to(package).parts[0]
        wrong = imported_layers(module) & MUST_NOT_IMPORT.get(layer, set())
        if wrong:
            leaks[str(module.relative_to(package))] = sorted(wrong)
    return leaks


def test_imports_point_from_handlers_to_logic_to_dal_and_adapters_to_models() -> None:
    assert layer_leaks(PACKAGE) == {}


def test_a_leak_is_caught(tmp_path: Path) -> None:
    """The check above can fail: a model that reaches into logic (even for typing only) is named."""
    (tmp_path / "models").mkdir()
    (tmp_path / "adapters").mkdir()
    (tmp_path / "models" / "case.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from turnaround.logic.triage import triage\n"
    )
    (tmp_path / "adapters" / "secrets.py").write_text("import turnaround.logic.rep_actions.links\n")
    assert layer_leaks(tmp_path) == {"adapters/secrets.py": ["logic"], "models/case.py": ["logic"]}


def test_every_folder_is_a_package_that_says_what_it_holds() -> None:
    for folder in [PACKAGE, *(p for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__")]:
        init = folder / "__init__.py"
        assert init.exists(), f"{folder} has no __init__.py"
        assert ast.get_docstring(ast.parse(init.read_text())), f"{init} has no docstring"


# Where Lambda puts the code: a layer's python/ folder at /opt/python, the function's at /var/task.
# A module's top level that works out paths from __file__ must work there too (the build's scratch
# folders and this checkout are deeper: Path(__file__).parents[5] of a module in /opt/python/turnaround/
# models/ raised IndexError at INIT in every function, and no test that ran the code from here saw it).
PROBE = """
import json, sys, traceback
from pathlib import Path
failures = {}
for path, lambda_path, name in json.loads(sys.argv[1]):
    try:
        __import__(name)  # its imports load as usual; then its top level runs again from Lambda's path
        namespace = {"__name__": name, "__file__": lambda_path, "__package__": name.rpartition(".")[0]}
        exec(compile(Path(path).read_text(), lambda_path, "exec"), namespace)
    except Exception:
        failures[lambda_path] = traceback.format_exc(limit=-2)
print(json.dumps(failures))
"""


def top_levels_run_from(lambda_paths: list[tuple[Path, str, str]]) -> dict[str, str]:
    """Runs each module's top level in a fresh interpreter with ``__file__`` at its Lambda path;
    returns the tracebacks of those that raise."""
    root = PACKAGE.parents[3]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([[str(p), lp, name] for p, lp, name in lambda_paths])],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": f"{PACKAGE.parent}{os.pathsep}{root}"},
        cwd=root,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.splitlines()[-1]))


def test_every_module_runs_from_where_lambda_puts_it() -> None:
    modules = [
        (
            path,
            f"/opt/python/{path.relative_to(PACKAGE.parent)}",
            ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"),
        )
        for path in sorted(PACKAGE.rglob("*.py"))
    ]
    assert len(modules) > 50
    assert top_levels_run_from(modules) == {}


def test_a_module_that_reaches_above_lambdas_root_is_caught(tmp_path: Path) -> None:
    deep = tmp_path / "turnaround_probe.py"
    deep.write_text("from pathlib import Path\nREPO = Path(__file__).resolve().parents[5]\n")
    failures = top_levels_run_from([(deep, "/opt/python/turnaround/models/x.py", "json")])
    assert "IndexError" in failures["/opt/python/turnaround/models/x.py"]
