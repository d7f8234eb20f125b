"""Invariant 5: a configuration problem blocks only the integrations it affects; a global problem
(license, master password, database lease, safe mode, a global blocker) blocks every integration's
change detection and processing, and says so. Once fixed, work resumes with nothing lost."""

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.blockers import clear_blocker, raise_blocker
from activity.models import ArtifactActivity, Blocker
from connectors.local import service
from hub import gates, licensing, vault
from hub.models import AppliedLicense, InstanceLease
from integrations import validation
from integrations.engine import detection
from tests.engine.sync import items, new_item, run
from tests.integrations.factories import mapped_collection, running_integration

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_running(running, repositories, model):
    """The factories' integration (Alpha DEMO ↔ Beta WEB) and a second one, Alpha OPS ↔ Beta SUP."""
    alpha, beta = repositories
    service.create_project(service.tracker("beta"), "SUP", "Support")
    second = running_integration(
        "Operations ↔ Support",
        mapped_collection("Alpha operations", alpha, "OPS", model),
        mapped_collection("Beta support", beta, "SUP", model),
        "OPS",
        "SUP",
    )
    return running, second


def summaries(tracker: str, project: str) -> list[str]:
    return sorted(item.summary for item in items(tracker, project))


def run_both(first, second) -> None:
    run(first)
    run(second)


def page(client, url: str) -> str:
    return client.get(url).content.decode()


def test_a_configuration_problem_blocks_only_the_integration_it_affects(two_running, admin_client):
    first, second = two_running
    before = new_item("alpha", "DEMO", "Detected before the problem")
    detection.detect(first.pk)  # its activity is pending when the problem appears
    first.field_flows = {**first.field_flows, "severity": "both"}  # not a model field: CCRRTT-17005E
    first.save()
    validation.validate()
    new_item("alpha", "DEMO", "Made while blocked")
    new_item("alpha", "OPS", "Keeps flowing")

    run_both(first, second)

    assert summaries("beta", "WEB") == []
    assert ArtifactActivity.objects.get(artifact_id=str(before.pk)).status == "pending"  # not claimed
    assert summaries("beta", "SUP") == ["Keeps flowing"]
    # The reason is on the blocked integration's page and the Activity screen, not on the other one.
    assert "CCRRTT-17005E" in page(admin_client, reverse("integration-edit", args=[first.pk]))
    assert "CCRRTT-17005E" not in page(admin_client, reverse("integration-edit", args=[second.pk]))
    blockers = page(admin_client, reverse("activity-list", args=["blockers"]))
    assert "CCRRTT-17005E" in blockers and "severity" in blockers

    first.field_flows = {"title": "both", "priority": "a_to_b"}
    first.save()
    validation.validate()
    run(first)
    assert summaries("beta", "WEB") == ["Detected before the problem", "Made while blocked"]


@dataclass
class GlobalProblem:
    """How to cause a global problem and fix it, its code, and a console page that must show it."""

    cause: Callable
    fix: Callable
    code: str  # or words the health check's reason contains
    shown_at: str  # a console URL whose page names the problem
    shown_as: str


def expire_license(request):
    expired = json.loads(request.getfixturevalue("issue")())["license"] | {
        "created": "2020-01-01",
        "expires": "2020-12-31",
    }
    AppliedLicense.objects.all().delete()
    key = request.getfixturevalue("signing_key")
    AppliedLicense.objects.create(text=licensing.sign(expired, key), key_id="k")


def lose_master_password_file(request):
    request.getfixturevalue("settings").HUB_MASTER_KEY_FILE.unlink()
    vault.forget_unlocked_keys()


def lose_lease(request):
    now = timezone.now()
    InstanceLease.objects.create(instance_id="other", host="elsewhere", started=now, heartbeat=now)


def set_safe_mode(value: bool):
    return lambda request: setattr(request.getfixturevalue("settings"), "SAFE_MODE", value)


GLOBAL_PROBLEMS = {
    "expired license": GlobalProblem(
        expire_license,
        lambda request: licensing.apply(request.getfixturevalue("issue")()),
        "CCRRTT-63001E",
        "/activity/blockers/",
        "CCRRTT-63001E",
    ),
    "master password file missing": GlobalProblem(
        lose_master_password_file,
        lambda request: vault.unlock(request.getfixturevalue("master_password")),
        "CCRRTT-16001E",
        "/activity/blockers/",
        "CCRRTT-16001E",
    ),
    "database lease lost": GlobalProblem(
        lose_lease,
        lambda request: InstanceLease.objects.filter(instance_id="other").delete(),
        "CCRRTT-30012E",
        "/activity/",  # every console page becomes the "database in use" page
        "CCRRTT-30012E",
    ),
    "safe mode": GlobalProblem(
        set_safe_mode(True), set_safe_mode(False), "safe mode", "/activity/", "Safe mode"
    ),
    "global blocker": GlobalProblem(
        lambda request: raise_blocker(
            "database:storage", "CCRRTT-30015E", "Deployment configuration error.", impact=Blocker.Impact.ALL
        ),
        lambda request: clear_blocker("database:storage"),
        "CCRRTT-30015E",
        "/activity/blockers/",
        "CCRRTT-30015E",
    ),
}


@pytest.mark.parametrize("problem", GLOBAL_PROBLEMS.values(), ids=GLOBAL_PROBLEMS.keys())
def test_a_global_problem_stops_every_integration_and_says_why(
    two_running, problem, request, client, admin_client
):
    first, second = two_running
    before = new_item("alpha", "DEMO", "Detected before the problem")
    detection.detect(first.pk)
    problem.cause(request)
    gates.refresh_global_blockers()  # what every lease heartbeat does
    new_item("alpha", "DEMO", "Made during the problem")
    new_item("alpha", "OPS", "Made during the problem too")

    run_both(first, second)

    assert summaries("beta", "WEB") == summaries("beta", "SUP") == []
    assert list(ArtifactActivity.objects.values_list("artifact_id", "status")) == [
        (str(before.pk), "pending")
    ]
    check = client.get("/api/health").json()["checks"]["activitiesCanProcess"]
    assert check["status"] == "fail" and problem.code in check["reason"]
    assert problem.shown_as in page(admin_client, problem.shown_at)

    problem.fix(request)
    gates.refresh_global_blockers()
    run_both(first, second)
    assert summaries("beta", "WEB") == ["Detected before the problem", "Made during the problem"]
    assert summaries("beta", "SUP") == ["Made during the problem too"]
