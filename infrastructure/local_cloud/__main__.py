"""python -m local_cloud [--scenario FILE] [--sandbox]: see runner.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from local_cloud.runner import DEMO, ROOT, LocalRun, summarise, write_outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--scenario", type=Path, default=DEMO)
    parser.add_argument("--scale", type=float, default=600, help="simulated seconds per real second")
    parser.add_argument("--tick", type=float, default=60, help="simulated seconds per loop tick")
    parser.add_argument("--out", type=Path, default=ROOT / "out")
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
        until=float("inf") if args.sandbox else 8 * 3600,
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
    summary = summarise(result, args.scale)
    print(summary)
    report = write_outputs(result, args.out, summary)
    print(f"\nemails: {args.out / 'mail'}   report: {report}")
    return 1 if result.emulator_state["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
