"""Lambda's INIT without the cyclic garbage collector; every function's ``app.py`` imports this first.

INIT builds what lives as long as the container (modules, classes, models, clients), and the
collector would walk that growing heap again and again while it loads: 15-45 ms of a cold start's
CPU (measured on the built layers with CPython 3.12). So in Lambda the collector is paused from the
first import until ``end()`` (``container.warm``, the last step of every handler's INIT), which
freezes what INIT built (``gc.freeze``: later collections never walk it again, nor does the first
invocation's) and turns the collector back on. The few cycles INIT leaves behind stay, once per
container, as the Python docs' pattern for long-lived startup state accepts. Outside Lambda (tests,
the embedded cloud) nothing changes.
"""

from __future__ import annotations

import gc
import os

PAUSED = bool(os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")) and gc.isenabled()
if PAUSED:
    gc.disable()


def end() -> None:
    """INIT is over: freeze what it built and collect again (only if this module paused it)."""
    global PAUSED
    if PAUSED:
        PAUSED = False
        gc.freeze()
        gc.enable()
