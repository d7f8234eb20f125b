"""Building configuration through the screens with Django's test client, step by step as an
administrator does it; shared by the screen tests."""

from django.urls import reverse

from integrations.models import Integration, Model, Repository, RepositoryCollection


def formset_data(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def create_repository(client, label: str, url: str) -> Repository:
    response = client.post(
        reverse("repository-create"),
        {
            "kind": "local",
            "label": label,
            "url": url,
            "username": "",
            "events_per_minute": "0",
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    return Repository.objects.get(label=label)


def create_model(client) -> Model:
    data = {"name": "Defect", "description": ""}
    data.update(
        formset_data(
            "fields",
            [
                {"key": "title", "label": "Title", "type": "string", "required": "on", "options_text": ""},
                {
                    "key": "priority",
                    "label": "Priority",
                    "type": "single_select",
                    "options_text": "high: High\nlow: Low",
                },
            ],
        )
    )
    response = client.post(reverse("model-create"), data)
    assert response.status_code == 302, response.content.decode()
    return Model.objects.get(name="Defect")


def create_collection(
    client, name: str, repository: Repository, model: Model, project: str
) -> RepositoryCollection:
    response = client.post(
        reverse("collection-create"),
        {"name": name, "repository": repository.pk, "model": model.pk, "query": ""},
    )
    assert response.status_code == 302, response.content.decode()
    collection = RepositoryCollection.objects.get(name=name)
    response = client.post(reverse("collection-projects", args=[collection.pk]), {"projects": [project]})
    assert response.status_code == 302, response.content.decode()
    response = client.post(
        reverse("collection-edit", args=[collection.pk]),
        {"name": name, "model": model.pk, "artifact_types": ["bug"], "query": ""},
    )
    assert response.status_code == 302, response.content.decode()
    for line in (
        {
            "repository_fields": ["summary"],
            "model_fields": ["title"],
            "direction": "both",
            "transform": "copy",
        },
        {
            "repository_fields": ["priority"],
            "model_fields": ["priority"],
            "direction": "both",
            "transform": "value_map",
            "to_model": "high = high\nurgent = high",
            "to_model_default": "low",
            "to_repository": "high = high\nlow = low",
        },
    ):
        response = client.post(reverse("collection-mapping", args=[collection.pk]), line)
        assert response.status_code == 302, response.content.decode()
    return collection


def create_integration(client, a: RepositoryCollection, b: RepositoryCollection) -> Integration:
    general = {
        "name": "Alpha ↔ Beta",
        "style": "work_item_sync",
        "collection_a": a.pk,
        "collection_b": b.pk,
        "creation_flow": "both",
        "conflict_strategy": "a_wins",
        "detection_interval": "",
        "detection_cron": "",
        "full_scan_cron": "",
        "private_a_to_b": "skip",
        "private_b_to_a": "skip",
        "comments_a_to_b": "on",
        "max_size_a_to_b": "10",
        "max_size_b_to_a": "10",
    }
    response = client.post(reverse("integration-create"), general)
    assert response.status_code == 302, response.content.decode()
    integration = Integration.objects.get(name="Alpha ↔ Beta")
    response = client.post(
        reverse("integration-routes", args=[integration.pk]),
        formset_data("routes", [{"project_a": "DEMO", "project_b": "WEB", "direction": "both"}]),
    )
    assert response.status_code == 302, response.content.decode()
    response = client.post(
        reverse("integration-flows", args=[integration.pk]), {"title": "both", "priority": "a_to_b"}
    )
    assert response.status_code == 302, response.content.decode()
    response = client.post(
        reverse("integration-filters", args=[integration.pk]),
        {
            "combine": "and",
            "applies_to": "creation",
            **formset_data("conditions", [{"field": "priority", "operator": "in", "value": "high, low"}]),
        },
    )
    assert response.status_code == 302, response.content.decode()
    integration.refresh_from_db()
    return integration
