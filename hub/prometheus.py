"""``/metrics`` in the Prometheus text format, through ``prometheus_client``.

Two kinds of figures:

- **from the ledger at scrape time** (``LedgerCollector``): activities by status and integration,
  the work due now (queue depth), blockers by code, artifacts created/updated (from the running
  totals), and each worker's last heartbeat. These are the database's truth whatever process
  answers the scrape.
- **observed while working**: processing and change-detection durations, connector requests by
  status code and rate-limit waits. Web, workers and beat are separate processes, so ``runhub``
  sets ``PROMETHEUS_MULTIPROC_DIR`` (``HUB_HOME/run/prometheus``, emptied at start) and the scrape
  merges every process's files (prometheus_client's multiprocess mode). Without it (a test, a
  management command) the figures are this process's own.

The endpoint is never open by default: ``hub.metrics.token`` (sent as ``Authorization: Bearer``)
or ``hub.metrics.allowedAddresses`` must be set, and a request must match one of them.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Hub's own registry: the scrape answers with these and the ledger, not whatever else a library put
# into prometheus_client's global one.
OBSERVED = CollectorRegistry(auto_describe=True)

PROCESSING = Histogram(
    "hub_activity_processing_seconds",
    "Time to process one artifact activity (a batch's duration divided among its activities).",
    ["integration"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=OBSERVED,
)
DETECTION = Histogram(
    "hub_change_detection_seconds",
    "Duration of one change detection run of an integration (both sides).",
    ["integration"],
    buckets=(0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
    registry=OBSERVED,
)
CONNECTOR_REQUESTS = Counter(
    "hub_connector_requests_total",
    "HTTP requests connectors sent to tools, by answer.",
    ["connector", "status"],
    registry=OBSERVED,
)
WRITE_WINDOW_CHANGES = Counter(
    "hub_write_window_changes_total",
    "Fresh changes Hub found made between its read of an artifact and its write to it (a tool "
    "without optimistic concurrency cannot refuse that write), by where Hub wrote (update, "
    "write_back, bring_up_to_date) and kind (same_field: replaced by Hub's write and decided as a "
    "conflict; other_field: another field, kept as that side's change).",
    ["integration", "path", "kind"],
    registry=OBSERVED,
)
RATE_LIMIT_WAITS = Counter(
    "hub_rate_limit_waits_total",
    "Times a tool asked Hub to slow down (429/503 with Retry-After), by connector.",
    ["connector"],
    registry=OBSERVED,
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "hub_rate_limit_wait_seconds_total",
    "Seconds spent waiting because a tool asked to.",
    ["connector"],
    registry=OBSERVED,
)


@contextmanager
def timed(histogram: Histogram, integration_id: int, share: int = 1):
    """Observe the block's duration, divided among ``share`` items."""
    started = time.perf_counter()
    try:
        yield
    finally:
        each = (time.perf_counter() - started) / max(share, 1)
        child = histogram.labels(integration=str(integration_id))
        for _ in range(max(share, 1)):
            child.observe(each)


class LedgerCollector:
    """Gauges and counters read from the operational database when Prometheus scrapes."""

    def collect(self):
        from django.db.models import Count, Sum
        from django.utils import timezone

        from activity.models import ArtifactActivity, Blocker
        from integrations.engine import heartbeat as beats
        from metrics.models import CountTotal

        activities = GaugeMetricFamily(
            "hub_activities",
            "Artifact activities in the ledger, by status and integration.",
            labels=["status", "integration"],
        )
        for row in (
            ArtifactActivity.objects.values("status", "integration_id").annotate(n=Count("id")).order_by()
        ):
            activities.add_metric([row["status"], str(row["integration_id"])], row["n"])
        yield activities

        now = timezone.now()
        due = ArtifactActivity.objects.filter(status=ArtifactActivity.Status.PENDING).count()
        due += ArtifactActivity.objects.filter(
            status=ArtifactActivity.Status.FAILED, next_retry_at__lte=now
        ).count()
        yield GaugeMetricFamily(
            "hub_queue_depth",
            "Activities waiting to be processed now (pending, or failed and due).",
            value=due,
        )

        blockers = GaugeMetricFamily(
            "hub_blockers", "Blockers on the Activity screen, by code.", labels=["code"]
        )
        for row in Blocker.objects.values("code").annotate(n=Count("id")).order_by("code"):
            blockers.add_metric([row["code"]], row["n"])
        yield blockers

        artifacts = CounterMetricFamily(
            "hub_artifacts",
            "Artifacts Hub created or updated, since counting began.",
            labels=["integration", "kind"],
        )
        for row in (
            CountTotal.objects.values("integration_id")
            .annotate(c=Sum("created"), u=Sum("updated"))
            .order_by()
        ):
            artifacts.add_metric([str(row["integration_id"]), "created"], row["c"] or 0)
            artifacts.add_metric([str(row["integration_id"]), "updated"], row["u"] or 0)
        yield artifacts

        heartbeat = GaugeMetricFamily(
            "hub_worker_heartbeat_timestamp_seconds",
            "When each sync worker last said it is alive.",
            labels=["worker"],
        )
        for worker, beat_at in beats.recent(beats.FORGET, now).items():
            heartbeat.add_metric([worker], beat_at.timestamp())
        yield heartbeat


def exposition() -> bytes:
    """Every figure, as the text a scrape gets."""
    directory = os.environ.get(MULTIPROCESS_ENV)
    registry = CollectorRegistry()
    if directory:
        MultiProcessCollector(registry, path=directory)  # every process's observations, merged
        registry.register(LedgerCollector())
        return generate_latest(registry)
    registry.register(LedgerCollector())
    return generate_latest(OBSERVED) + generate_latest(registry)


# --- who may scrape --------------------------------------------------------------------------------


def allowed(token: str, addresses: tuple[str, ...], authorization: str, remote: str) -> bool:
    """Whether a scrape may read: the right bearer token, or a client address in a configured
    network. Nothing configured: nobody."""
    if token and authorization.startswith("Bearer "):
        if hmac.compare_digest(authorization[len("Bearer ") :].encode(), token.encode()):
            return True
    if addresses and remote:
        try:
            client = ipaddress.ip_address(remote)
        except ValueError:
            return False
        return any(client in ipaddress.ip_network(network, strict=False) for network in addresses)
    return False


def configured_token() -> str:
    """The token in ``hub.metrics.tokenFile``, read on each scrape so a new one applies at once."""
    from django.conf import settings

    path = settings.HUB["hub.metrics.tokenFile"]
    if not path:
        return ""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            return handle.readline().strip()
    except OSError:
        return ""


def fresh_multiprocess_dir(run_dir) -> str:
    """The directory of this run's observations, emptied: counters restart with the processes, as
    Prometheus expects of a restarted target."""
    directory = os.path.join(str(run_dir), "prometheus")
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.unlink(os.path.join(directory, name))
    return directory
