"""gunicorn configuration of bench/gateway.py's server: turns this branch's tail cuts off for an A/B
run (``BENCH_GW_GROUP_COMMIT=off``: one commit per payload; ``BENCH_GW_GC_FREEZE=off``: the start-up
heap back in the collector's generations). Read by gunicorn (``-c``), not by Hub."""

import gc
import os


def post_worker_init(worker):
    if os.environ.get("BENCH_GW_GROUP_COMMIT") in ("on", "off"):
        from integrations.gateway import intake

        intake.GROUP_COMMIT = os.environ["BENCH_GW_GROUP_COMMIT"] == "on"
    if os.environ.get("BENCH_GW_GC_FREEZE") == "off":
        gc.unfreeze()
