"""``/metrics``: refused unless the token or the client's address is configured, and what it says
matches the ledger, parsed with prometheus_client's own parser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from activity.models import Blocker
from hub import prometheus
from integrations.engine import heartbeat
from metrics.models import CountTotal
from tests.activity import factories as ledger

TOKEN = "scrape-token-0f3a9c"


@pytest.fixture
def token_file(settings, tmp_path, db):
    path = tmp_path / "metrics-token"
    path.write_text(TOKEN + "\n")
    settings.HUB.values["hub.metrics.tokenFile"] = str(path)
    yield path
    settings.HUB.values["hub.metrics.tokenFile"] = ""


def samples(text: str) -> dict:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_nothing_configured_means_nobody_may_scrape(client, db):
    response = client.get("/metrics")
    assert response.status_code == 403 and b"hub.metrics.tokenFile" in response.content


def test_it_only_reads(client, token_file):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_a_wrong_or_missing_token_is_refused(client, token_file):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_an_allowed_address_may_scrape_without_the_token(client, settings, db):
    settings.HUB.values["hub.metrics.allowedAddresses"] = ("10.0.0.0/8",)
    try:
        assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert client.get("/metrics", REMOTE_ADDR="192.168.1.9").status_code == 403
    finally:
        settings.HUB.values["hub.metrics.allowedAddresses"] = ()


def test_the_figures_match_the_ledger(client, token_file):
    ledger.activities(3, ledger.Status.PENDING, integration_id=1)
    ledger.activities(2, ledger.Status.FAILED, integration_id=2, start=10)
    ledger.activities(4, ledger.Status.COMPLETED, integration_id=1, start=20)
    from activity.models import ArtifactActivity

    due = timezone.now() - timedelta(seconds=1)
    ArtifactActivity.objects.filter(status="failed").update(next_retry_at=due)
    Blocker.objects.create(key="a", code="CCRRTT-17002E", message="m", impact="affected")
    CountTotal.objects.create(integration_id=1, repository_id=5, model_id=None, created=7, updated=11)
    heartbeat.beat("h:7:aa", name="hub-worker@h")
    prometheus.DETECTION.labels(integration="1").observe(0.3)

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response["Content-Type"].startswith("text/plain")
    found = samples(response.content.decode())
    assert found[("hub_activities", (("integration", "1"), ("status", "pending")))] == 3
    assert found[("hub_activities", (("integration", "2"), ("status", "failed")))] == 2
    assert found[("hub_activities", (("integration", "1"), ("status", "completed")))] == 4
    assert found[("hub_queue_depth", ())] == 5
    assert found[("hub_blockers", (("code", "CCRRTT-17002E"),))] == 1
    assert found[("hub_artifacts_total", (("integration", "1"), ("kind", "created")))] == 7
    assert found[("hub_artifacts_total", (("integration", "1"), ("kind", "updated")))] == 11
    assert found[("hub_worker_heartbeat_timestamp_seconds", (("worker", "hub-worker@h"),))] > 0
    assert found[("hub_change_detection_seconds_count", (("integration", "1"),))] >= 1


def test_connector_requests_are_counted_by_status(client, token_file, db):
    """Against a real HTTP server on loopback that knows one path."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from connectors.errors import ConnectorError
    from connectors.http import HttpSession
    from connectors.types import RepositorySettings

    class Tool(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200 if self.path == "/ok" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tool)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        with HttpSession(RepositorySettings(kind="redmine", url=url)) as session:
            session.request("GET", "/ok")
            with pytest.raises(ConnectorError):
                session.request("GET", "/missing")
    finally:
        server.shutdown()
    found = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode())
    assert found[("hub_connector_requests_total", (("connector", "redmine"), ("status", "200")))] >= 1
    assert found[("hub_connector_requests_total", (("connector", "redmine"), ("status", "404")))] >= 1


def test_multiprocess_mode_merges_every_process(tmp_path, monkeypatch, db):
    """With PROMETHEUS_MULTIPROC_DIR set (runhub sets it), the answer comes from the merged files."""
    monkeypatch.setenv(prometheus.MULTIPROCESS_ENV, str(tmp_path))
    found = samples(prometheus.exposition().decode())
    assert ("hub_queue_depth", ()) in found
