"""The extension part of the field-mapping screen: which custom data transformations fit the
fields chosen so far, in each direction, and a warning for lossy ones from collection to model."""

from __future__ import annotations

from extensions import transformations


def extension_choices(request, repository_types: list[str], model_types: list[str]) -> dict:
    to_model = transformations.fitting(repository_types, model_types)
    to_repository = transformations.fitting(model_types, repository_types)
    return {
        "to_model_extensions": to_model,
        "to_repository_extensions": to_repository,
        "lossy": [e.name for e in to_model if transformations.is_lossy(e)],
        "selected_to_model": request.GET.get("to_model_extension", ""),
        "selected_to_repository": request.GET.get("to_repository_extension", ""),
    }
