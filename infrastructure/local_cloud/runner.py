"""`make run`: the whole system on the embedded cloud, driven by a scenario on a simulated clock.

The parts: `cloud.py` deploys and drives the stack, `loop.py` moves the clock, `narration.py` says
what happens, `report.py` sums it up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import yaml

from local_cloud.cloud import ROOT, EmbeddedCloud, embedded_cloud
from local_cloud.faults import FaultPlan
from local_cloud.inbound_mail import start_sandbox_mail
from local_cloud.loop import Pace, run_loop
from local_cloud.narration import Narrator
from local_cloud.report import RunResult, summarise, write_outputs

DEMO = ROOT / "infrastructure" / "scenarios" / "demo.yaml"
__all__ = ["DEMO", "ROOT", "LocalRun", "RunResult", "summarise", "write_outputs"]


class LocalRun:
    def __init__(
        self,
        scenario: Path = DEMO,
        *,
        scale: float = 600,
        tick: float = 60,
        out: Path = ROOT / "out",
        until: float = 8 * 3600,
        stream: TextIO | None = None,
        faults: FaultPlan | None = None,
    ):
        self.scenario_path, self.out = scenario, out
        self.pace = Pace(scale=scale, tick=tick, until=until)
        self.narrator = Narrator(out, stream)
        self.spec = yaml.safe_load(scenario.read_text())
        self.faults = faults or FaultPlan("none")
        self.smtp_port, self.inbox_port = 2525, 8025  # make sandbox's mail servers, on loopback

    @property
    def progress(self) -> list[str]:
        return self.narrator.progress

    def run(self, *, sandbox: bool = False) -> RunResult:
        started = time.monotonic()
        with self.deployed(sandbox=sandbox) as cloud:
            result = run_loop(cloud, self.spec, self.narrator, self.pace, sandbox=sandbox, faults=self.faults)
        result.seconds = time.monotonic() - started
        return result

    @contextmanager
    def deployed(self, *, sandbox: bool = False, execute_workflows: bool = True) -> Iterator[EmbeddedCloud]:
        """The scenario's embedded cloud with this run's scale, faults and output folder. `make bench`
        drives this itself; with execute_workflows off, StartExecution only records the execution."""
        for stale in (self.out / "mail").glob("*"):  # this run's emails only
            stale.unlink()
        with embedded_cloud(
            self.spec,
            out=self.out,
            scale=self.pace.scale,
            port=8787 if sandbox else 0,
            execute_workflows=execute_workflows,
            faults=self.faults,
        ) as cloud:
            self.narrator.say(
                cloud.emulator.clock.now(),
                f"stack deployed from template.yaml: {len(cloud.stack.functions)} functions, "
                f"{len(cloud.stack.schedules)} schedules, "
                f"state machine {cloud.stack.state_machine_arn.rsplit(':', 1)[-1]}",
            )
            mail_servers = (
                start_sandbox_mail(
                    cloud.inbound,
                    self.out / "mail",
                    lambda line: self.narrator.say(cloud.emulator.clock.now(), line),
                    smtp_port=self.smtp_port,
                    inbox_port=self.inbox_port,
                )
                if sandbox and cloud.inbound is not None
                else []
            )
            try:
                yield cloud
            finally:
                for running in mail_servers:
                    running.stop()
