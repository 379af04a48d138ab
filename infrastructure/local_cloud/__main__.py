"""python -m local_cloud [--scenario FILE] [--sandbox]: see runner.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from local_cloud.report import expectations_report, unmet_expectations
from local_cloud.runner import DEMO, ROOT, LocalRun, summarise, write_outputs
from turnaround.exceptions import ConfigurationError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--scenario", type=Path, default=DEMO)
    parser.add_argument("--scale", type=float, default=600, help="simulated seconds per real second")
    parser.add_argument("--tick", type=float, default=60, help="simulated seconds per loop tick")
    parser.add_argument("--out", type=Path, default=ROOT / "out")
    parser.add_argument(
        "--until", type=float, default=8 * 3600, help="simulated seconds after which the run stops regardless"
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="no scripted rep clicks; keep the cloud up and serve the links on 127.0.0.1:8787",
    )
    args = parser.parse_args(argv)
    run = LocalRun(
        args.scenario,
        scale=args.scale,
        tick=args.tick,
        out=args.out,
        stream=sys.stdout,
        until=float("inf") if args.sandbox else args.until,
    )
    if args.sandbox:
        print(
            "sandbox: open the .html emails under out/mail as they arrive and click their links. "
            "Ctrl-C stops."
        )
    try:
        result = run.run(sandbox=args.sandbox)
    except KeyboardInterrupt:
        return 0
    except ConfigurationError as error:  # e.g. a playbook template that cannot render
        print(f"make run: {error}", file=sys.stderr)
        return 2
    unmet = [] if args.sandbox else unmet_expectations(result, run.spec.get("expect"))
    summary = summarise(result, args.scale) + "\n" + expectations_report(unmet, run.spec.get("expect"))
    print(summary)
    report = write_outputs(result, args.out, summary)
    print(f"\nemails: {args.out / 'mail'}   report: {report}")
    return 1 if result.emulator_state["violations"] or unmet else 0


if __name__ == "__main__":
    sys.exit(main())
