"""``python -m tests.acceptance --form smoke|bounded|long [--no-faults]``: one run, figures as JSON,
exit status 1 when an invariant does not hold."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.acceptance", description=__doc__.splitlines()[0])
    parser.add_argument("--form", choices=("smoke", "bounded", "long"), default="smoke")
    parser.add_argument("--no-faults", action="store_true", help="the baseline: no kills, no Redis restart")
    parser.add_argument("--workdir", type=Path, help="kept after the run (default: a temporary directory)")
    options = parser.parse_args()
    from tests.acceptance.run import broken_invariants, run

    if options.workdir:
        figures = run(options.form, options.workdir, faults=not options.no_faults)
    else:
        with tempfile.TemporaryDirectory(prefix="hub-acceptance-") as workdir:
            figures = run(options.form, Path(workdir), faults=not options.no_faults)
    print(json.dumps(figures, indent=2))
    broken = broken_invariants(figures)
    for line in broken:
        print(f"BROKEN: {line}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
