"""`make check-playbook` (and so `make build`/`make deploy`): load the playbook as the tests and
`make run` do, rendering every template variant with sample values, and refuse to build on a bad one.
In Lambda the render is skipped (see ``load_playbook``): this is where the deployed file gets it."""

from __future__ import annotations

import sys

from turnaround.exceptions import ConfigurationError
from turnaround.models.playbook import load_playbook


def main(path: str = "infrastructure/playbook.yaml") -> int:
    try:
        playbook = load_playbook(path, render_check=True)
    except ConfigurationError as error:
        print(f"check-playbook: {error}", file=sys.stderr)
        return 2
    print(f"check-playbook: {path} loads; every template variant of {playbook.brand}'s playbook renders")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
