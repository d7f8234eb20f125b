"""The User Count Configuration screen's tabs: what each shows and how each saves. Every save goes
into configuration history (``hub.audit``)."""

from __future__ import annotations

import contextlib
from datetime import date

from django.core.paginator import Paginator
from django.utils import timezone

from hub import audit
from hub.ids import parse_ids
from metrics import usercount
from metrics.models import PersonOverride, PersonSighting, RepositoryPerson, UserCountSettings

ELEMENT = "User Count Configuration"
PAGE_SIZE = 20
TABS = [
    ("integrations", "Integration Exclusions"),
    ("user-types", "User Type Exclusions"),
    ("overrides", "Person Reconciliation Overrides"),
    ("start-date", "Start Date"),
]


def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page") or request.POST.get("page"))


def _integration_rows(config: UserCountSettings):
    from integrations.models import Integration

    return [
        {
            "pk": pk,
            "name": name,
            "non_production": bool(config.integrations.get(str(pk), {}).get("non_production")),
            "itsm": bool(config.integrations.get(str(pk), {}).get("itsm")),
        }
        for pk, name in Integration.objects.order_by("name", "pk").values_list("pk", "name")
    ]


def _user_type_rows(config: UserCountSettings):
    """A row per person field of a repository people were seen in, with its type and its impact.
    The field is shown as the repository names it (the fields the collections' mappings read for
    it) with the model field's label; the key stays the model field the sightings record."""
    from integrations.models import Integration, ModelField, Repository, RepositoryCollection
    from metrics import usage

    labels = dict(Repository.objects.values_list("pk", "label"))
    names = dict(Integration.objects.values_list("pk", "name"))
    seen: dict[tuple[int, str], set[int]] = {}
    collections: dict[tuple[int, str], set[int]] = {}
    for repository_id, field, integration_id, collection_id in (
        PersonSighting.objects.values_list("repository_id", "field", "integration_id", "collection_id")
        .distinct()
        .order_by()
    ):
        seen.setdefault((repository_id, field), set()).add(integration_id)
        if collection_id is not None:
            collections.setdefault((repository_id, field), set()).add(collection_id)
    mapped = usage.repository_fields()
    models = dict(RepositoryCollection.objects.values_list("pk", "model_id"))
    field_labels = {
        (model_id, key): label
        for model_id, key, label in ModelField.objects.values_list("model_id", "key", "label")
    }
    rows = []
    for (repository_id, field), integrations in sorted(
        seen.items(), key=lambda i: (labels.get(i[0][0], ""), i[0])
    ):
        kind = usercount.user_type(config, repository_id, field)
        itsm = sorted(
            names.get(i, f"(deleted integration {i})")
            for i in integrations
            if config.integrations.get(str(i), {}).get("itsm")
        )
        if kind == UserCountSettings.EXCLUDED:
            impact, details = "Not Counted", ""
        elif kind == UserCountSettings.REQUESTER:
            impact = "Conditional (See details)"
            details = (
                f"Not counted in {', '.join(itsm)} (Involves ITSM); counted in its other integrations."
                if itsm
                else "Counted: none of its integrations is marked as involving ITSM."
            )
        else:
            impact, details = "Counted", ""
        places = sorted(collections.get((repository_id, field), ()))
        repository_fields = sorted({f for c in places for f in mapped.get((c, field), [])})
        model_label = next(
            (field_labels[models[c], field] for c in places if (models.get(c), field) in field_labels), field
        )
        rows.append(
            {
                "key": f"{repository_id}:{field}",
                "repository": labels.get(repository_id, f"(deleted repository {repository_id})"),
                "field": ", ".join(repository_fields) or model_label,
                "model_field": model_label,
                "type": kind,
                "impact": impact,
                "details": details,
            }
        )
    return rows


def _people():
    from integrations.models import Repository

    labels = dict(Repository.objects.values_list("pk", "label"))
    return [
        {
            "uid": str(p.uid),
            "repository_id": p.repository_id,
            "label": f"{labels.get(p.repository_id, p.repository_id)}: "
            f"{p.display_name or p.username or p.email or p.person_id}",
        }
        for p in RepositoryPerson.objects.order_by("repository_id", "username", "person_id")
    ]


def context(tab: str, request) -> dict:
    config = UserCountSettings.get()
    out: dict = {"config": config}
    if tab == "integrations":
        out["page"] = _page(request, _integration_rows(config))
    elif tab == "user-types":
        out["page"] = _page(request, _user_type_rows(config))
        out["user_types"] = UserCountSettings.USER_TYPES
    elif tab == "overrides":
        people = _people()
        by_uid = {p["uid"]: p["label"] for p in people}
        out["people"] = people
        out["page"] = _page(
            request,
            [
                {
                    "pk": o.pk,
                    "person": by_uid.get(str(o.person_uid), str(o.person_uid)),
                    "other": by_uid.get(str(o.other_person_uid), str(o.other_person_uid)),
                }
                for o in PersonOverride.objects.order_by("pk")
            ],
        )
    else:
        today = timezone.localdate()
        out["anchor"] = usercount.renewal_anchor(config)
        out["counting_from"] = usercount.current_start(config, today)
    return out


def save(request, tab: str) -> tuple[list[str], list[str]]:
    """Returns (errors, messages); nothing is saved when there are errors."""
    config = UserCountSettings.get()
    before = usercount.settings_document(config, timezone.localdate())
    post = request.POST
    errors: list[str] = []
    if tab == "integrations":
        for pk in post.getlist("shown"):
            flags = {"non_production": f"non_production_{pk}" in post, "itsm": f"itsm_{pk}" in post}
            if any(flags.values()):
                config.integrations[str(pk)] = flags
            else:
                config.integrations.pop(str(pk), None)
        config.save()
    elif tab == "user-types":
        allowed = dict(UserCountSettings.USER_TYPES)
        for key in post.getlist("shown"):
            kind = post.get(f"type_{key}", UserCountSettings.STANDARD)
            if kind not in allowed:
                errors.append(f"Unknown user type for {key}.")
            elif kind == UserCountSettings.STANDARD:
                config.user_types.pop(key, None)
            else:
                config.user_types[key] = kind
        if not errors:
            config.save()
    elif tab == "overrides":
        errors = _save_overrides(post)
    else:
        value = post.get("start_date", "").strip()
        try:
            config.start_date = date.fromisoformat(value) if value else None
        except ValueError:
            errors.append("The start date must be a date (YYYY-MM-DD).")
        else:
            if config.start_date and config.start_date > timezone.localdate():
                errors.append("The start date cannot be in the future.")
            else:
                config.save()
    if not errors:
        after = usercount.settings_document(UserCountSettings.get(), timezone.localdate())
        audit.record_change(request.user, "settings", ELEMENT, dict(TABS)[tab], before, after)
    return errors, []


def _save_overrides(post) -> list[str]:
    action = post.get("action")
    if action == "delete":
        PersonOverride.objects.filter(pk__in=parse_ids(post.getlist("delete"))).delete()
        return []
    if action == "add":
        people = {
            str(p.uid): p for p in RepositoryPerson.objects.filter(uid__in=_uuids(post, "person", "other"))
        }
        person, other = people.get(post.get("person", "")), people.get(post.get("other", ""))
        if person is None or other is None:
            return ["Choose a person and their duplicate."]
        if person.repository_id == other.repository_id:
            return ["The duplicate must be a person of another repository."]
        usercount.add_overrides(
            [(person.repository_id, str(person.uid), other.repository_id, str(other.uid))]
        )
        return []
    if action == "bulk":
        rows, errors = usercount.parse_bulk(post.get("rows", ""))
        if errors:
            return errors
        if not rows:
            return ["Paste at least one row of the template (without its header)."]
        usercount.add_overrides(rows)
        return []
    return ["Unknown action."]


def _uuids(post, *names: str) -> list[str]:
    import uuid

    out = []
    for name in names:
        with contextlib.suppress(ValueError):
            out.append(str(uuid.UUID(post.get(name, ""))))
    return out
