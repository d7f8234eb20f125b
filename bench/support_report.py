"""Peak memory of the web process while it streams a Support and Usage Report with 30 days of
logs, 100 MB in all.

    PYTHONPATH=$PWD .venv/bin/python bench/support_report.py [--megabytes 100] [--days 30]

Writes ``--days`` daily log files (hard to compress: random hex) into a fresh data directory,
downloads the report through the Django test client as an administrator — the view and every
middleware run in this process, as in a gunicorn worker — reading the streamed body chunk by chunk
and throwing it away, and prints the peak resident set size before and during the download, the
largest chunk and the zip's size.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import setup_django, signed_in_client  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    setup_django("")
    from django.conf import settings

    logs = Path(settings.HUB.logs_dir)
    per_file = args.megabytes * 1024 * 1024 // args.days
    now = time.time()
    for day in range(args.days):
        path = logs / f"hub.log.bench-{day:02d}"
        with path.open("wb") as handle:
            for _ in range(per_file // (1024 * 1024)):
                handle.write(os.urandom(512 * 1024).hex().encode())
        os.utime(path, (now - day * 86400 + 60,) * 2)
    client = signed_in_client("bench-admin", "administrator")
    before = peak_mb()
    started = time.perf_counter()
    response = client.post("/help/support-report/", {"days": str(args.days + 1)})
    size = largest = chunks = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        largest = max(largest, len(chunk))
        chunks += 1
    took = time.perf_counter() - started
    print(f"Support and Usage Report: {args.days} days, {args.megabytes} MB of logs")
    print(f"  zip {size / 1e6:.1f} MB in {chunks} chunks (largest {largest / 1e6:.2f} MB) in {took:.1f} s")
    print(f"  peak RSS before the download {before:.0f} MB, after it {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
