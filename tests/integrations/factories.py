"""Fixtures that build configuration over the built-in local tracker, the way an administrator
would: a repository, a model, two collections with mappings, an integration."""

import pytest

from integrations.models import (
    FieldMapping,
    Integration,
    Model,
    ModelField,
    Repository,
    RepositoryCollection,
    Route,
)
from integrations.services import set_projects


@pytest.fixture
def trackers(db):
    from connectors.local import service

    alpha, beta = service.tracker("alpha"), service.tracker("beta")
    service.create_project(alpha, "DEMO", "Demo")
    service.create_project(alpha, "OPS", "Operations")
    service.create_project(beta, "WEB", "Website")
    return alpha, beta


@pytest.fixture
def repositories(trackers, master_password):
    return (
        Repository.objects.create(label="Alpha", kind="local", url="local://alpha"),
        Repository.objects.create(label="Beta", kind="local", url="local://beta"),
    )


@pytest.fixture
def model(db):
    model = Model.objects.create(name="Defect")
    ModelField.objects.create(
        model=model, key="title", label="Title", type="string", required=True, position=0
    )
    ModelField.objects.create(
        model=model,
        key="priority",
        label="Priority",
        type="single_select",
        options=[{"id": "high", "label": "High"}, {"id": "low", "label": "Low"}],
        position=1,
    )
    ModelField.objects.create(model=model, key="due", label="Due", type="date", position=2)
    return model


def mapped_collection(name, repository, project, model):
    collection = RepositoryCollection.objects.create(
        name=name, repository=repository, model=model, artifact_types=["bug"]
    )
    set_projects(collection, [{"id": project, "key": project, "name": project.title()}])
    FieldMapping.objects.create(
        collection=collection,
        repository_fields=["summary"],
        repository_field_types={"summary": "string"},
        model_fields=["title"],
        model_field_types={"title": "string"},
        direction="both",
        transform="copy",
    )
    FieldMapping.objects.create(
        collection=collection,
        repository_fields=["priority"],
        repository_field_types={"priority": "single_select"},
        model_fields=["priority"],
        model_field_types={"priority": "single_select"},
        direction="both",
        transform="value_map",
        params={
            "to_model": {"high": "high"},
            "to_model_default": "low",
            "to_repository": {"high": "high", "low": "low"},
        },
    )
    return collection


def running_integration(name, collection_a, collection_b, project_a, project_b):
    """A second integration like the factories' one (title both ways, priority A → B, A wins),
    running, with one route."""
    integration = Integration.objects.create(
        name=name,
        collection_a=collection_a,
        collection_b=collection_b,
        field_flows={"title": "both", "priority": "a_to_b"},
        conflict_strategy="a_wins",
        running=True,
    )
    Route.objects.create(integration=integration, project_a=project_a, project_b=project_b, direction="both")
    return integration


@pytest.fixture
def collections(repositories, model):
    alpha, beta = repositories
    return mapped_collection("Alpha defects", alpha, "DEMO", model), mapped_collection(
        "Beta defects", beta, "WEB", model
    )


@pytest.fixture
def integration(collections):
    a, b = collections
    integration = Integration.objects.create(
        name="Alpha ↔ Beta",
        collection_a=a,
        collection_b=b,
        field_flows={"title": "both", "priority": "a_to_b"},
        conflict_strategy="a_wins",
    )
    Route.objects.create(integration=integration, project_a="DEMO", project_b="WEB", direction="both")
    return integration
