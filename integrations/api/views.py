"""Viewsets of the configuration API. Every change goes through the same history recording and
validation as the screens."""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import authentication, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from hub.api import ERROR_SCHEMA, Conflict, JSONParser, error_body
from hub.ids import parse_id
from integrations import services, validation
from integrations.api import serializers as s
from integrations.api.authentication import ApiTokenAuthentication, ViewersReadOnly
from integrations.history import Change, Source, record_delete
from integrations.models import (
    GatewayCollection,
    Integration,
    Model,
    Repository,
    RepositoryCollection,
    SqlCollection,
)
from integrations.snapshots import ElementType
from integrations.views.common import request_id


class ApiView:
    """What every API view shares (also the project's REST_FRAMEWORK defaults, repeated here so the
    rule cannot be loosened by a settings change): token or session authentication, JSON only,
    viewers read-only."""

    authentication_classes = [ApiTokenAuthentication, authentication.SessionAuthentication]
    permission_classes = [ViewersReadOnly]
    renderer_classes = [renderers.JSONRenderer]
    parser_classes = [JSONParser]
    lookup_value_converter = "int"

    def get_success_headers(self, data) -> dict:
        """Location names the created element's own API URL (never a URL the element holds)."""
        if isinstance(data, dict) and parse_id(data.get("id")) is not None:
            return {"Location": f"{self.request.path}{data['id']}/"}
        return {}


class RecordedModelViewSet(ApiView, viewsets.ModelViewSet):
    element_type: str

    def _change(self, obj=None) -> Change:
        return Change(
            self.request.user, self.element_type, obj, source=Source.API, request_id=request_id(self.request)
        )

    def perform_create(self, serializer):
        with transaction.atomic(), self._change() as rec:
            rec.done(serializer.save())

    def perform_update(self, serializer):
        with (
            transaction.atomic(),
            self._change(type(serializer.instance).objects.get(pk=serializer.instance.pk)) as rec,
        ):
            rec.done(serializer.save())

    def refuse_delete_when_used(self, obj) -> list[str]:
        return []

    def perform_destroy(self, instance):
        users = self.refuse_delete_when_used(instance)
        if users:
            raise Conflict(f"“{instance}” is used by {', '.join(users)}; it cannot be deleted.")
        record_delete(
            self.request.user,
            self.element_type,
            instance,
            source=Source.API,
            request_id=request_id(self.request),
        )


class RepositoryViewSet(RecordedModelViewSet):
    queryset = Repository.objects.prefetch_related("collections")
    serializer_class = s.RepositorySerializer
    element_type = ElementType.REPOSITORY

    def refuse_delete_when_used(self, obj):
        return services.users_of_repository(obj)

    # As on the screen: saved settings are tested, so the state says whether they connect.
    def perform_create(self, serializer):
        super().perform_create(serializer)
        self._retest(serializer.instance)

    def perform_update(self, serializer):
        changed = set(serializer.validated_data) - {"label", "events_per_minute"}
        super().perform_update(serializer)
        if changed:
            self._retest(serializer.instance)

    def _retest(self, repository):
        if repository.enabled:
            services.test_connection(repository)

    @extend_schema(request=None, responses={200: s.ConnectionResultSerializer})
    @action(detail=True, methods=["post"], url_path="test-connection")
    def test_connection(self, request, pk=None):
        result = services.test_connection(self.get_object())
        return Response({"ok": result.ok, "code": result.code, "message": result.message})


class ModelViewSet(RecordedModelViewSet):
    queryset = Model.objects.prefetch_related("fields", "repository_collections")
    serializer_class = s.ModelSerializer
    element_type = ElementType.MODEL

    def refuse_delete_when_used(self, obj):
        return services.users_of_model(obj)


class RepositoryCollectionViewSet(RecordedModelViewSet):
    queryset = RepositoryCollection.objects.select_related("repository", "model").prefetch_related("projects")
    serializer_class = s.RepositoryCollectionSerializer
    element_type = ElementType.COLLECTION

    def refuse_delete_when_used(self, obj):
        return services.users_of_collection(obj)

    @extend_schema(
        request=None,
        responses={
            200: s.ProjectSerializer(many=True),
            502: OpenApiResponse(
                response=ERROR_SCHEMA,
                description="The repository did not answer, or refused Hub; `code` says why.",
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="refresh-projects")
    def refresh_projects(self, request, pk=None):
        from connectors.errors import ConnectorError, InvalidSettings, RepositoryDisabled

        collection = self.get_object()
        try:
            services.refresh_projects(collection)
        except (RepositoryDisabled, InvalidSettings) as error:
            # Hub's own state or configuration (a disabled repository, a URL the connector cannot
            # use), not the tool's answer: a conflict to fix in Hub, not a bad gateway.
            return Response(error_body(error.message, code=error.code), status=status.HTTP_409_CONFLICT)
        except ConnectorError as error:
            return Response(error_body(error.message, code=error.code), status=status.HTTP_502_BAD_GATEWAY)
        return Response(s.ProjectSerializer(collection.projects.all(), many=True).data)


class FieldMappingViewSet(ApiView, viewsets.ModelViewSet):
    """The mapping lines of one collection: /collections/{collection_pk}/mappings/."""

    serializer_class = s.FieldMappingSerializer

    def collection(self) -> RepositoryCollection:
        if not hasattr(self, "_collection"):
            self._collection = get_object_or_404(
                RepositoryCollection.objects.select_related("model", "repository"),
                pk=self.kwargs["collection_pk"],
            )
        return self._collection

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RepositoryCollection.objects.none()
        return self.collection().mappings.all()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False):
            context["collection"] = self.collection()
        return context

    def _recorded(self, work):
        collection = self.collection()
        with (
            transaction.atomic(),
            Change(
                self.request.user,
                ElementType.MAPPING,
                collection,
                source=Source.API,
                request_id=request_id(self.request),
            ) as rec,
        ):
            work()
            rec.done(collection)

    def perform_create(self, serializer):
        self._recorded(serializer.save)

    def perform_update(self, serializer):
        self._recorded(serializer.save)

    def perform_destroy(self, instance):
        self._recorded(instance.delete)


class GatewayCollectionViewSet(RecordedModelViewSet):
    queryset = GatewayCollection.objects.select_related("model")
    serializer_class = s.GatewayCollectionSerializer
    element_type = ElementType.GATEWAY_COLLECTION

    def create(self, request, *args, **kwargs):
        """Creates the collection and answers its token — the only time it is shown."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic(), self._change() as rec:
            collection = serializer.save()
            token = services.new_gateway_token(collection)
            collection.save()
            rec.done(collection)
        data = {**serializer.data, "token": token}
        return Response(data, status=status.HTTP_201_CREATED, headers=self.get_success_headers(data))

    @extend_schema(request=None, responses={200: s.GatewayTokenSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-token")
    def rotate_token(self, request, pk=None):
        """A new token for the collection (the screen's "New token"): the old one stops working at
        once; the new one is answered this once, only its digest is kept."""
        collection = self.get_object()
        with transaction.atomic(), self._change(GatewayCollection.objects.get(pk=collection.pk)) as rec:
            token = services.new_gateway_token(collection)
            collection.save()
            rec.done(collection)
        return Response(s.GatewayTokenSerializer({"id": collection.pk, "token": token}).data)


class SqlCollectionViewSet(RecordedModelViewSet):
    queryset = SqlCollection.objects.select_related("model")
    serializer_class = s.SqlCollectionSerializer
    element_type = ElementType.SQL_COLLECTION

    @extend_schema(request=None, responses={200: s.ConnectionResultSerializer})
    @action(detail=True, methods=["post"], url_path="test-connection")
    def test_connection(self, request, pk=None):
        """The screen's Test connection: credentials, TLS options of the URL, the table and its
        columns (CCRRTT-10009E naming each missing one), with the saved settings."""
        from connectors.errors import ConnectorError
        from integrations import eds

        collection = self.get_object()
        problem = eds.unusable(collection)
        if problem is None:
            try:
                eds.test_table(collection)
                message = f"The table {collection.table} has every column the stream writes."
                return Response({"ok": True, "code": "", "message": message})
            except ConnectorError as error:
                problem = error
        return Response({"ok": False, "code": problem.code, "message": problem.message})

    @extend_schema(
        methods=["GET"], request=None, responses={200: s.TableSerializer}  # 409: hub.api.document_errors
    )
    @extend_schema(
        methods=["POST"],
        request=s.TableConfirmationSerializer,
        responses={200: s.ConnectionResultSerializer},  # 409 and the other errors: hub.api.document_errors
    )
    @action(detail=True, methods=["get", "post"])
    def table(self, request, pk=None):
        """The screen's Create table: GET proposes the statement for the model (with its digest);
        POST with ``confirm`` set to that digest runs it. 409 when the collection cannot be used
        (no model, Hub's own database…) or the model changed since the statement was read."""
        from connectors.errors import ConnectorError
        from integrations import eds

        collection = self.get_object()
        problem = eds.unusable(collection)
        if problem is not None:
            raise Conflict(f"{problem.code}: {problem.message}")
        try:
            ddl = eds.proposed_ddl(collection)
        except ConnectorError as error:
            raise Conflict(f"{error.code}: {error.message}") from None
        if request.method == "GET":
            return Response(s.TableSerializer({"ddl": ddl, "digest": eds.ddl_digest(ddl)}).data)
        confirmation = s.TableConfirmationSerializer(data=request.data)
        confirmation.is_valid(raise_exception=True)
        if confirmation.validated_data["confirm"] != eds.ddl_digest(ddl):
            raise Conflict(
                "CCRRTT-30002E: The model changed since the statement was shown; read the new one."
            )
        try:
            eds.create_table(collection)
        except ConnectorError as error:
            return Response({"ok": False, "code": error.code, "message": error.message})
        return Response({"ok": True, "code": "", "message": f"Table {collection.table} created."})


class IntegrationViewSet(RecordedModelViewSet):
    queryset = Integration.objects.select_related(
        "collection_a", "collection_b", "container_mirroring", "gateway_collection", "sql_collection"
    ).prefetch_related("routes", "more_sources")
    serializer_class = s.IntegrationSerializer
    element_type = ElementType.INTEGRATION

    def refuse_delete_when_used(self, obj):
        return ["its running state (stop it first)"] if obj.running else []

    def perform_destroy(self, instance):
        """Its pairs and activities go with it, as on the console (``forget_integration``)."""
        from activity.services import forget_integration

        integration_id = instance.pk
        super().perform_destroy(instance)
        forget_integration(integration_id, self.request.user)

    def _state(self, integration) -> Response:
        current = services.state(integration)
        blockers = validation.problems_of_integration(integration.pk)
        return Response(
            s.StateSerializer(
                {"state": current.state, "reasons": list(current.reasons), "blockers": blockers}
            ).data
        )

    @extend_schema(request=None, responses={200: s.StateSerializer})
    @action(detail=True, methods=["get"])
    def state(self, request, pk=None):
        return self._state(self.get_object())

    @extend_schema(request=None, responses={200: s.StateSerializer})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        """Start the integration; 409 while problems block it, each listed under ``errors.blockers``."""
        integration = self.get_object()
        try:
            services.start(integration)
        except services.RunRefused as refused:
            raise Conflict(
                {
                    "detail": [refused.message],
                    "blockers": [f"{b.code}: {b.message}" for b in refused.blockers],
                }
            ) from None
        return self._state(integration)

    @extend_schema(
        request=None,
        responses={200: s.PreviewSerializer},
        parameters=[OpenApiParameter("limit", int, description="Artifacts read per side (1-500, 50).")],
    )
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """What Run would do, worked out from reads only; 409 while the integration runs."""
        from integrations.engine import preview

        integration = self.get_object()
        try:
            limit = min(500, max(1, int(request.query_params.get("limit", preview.LIMIT))))
        except ValueError:
            limit = preview.LIMIT
        try:
            result = preview.preview(integration.pk, limit=limit)
        except preview.NotPreviewable as error:
            raise Conflict(str(error)) from None
        return Response(s.PreviewSerializer(s.PreviewSerializer.of(result)).data)

    @extend_schema(request=None, responses={200: s.StateSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        integration = self.get_object()
        services.stop(integration)
        return self._state(integration)
