"""What uses an extension (for Associated Elements and for refusing a delete), copying one, and
the checks a script must pass before it is saved."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse

from extensions import runtime, types
from extensions.errors import ExtensionError
from extensions.models import ENTRY_POINTS, CollectionExtensions, Extension, ExtensionType

SETTING_LABELS = {
    "comments_to_model": "comments, collection → model",
    "comments_to_repository": "comments, model → collection",
    "person_reconciliation": "person reconciliation",
    "state_transition": "state transition",
}


@dataclass(frozen=True)
class Use:
    label: str
    url: str


def uses_of(extension: Extension) -> list[Use]:
    """Collections (mapping lines, comment, person and state transition settings) and the
    integrations over those collections."""
    from integrations.models import FieldMapping, Integration

    uses, collections = [], {}
    lines = FieldMapping.objects.filter(transform="extension").select_related("collection")
    for line in lines:
        params = line.params or {}
        if extension.name in (params.get("to_model_extension"), params.get("to_repository_extension")):
            collections[line.collection.pk] = line.collection
            uses.append(
                Use(
                    f"Mapping of {line.collection.name} ({line})",
                    reverse("collection-mapping", args=[line.collection.pk]),
                )
            )
    condition = Q()
    for field in SETTING_LABELS:
        condition |= Q(**{field: extension})
    for settings in CollectionExtensions.objects.filter(condition).select_related("collection"):
        collections[settings.collection.pk] = settings.collection
        for field, label in SETTING_LABELS.items():
            if getattr(settings, f"{field}_id") == extension.pk:
                uses.append(
                    Use(
                        f"Collection {settings.collection.name} ({label})",
                        reverse("collection-extensions", args=[settings.collection.pk]),
                    )
                )
    for integration in Integration.objects.filter(
        Q(collection_a__in=list(collections)) | Q(collection_b__in=list(collections))
    ).order_by("name"):
        uses.append(
            Use(f"Integration {integration.name}", reverse("integration-edit", args=[integration.pk]))
        )
    return uses


def copy_name(name: str) -> str:
    candidate, number = f"Copy of {name}", 2
    while Extension.objects.filter(name=candidate).exists():
        candidate, number = f"Copy of {name} ({number})", number + 1
    return candidate[:200]


@dataclass
class Checked:
    notice: str = ""
    declared: tuple[list[str], list[str]] | None = None


def check_script(script: str, extension_type: str) -> Checked:
    """Compile, then check what the type needs: its entry points, and for a custom data
    transformation the declared types. Raises ExtensionError naming the line where there is one."""
    compiled, found = runtime.compile_check(script)
    missing = [name for name in ENTRY_POINTS[ExtensionType(extension_type)] if found.get(name) != "function"]
    if missing:
        names = " and ".join(f"function {m}(…)" for m in missing)
        raise ExtensionError(f"A {ExtensionType(extension_type).label} extension must define {names}.")
    checked = Checked(notice=compiled.notice)
    if extension_type == ExtensionType.CUSTOM_DATA_TRANSFORMATION:
        try:
            checked.declared = (
                types.parse_declared(found.get("inputTypes"), "inputTypes"),
                types.parse_declared(found.get("outputTypes"), "outputTypes"),
            )
        except types.UnknownType as error:
            raise ExtensionError(
                f"{error} Declare them as in: var inputTypes = 'String'; "
                "var outputTypes = ['String', 'Long'];"
            ) from None
    return checked


def start_sandbox_if_used() -> bool:
    """Start this process's sandbox child now, when any extension exists: a worker that will run
    extensions pays V8's start-up (seconds on a loaded machine) when it starts, not inside the
    first artifact it synchronizes. Never fails the worker's start; True when a child was started."""
    import logging

    try:
        if not Extension.objects.exists():
            return False
        _, heap = runtime.limits()
        runtime.SANDBOX.ensure(heap)
        return True
    except Exception:  # noqa: BLE001 - a worker must start even when this cannot; the first call retries
        logger = logging.getLogger("hub.extensions")
        logger.warning("The JavaScript sandbox was not started early.", exc_info=True)
        return False
