"""The ledger under /api/v1/: activities, pairs, blockers and background jobs, read-only, with the
filters and paging of the Activity screen (``activity.lists``), and the screen's actions — Retry,
Prioritize, Ignore, Sync now — on one row or in bulk, for administrators.

Operations and tests check Hub here instead of scraping the console: "nothing left processing" is
``GET /api/v1/activities/?status=processing`` answering ``count: 0``.

A bulk action names its rows with ``{"ids": [...]}``, or with ``{"filtered": true}`` and the list's
own filters in the query string (what the screen's "all within the filters" does). Authentication,
the administrator rule and CSRF for session users are those of every /api/v1/ endpoint.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import pagination, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from activity import lists, services
from activity.models import ArtifactActivity, ArtifactPair, BackgroundJob, Blocker
from activity.views import ACTIONS, NEEDS_FILTER, PAGE_SIZE, LedgerPaginator
from hub.ids import parse_ids
from integrations.api.views import ApiView

MAX_PAGE_SIZE = 500


class LedgerPagination(pagination.PageNumberPagination):
    """``page`` as on the screen (25 rows); ``page_size`` up to 500 for scripts. The unfiltered
    count of a huge table is the planner's estimate there too, and ``approximate`` says so."""

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        unfiltered = not (set(request.query_params) - {"page", "page_size"})
        self.django_paginator_class = lambda rows, size: LedgerPaginator(rows, size, may_estimate=unfiltered)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["approximate"] = self.page.paginator.approximate
        return response

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["approximate"] = {
            "type": "boolean",
            "description": "True when count is the database's estimate for an unfiltered huge table.",
        }
        answer["required"] = [*answer.get("required", []), "approximate"]
        return answer


# --- filters: the screen's, plus what a script asks for -------------------------------------------


def _artifact(*prefixes: str):
    def match(queryset, name, value):
        condition = Q()
        for prefix in prefixes:
            condition |= Q(**{f"{prefix}artifact_id": value}) | Q(**{f"{prefix}formatted_id": value})
        return queryset.filter(condition)

    return match


class ActivityApiFilter(lists.ActivityFilter):
    status = django_filters.MultipleChoiceFilter(choices=ArtifactActivity.Status.choices)
    side = django_filters.ChoiceFilter(field_name="source_side", choices=(("A", "A"), ("B", "B")))
    artifact = django_filters.CharFilter(
        method=_artifact(""), label="The artifact's own id or formatted id (exact)"
    )


class PairApiFilter(lists.PairFilter):
    artifact = django_filters.CharFilter(
        method=_artifact("a_", "b_"), label="The id or formatted id of either artifact (exact)"
    )


class JobApiFilter(lists.JobFilter):
    status = django_filters.MultipleChoiceFilter(choices=BackgroundJob.Status.choices)


# --- serializers: what a row shows, never snapshots, maps or job parameters -----------------------


class ActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = ArtifactActivity
        fields = (
            "id", "integration_id", "integration_name", "source_side", "artifact_id", "formatted_id",
            "summary", "url", "status", "result", "code", "message", "retry_count", "next_retry_at",
            "priority", "claimed_by", "claimed_at", "source_collection_name", "target_collection_name",
            "source_project", "target_project", "collection_pair_name", "created", "updated",
        )  # fmt: skip
        read_only_fields = fields


class PairSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArtifactPair
        fields = (
            "id", "integration_id", "integration_name",
            "a_artifact_id", "a_formatted_id", "a_summary", "a_url", "a_project",
            "b_artifact_id", "b_formatted_id", "b_summary", "b_url", "b_project",
            "last_synced_at", "created", "updated",
        )  # fmt: skip
        read_only_fields = fields


class LedgerBlockerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Blocker
        fields = ("id", "key", "code", "message", "impact", "kind", "integration_ids", "related", "created")
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = BackgroundJob
        fields = (
            "id", "kind", "name", "status", "progress", "code", "message", "retry_count",
            "next_retry_at", "integration_id", "integration_name", "requested_by", "created",
            "started", "finished",
        )  # fmt: skip
        read_only_fields = fields


class BulkSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=10000)
    filtered = serializers.BooleanField(
        required=False, default=False, help_text="Every row the query string's filters select."
    )

    def validate(self, attrs):
        if bool(attrs.get("ids")) == bool(attrs.get("filtered")):
            raise serializers.ValidationError("Name the rows: either ids, or filtered: true with filters.")
        return attrs


class SyncSerializer(BulkSerializer):
    side = serializers.ChoiceField(choices=("A", "B", "both"), default="both")


class SingleSyncSerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=("A", "B", "both"), default="both")


class ActionResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="How many rows the action changed.")
    message = serializers.CharField()


# --- viewsets --------------------------------------------------------------------------------------

SIDES = {"A": ("A",), "B": ("B",), "both": ("A", "B")}


class LedgerViewSet(ApiView, viewsets.ReadOnlyModelViewSet):
    list_key: str
    pagination_class = LedgerPagination
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self):
        return lists.LISTS[self.list_key].model.objects.order_by("-id")

    def _run(self, key: str, targets, request) -> Response:
        if key == "sync":
            side = request.data.get("side", "both") if isinstance(request.data, dict) else "both"
            changed = services.request_sync(targets, SIDES[side], user=request.user)
        else:
            changed = ACTIONS[self.list_key][key][0](targets, user=request.user)
        plural = ("y", "ies") if self.list_key == "activities" else ("", "s")
        message = ACTIONS[self.list_key][key][1].format(n=changed, s=plural[changed != 1])
        return Response({"changed": changed, "message": message})

    def act_on_one(self, request, key: str, serializer_class=None):
        if serializer_class:
            serializer_class(data=request.data).is_valid(raise_exception=True)
        row = self.get_object()
        return self._run(key, type(row).objects.filter(pk=row.pk), request)

    def act_in_bulk(self, request, key: str, serializer_class=BulkSerializer):
        body = serializer_class(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data.get("filtered"):
            filterset = self.filterset_class(request.query_params, queryset=self.get_queryset())
            if not filterset.is_valid():
                raise serializers.ValidationError(filterset.errors)
            if (self.list_key, key) in NEEDS_FILTER and not lists.ListDefinition.is_filtered(filterset):
                raise serializers.ValidationError("Apply a filter first: this would touch every row.")
            targets = filterset.qs
        else:
            targets = self.get_queryset().filter(pk__in=parse_ids(body.validated_data["ids"]))
        return self._run(key, targets, request)


def _ledger_actions(*keys: str, one=None, bulk=BulkSerializer):
    """Decorate a viewset with POST ``{id}/<key>/`` and POST ``<key>/`` for each action."""

    def decorate(cls):
        for key in keys:

            def single(self, request, pk=None, _key=key):
                return self.act_on_one(request, _key, one)

            def many(self, request, _key=key):
                return self.act_in_bulk(request, _key, bulk)

            for name, function, detail, body in (
                (f"{key}_one", single, True, one),
                (f"{key}_bulk", many, False, bulk),
            ):
                function.__name__ = name
                function.__doc__ = (
                    f"{key.capitalize()}: {ACTIONS[cls.list_key][key][1].format(n='n', s='(s)')}"
                )
                routed = action(
                    detail=detail,
                    methods=["post"],
                    url_path=key,
                    url_name=f"{key}-{'one' if detail else 'bulk'}",
                )(function)
                operation = f"{cls.list_key}_{key}" + ("" if detail else "_bulk")
                documented = extend_schema(
                    operation_id=operation, request=body, responses={200: ActionResultSerializer}
                )
                setattr(cls, name, documented(routed))
        return cls

    return decorate


@_ledger_actions("retry", "prioritize", "ignore")
class ActivityViewSet(LedgerViewSet):
    """Artifact activities: what the engine has to do, does, did or could not do."""

    list_key = "activities"
    serializer_class = ActivitySerializer
    filterset_class = ActivityApiFilter


@_ledger_actions("sync", one=SingleSyncSerializer, bulk=SyncSerializer)
class PairViewSet(LedgerViewSet):
    """Artifact pairs: each artifact and its twin, both sides."""

    list_key = "pairs"
    serializer_class = PairSerializer
    filterset_class = PairApiFilter


@_ledger_actions("retry")
class BlockerViewSet(LedgerViewSet):
    list_key = "blockers"
    serializer_class = LedgerBlockerSerializer
    filterset_class = lists.BlockerFilter


@_ledger_actions("prioritize")
class JobViewSet(LedgerViewSet):
    list_key = "jobs"
    serializer_class = JobSerializer
    filterset_class = JobApiFilter
