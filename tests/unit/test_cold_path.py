"""A handler imports only what it uses: each function's app module is imported by a fresh interpreter,
as Lambda's INIT does, and the heavy libraries it does not need must not be loaded (issue 17).

Pollers call X on every invocation, so they load tweepy at INIT on purpose (Lambda runs INIT at full
CPU; an invocation at 512 MB gets 0.29 vCPU). Everything else that is heavy waits for first use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))

X_HTTP = {"tweepy", "requests", "requests_oauthlib", "oauthlib"}
# our X client and its response models (20 pydantic classes): only where X is called
X_CLIENT = {"turnaround.adapters.x_api", "turnaround.models.x"}
RENDERING = {"jinja2"}
SENTIMENT = {"vaderSentiment"}
MAIL = {"email.headerregistry", "email.policy", "mailparser_reply"}
EVERYWHERE = {
    "email_validator",
    "dns",
    "aws_xray_sdk.core",
    "twitter_text",
    "phonenumbers",  # loaded on first use: a rep's public reply, a post with a long digit run
    "sqlite3",
    "aws_lambda_powertools.utilities.parser",  # the schedule is read by handlers/schedule.py
    "yaml",  # Lambda reads the playbook's JSON copy (turnaround/playbook_file.py)
}
# What each handler may load at import beyond the common set (anything not listed here is refused).
ALLOWED = {
    "mention_poller": X_HTTP | X_CLIENT | SENTIMENT,
    "dm_poller": X_HTTP | X_CLIENT,
    # they read and write mail on every invocation (the stdlib's header parser: ~10 ms)
    "inbound_email": {"email.policy", "email.headerregistry"},
    "dm_mail": {"email.policy", "email.headerregistry"},
}
WATCHED = X_HTTP | X_CLIENT | RENDERING | SENTIMENT | MAIL | EVERYWHERE


TRACE_ID = "Root=1-6741e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def traced_in_lambda(task_root: Path) -> dict[str, str]:
    """What Lambda sets for a traced function (X-Ray's daemon is never reached here)."""
    return {
        "LAMBDA_TASK_ROOT": str(task_root),
        "_X_AMZN_TRACE_ID": TRACE_ID,
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
    }


def run_fresh(code: str, **environment: str) -> str:
    """Run ``code`` in a fresh interpreter, as Lambda's INIT would, with none of this process's
    Lambda, X-Ray or Powertools settings; returns the last line it printed."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POWERTOOLS_", "LAMBDA_", "_X_AMZN", "AWS_XRAY", "AWS_LAMBDA_"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "layers/turnaround/python"), str(ROOT)]),
        AWS_DEFAULT_REGION="us-east-1",
        **environment,
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return (result.stdout.splitlines() or [""])[-1]


def loaded_at_import(function: str, **environment: str) -> set[str]:
    code = (
        "import json, sys\n"
        f"import functions.{function}.app\n"
        f"print(json.dumps(sorted(set(sys.modules) & set({sorted(WATCHED)!r}))))\n"
    )
    return set(json.loads(run_fresh(code, **environment)))


def test_every_function_is_checked() -> None:
    assert set(FUNCTIONS) >= {"action_page", "case_dispatcher", "mention_poller", "workflow_tasks"}
    assert set(ALLOWED) <= set(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_handler_imports_only_what_it_uses(function: str) -> None:
    loaded = loaded_at_import(function, POWERTOOLS_TRACE_DISABLED="true")
    assert loaded - ALLOWED.get(function, set()) == set()


@pytest.mark.parametrize("function", ["action_page", "workflow_tasks"])
def test_traced_as_in_lambda_the_x_ray_sdk_builds_no_clients_and_patches_only_what_is_used(
    function: str, tmp_path: Path
) -> None:
    """In Lambda (LAMBDA_TASK_ROOT) the X-Ray SDK samples locally; botocore is patched at INIT,
    requests only once something imports it, so these handlers do not load it."""
    loaded = loaded_at_import(
        function,
        **traced_in_lambda(tmp_path),
        AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR",
    )
    assert "aws_xray_sdk.core" in loaded  # tracing is on
    assert loaded - {"aws_xray_sdk.core"} == set()


# Powertools loads asyncio for these: its batch utility, and event_handler's AppSync resolver.
ASYNCIO_FROM_POWERTOOLS = {"action_page", "case_dispatcher", "dm_mail"}


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - ASYNCIO_FROM_POWERTOOLS))
def test_traced_the_x_ray_sdk_does_not_load_asyncio(function: str, tmp_path: Path) -> None:
    """wrapt 2.x (the X-Ray SDK's dependency) imports asyncio, ~11 ms of every traced cold start; the
    layer pins 1.17."""
    code = (
        "import sys\n"
        f"import functions.{function}.app\n"
        "assert 'aws_xray_sdk.core' in sys.modules\n"
        "print(sorted(m for m in sys.modules if m == 'asyncio' or m.startswith('asyncio.')))\n"
    )
    assert run_fresh(code, **traced_in_lambda(tmp_path)) == "[]"


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_model_builds_its_validator_at_import(function: str) -> None:
    """Every first-party pydantic model is ``defer_build``: a handler pays for the models it validates,
    when it first validates them, not for every model its imports define (workflow_tasks builds the
    model of the task it runs, not all eleven)."""
    code = (
        "import json, sys\n"
        f"import functions.{function}.app\n"
        "from pydantic import BaseModel\n"
        "def subclasses(cls):\n"
        "    for sub in cls.__subclasses__():\n"
        "        yield sub\n"
        "        yield from subclasses(sub)\n"
        "first_party = ('turnaround.', 'functions.')\n"
        "ours = {m for m in subclasses(BaseModel) if m.__module__.startswith(first_party)}\n"
        "print(json.dumps([len(ours), sorted(m.__qualname__ for m in ours if m.__pydantic_complete__)]))\n"
    )
    defined, built = json.loads(run_fresh(code, POWERTOOLS_TRACE_DISABLED="true"))
    assert defined > 0
    assert built == []


def test_in_lambda_init_runs_without_garbage_collection_and_freezes_what_it_built() -> None:
    """``lambda_init`` pauses the collector from a function's first import to the end of INIT
    (``container.warm``), then freezes INIT's objects and collects again; outside Lambda it does
    nothing."""
    code = (
        "import gc, json, sys\n"
        "seen = []\n"
        "import turnaround.handlers.container as container\n"
        "real_warm = container.warm\n"
        "def warm(*builders):\n"
        "    seen.append(gc.isenabled())\n"
        "    real_warm(*builders)\n"
        "container.warm = warm\n"
        "import functions.case_dispatcher.app\n"
        "print(json.dumps([seen, gc.isenabled(), gc.get_freeze_count() > 0]))\n"
    )
    env = {
        "POWERTOOLS_TRACE_DISABLED": "true",
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:t",
    }
    in_lambda = json.loads(run_fresh(code, **env, AWS_LAMBDA_INITIALIZATION_TYPE="on-demand"))
    local = json.loads(run_fresh(code, **env))
    assert in_lambda == [[False], True, True]  # paused through INIT, on again, INIT frozen
    assert local == [[True], True, False]


def test_in_lambda_x_ray_traces_aws_calls_and_patches_requests_when_it_is_first_imported(
    tmp_path: Path,
) -> None:
    code = (
        "import functions.action_page.app, sys\n"
        "import botocore.client\n"
        "from aws_xray_sdk.core import xray_recorder\n"
        "assert type(xray_recorder.sampler).__name__ == 'LocalSampler'\n"
        "assert hasattr(botocore.client.BaseClient._make_api_call, '__wrapped__')\n"
        "assert 'requests' not in sys.modules\n"
        "import requests\n"
        "assert hasattr(requests.Session.request, '__wrapped__')\n"
    )
    run_fresh(code, **traced_in_lambda(tmp_path))


@pytest.mark.parametrize("function", FUNCTIONS)
def test_in_lambda_every_function_ends_its_init_with_the_collector_on(function: str) -> None:
    """A function whose INIT never reached ``container.warm`` would run its container without
    garbage collection: each app.py must end INIT there."""
    code = (
        "import gc, json\n"
        f"import functions.{function}.app\n"
        "print(json.dumps([gc.isenabled(), gc.get_freeze_count() > 0]))\n"
    )
    last = run_fresh(code, POWERTOOLS_TRACE_DISABLED="true", AWS_LAMBDA_INITIALIZATION_TYPE="on-demand")
    assert json.loads(last) == [True, True]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_pauses_the_collector_before_anything_else_loads(function: str) -> None:
    """``lambda_init`` is each app.py's first import (after ``__future__``): what loads before it loads
    with the collector walking INIT's growing heap."""
    import ast

    tree = ast.parse((ROOT / "functions" / function / "app.py").read_text())
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    first = next(
        node for node in imports if not (isinstance(node, ast.ImportFrom) and node.module == "__future__")
    )
    assert isinstance(first, ast.Import) and first.names[0].name == "turnaround.handlers.lambda_init"


def test_with_the_templates_environment_pydantic_never_searches_for_plugins() -> None:
    """pydantic's first validator build otherwise reads every installed package's metadata looking
    for plugins (~2 ms of each cold start); we use none, and the template says so."""
    from tests.helpers import load_template

    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    code = (
        "import json\n"
        "from turnaround.models.playbook import load_playbook\n"
        "load_playbook()\n"
        "import pydantic.plugin._loader as loader\n"
        "print(json.dumps(loader._plugins))\n"
    )
    assert run_fresh(code, PYDANTIC_DISABLE_PLUGINS=variables["PYDANTIC_DISABLE_PLUGINS"]) == "null"
    assert run_fresh(code) != "null"  # without it, the search runs


def test_triage_compiles_a_languages_words_only_when_a_post_in_it_arrives() -> None:
    """The lexicons of es, fr, pt and de cost the mention poller's INIT ~5 ms compiled at import;
    most containers read English only."""
    code = (
        "import json\n"
        "from turnaround.logic import triage_languages as words\n"
        "from turnaround.logic.triage import triage\n"
        "def compiled():\n"
        "    tables = [words.COMPLAINT, words.PRAISE, words._SARCASM, *words.OFFLINE_TOPICS.values()]\n"
        "    return sorted({k for t in tables for k, w in t.items() if w.compiled})\n"
        "seen = [compiled()]\n"
        "triage('@acmeair you lost my bag and nobody answers', lang='en')\n"
        "seen.append(compiled())\n"
        "spanish = triage('@acmeair perdieron mi maleta y nadie responde', lang='es')\n"
        "seen.append(compiled())\n"
        "print(json.dumps([seen, spanish.category]))\n"
    )
    seen, spanish = json.loads(run_fresh(code))
    assert seen[:2] == [[], []]
    assert "es" in seen[2] and not {"fr", "pt", "de"} & set(seen[2])
    assert spanish == "complaint"
