"""Payload transformation extensions at the endpoint: payloads in the tools' own published shapes
(Jenkins Notification plugin, GitHub ``issues`` and ``push``, GitLab issue events) posted over
HTTP, turned by the example extensions of docs/gateway.md into artifacts of the local tracker —
none, one or several per payload, with query parameters and headers passed on."""

from __future__ import annotations

import pytest

from activity.models import ArtifactActivity
from connectors.local.models import LocalItem
from tests.gateway.conftest import FIXTURES, fixture
from tests.gateway.test_endpoint import drain, post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def transforming(gateway, make_extension):
    def use(script_file: str):
        gateway.collection.extension = make_extension(
            script_file, (FIXTURES / script_file).read_text(), type="payload_transformation"
        )
        gateway.collection.save()
        return gateway

    return use


def items():
    return {item.summary: item for item in LocalItem.objects.filter(project__key="WEB")}


def test_a_jenkins_notification_becomes_a_failed_build_artifact(live_server, transforming):
    gateway = transforming("jenkins.js")
    assert post(live_server, gateway, fixture("jenkins-notification.json")).status_code == 202
    drain()
    item = items()["hub-nightly #118: FAILURE"]
    assert item.priority == "high"


def test_an_empty_array_means_the_payload_is_ignored(live_server, transforming):
    gateway = transforming("jenkins.js")
    started = fixture("jenkins-notification.json")
    started["build"]["phase"] = "STARTED"
    answer = post(live_server, gateway, started)
    drain()
    from integrations.models import GatewayPayload

    assert GatewayPayload.objects.get(pk=answer.json()["id"]).status == "ignored"
    assert not items() and not ArtifactActivity.objects.exists()


def test_a_github_issues_event_uses_the_event_header(live_server, transforming):
    gateway = transforming("github.js")
    post(live_server, gateway, fixture("github-issues.json"), **{"X-GitHub-Event": "issues"})
    drain()
    item = items()["Login page <b>hangs</b> on Safari"]
    assert item.priority == "high"


def test_a_github_push_makes_one_artifact_per_commit_with_a_query_parameter(live_server, transforming):
    gateway = transforming("github.js")
    post(
        live_server, gateway, fixture("github-push.json"), path="?prefix=Commit", **{"X-GitHub-Event": "push"}
    )
    drain()
    assert sorted(items()) == [
        "Commit 0d1a26e: Log the refresh failure",
        "Commit b5d4c3f: Retry the session refresh once (WEB-1)",
    ]


def test_a_gitlab_issue_event_becomes_an_artifact(live_server, transforming):
    gateway = transforming("gitlab.js")
    post(live_server, gateway, fixture("gitlab-issue.json"), **{"X-Gitlab-Event": "Issue Hook"})
    drain()
    assert items()["Invoice totals round twice"].priority == "high"


def test_an_extension_that_throws_refuses_the_payload_with_17011E_on_the_activity_screen(
    live_server, gateway, make_extension
):
    gateway.collection.extension = make_extension(
        "Broken",
        "function transformPayload(p) { throw 'no build in this payload'; }",
        type="payload_transformation",
    )
    gateway.collection.save()
    post(live_server, gateway, {"anything": True})
    drain()
    refusal = ArtifactActivity.objects.get()
    assert refusal.status == "ignored" and refusal.code == "CCRRTT-17011E"
    assert "no build in this payload" in refusal.message and not items()


def test_an_extension_output_that_does_not_fit_the_model_is_17024E(live_server, gateway, make_extension):
    gateway.collection.extension = make_extension(
        "Wrong", "function transformPayload(p) { return [{title: 1}]; }", type="payload_transformation"
    )
    gateway.collection.save()
    post(live_server, gateway, {})
    drain()
    assert ArtifactActivity.objects.get().code == "CCRRTT-17024E" and not items()


def test_without_the_license_feature_the_payload_is_refused_with_20006E(live_server, transforming, licensed):
    gateway = transforming("jenkins.js")
    post(live_server, gateway, fixture("jenkins-notification.json"))
    drain()
    assert ArtifactActivity.objects.get().code == "CCRRTT-20006E" and not items()


def test_the_example_extensions_are_the_ones_the_documentation_shows():
    from django.conf import settings

    guide = (settings.BASE_DIR / "docs" / "gateway.md").read_text()
    for name in ("jenkins.js", "github.js", "gitlab.js", "link-commit.js"):
        assert (FIXTURES / name).read_text().strip() in guide, name
