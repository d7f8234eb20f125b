"""A Gateway integration's configuration is checked like any other: each problem becomes a blocker
with its catalog code (the validator of integrations.validation), and a blocked integration's
payloads wait instead of being written."""

from __future__ import annotations

import pytest

from integrations import validation
from integrations.models import ModelField

pytestmark = pytest.mark.django_db


def codes() -> set[str]:
    return {problem.code for problem in validation.problems()}


def test_a_well_configured_gateway_integration_has_no_problem(gateway):
    assert codes() == set()


def test_twinless_update_without_a_key_identifier_is_1410E(gateway):
    gateway.integration.twinless_update = True
    gateway.integration.save()
    assert "CCRRTT-1410E" in codes()


def test_a_key_identifier_that_is_no_string_field_of_the_model_is_1416E(gateway):
    gateway.integration.twinless_update, gateway.integration.key_identifier = True, "due"
    gateway.integration.save()
    assert "CCRRTT-1416E" in codes()


def test_a_collection_without_a_token_is_20007E(gateway):
    gateway.collection.token_hash = ""
    gateway.collection.save()
    assert "CCRRTT-20007E" in codes()


def test_a_relationship_field_without_its_repository_is_20004E(gateway, model, repositories):
    ModelField.objects.create(model=model, key="parent", label="Parent", type="relationship", position=9)
    assert "CCRRTT-20004E" in codes()
    gateway.collection.relationship_repositories = {"parent": repositories[1].pk}
    gateway.collection.save()
    assert "CCRRTT-20004E" not in codes()


def test_a_payload_transformation_without_the_license_feature_is_20006E(gateway, make_extension, licensed):
    gateway.collection.extension = make_extension(
        "Jenkins", "function transformPayload(p) { return []; }", type="payload_transformation"
    )
    gateway.collection.save()
    assert "CCRRTT-20006E" in codes()


def test_commit_artifacts_need_a_commit_message_mapped_to_a_relationship_67001E(gateway, model):
    ModelField.objects.create(
        model=model, key="commit_message", label="Commit message", type="string", position=8
    )
    assert "CCRRTT-67001E" in codes()


def test_no_source_or_target_collection_is_1405E_and_1406E(gateway):
    gateway.integration.gateway_collection = gateway.integration.collection_b = None
    gateway.integration.save()
    assert {"CCRRTT-1405E", "CCRRTT-1406E"} <= codes()


def test_activities_can_process_judges_only_work_item_styles(gateway):
    import datetime as dt

    from django.utils import timezone

    from activity.models import ArtifactActivity
    from hub import health
    from integrations.engine.health import activities_can_process
    from integrations.gateway import shapes

    long_ago = timezone.now() - dt.timedelta(hours=1)
    ArtifactActivity.objects.create(
        **shapes.related(gateway.integration, gateway.collection),
        artifact_id="1.1",
        status="processing",
        claimed_at=long_ago,
    )
    result = activities_can_process()
    assert result.status == health.PASS and "0 pending" in result.reason
