"""What the engine and the connectors write into ``/metrics`` as they work: the processing-time and
change-detection histograms of a real sync between the local trackers, rate-limit waits against a
real HTTP server that answers 429, the counts of several processes merged in multiprocess mode,
and that every metric the documented alert rules use is one ``/metrics`` serves."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from activity.models import ArtifactPair
from hub import prometheus
from tests.engine.sync import new_item, run

REPO = Path(__file__).resolve().parents[2]


def samples() -> dict:
    found = {}
    for family in text_string_to_metric_families(prometheus.exposition().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_a_sync_observes_processing_and_detection_per_integration(running):
    label = (("integration", str(running.pk)),)
    before = samples()
    for n in range(3):
        new_item("alpha", "DEMO", f"Item {n}")
    run(running)
    assert ArtifactPair.objects.filter(integration_id=running.pk).count() == 3
    after = samples()

    def grew(name: str) -> float:
        return after.get((name, label), 0) - before.get((name, label), 0)

    assert grew("hub_activity_processing_seconds_count") == 3  # one observation per activity
    assert grew("hub_activity_processing_seconds_sum") > 0
    assert grew("hub_change_detection_seconds_count") >= 1
    assert after[("hub_artifacts_total", (*label, ("kind", "created")))] == 3


def test_a_tool_that_asks_to_slow_down_is_a_rate_limit_wait(db):
    """A real HTTP server on loopback answers the first request 429 with Retry-After: 0, then 200:
    the connector waits once, retries, and the wait is counted for its kind."""
    from connectors.http import HttpSession
    from connectors.types import RepositorySettings

    answered = []

    class Tool(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            answered.append(self.path)
            limited = len(answered) == 1
            self.send_response(429 if limited else 200)
            if limited:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    before = samples()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Tool)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with HttpSession(RepositorySettings(kind="gitlab", url=url)) as session:
            assert session.request("GET", "/limited").status_code == 200
    finally:
        server.shutdown()
        server.server_close()
    after = samples()
    key = ("hub_rate_limit_waits_total", (("connector", "gitlab"),))
    assert answered == ["/limited", "/limited"]
    assert after[key] - before.get(key, 0) == 1
    statuses = {
        status: ("hub_connector_requests_total", (("connector", "gitlab"), ("status", status)))
        for status in ("200", "429")
    }
    assert all(after[k] - before.get(k, 0) == 1 for k in statuses.values())


CHILD = """
import sys
from hub import prometheus  # PROMETHEUS_MULTIPROC_DIR is set: its values go to files there
prometheus.PROCESSING.labels(integration="9").observe(0.5)
prometheus.CONNECTOR_REQUESTS.labels("redmine", "200").inc(int(sys.argv[1]))
"""


def test_multiprocess_mode_adds_up_what_each_process_counted(tmp_path, monkeypatch, db):
    """Two processes (as two workers or gunicorn processes would) count into the directory of
    PROMETHEUS_MULTIPROC_DIR; the scrape answers with their sum."""
    monkeypatch.setenv(prometheus.MULTIPROCESS_ENV, str(tmp_path))
    env = {"PYTHONPATH": str(REPO), prometheus.MULTIPROCESS_ENV: str(tmp_path), "PATH": "/usr/bin:/bin"}
    for number in ("2", "5"):
        subprocess.run([sys.executable, "-c", CHILD, number], cwd=REPO, env=env, check=True, timeout=120)
    found = samples()
    assert found[("hub_connector_requests_total", (("connector", "redmine"), ("status", "200")))] == 7
    assert found[("hub_activity_processing_seconds_count", (("integration", "9"),))] == 2


def test_every_metric_of_the_documented_alert_rules_is_served(running):
    """docs/operations.md's alert rules name metrics that /metrics has (a rule on a name nobody
    serves never fires)."""
    text = (REPO / "docs" / "operations.md").read_text()
    rules = text[text.index("Three alert rules") :]
    rules = rules[: rules.index("```", rules.index("```") + 3)]
    used = set(re.findall(r"\b(hub_[a-z_]+?)(?:_count|_sum|_bucket)?\b[\[{ )]", rules))
    assert len(re.findall(r"- alert: ", rules)) == 3 and used
    new_item("alpha", "DEMO", "Item")
    run(running)  # the histograms have a sample from here on
    from integrations.engine import heartbeat

    heartbeat.beat("h:1:aa", name="hub-worker@h")
    served = {name for name, _labels in samples()}
    for name in used:
        assert {name, f"{name}_count"} & served, name
