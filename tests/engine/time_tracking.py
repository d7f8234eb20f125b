"""Configuration for Time Tracking tests: the factories' Defect model with a Time Entries field,
mapped in both local collections, and the integration turned into the Time Tracking style."""

from __future__ import annotations

from integrations.models import FieldMapping, Integration, ModelField


def map_time_entries(collection, direction: str = "both") -> FieldMapping:
    return FieldMapping.objects.create(
        collection=collection,
        repository_fields=["time_entries"],
        repository_field_types={"time_entries": "time_entries"},
        model_fields=["worklogs"],
        model_field_types={"worklogs": "time_entries"},
        direction=direction,
    )


def time_tracking(integration: Integration, *, flow: str = "both", **worklogs) -> Integration:
    """The integration as a Time Tracking one whose worklogs flow ``flow`` (``worklogs``: more of the
    field flow's settings, e.g. ``filter``)."""
    model = integration.collection_a.model
    ModelField.objects.get_or_create(
        model=model, key="worklogs", defaults={"label": "Worklogs", "type": "time_entries", "position": 9}
    )
    for collection in integration.collections():
        map_time_entries(collection)
    integration.style = Integration.Style.TIME_TRACKING
    integration.field_flows = {**integration.field_flows, "worklogs": {"flow": flow, **worklogs}}
    integration.save()
    return integration
