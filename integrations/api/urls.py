"""/api/v1/: DRF routes, each marked ``login_not_required`` so the console's sign-in middleware
leaves authentication (token or session) and its 401/403 JSON answers to the API."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from activity import api as ledger
from integrations.api import root, views

router = SimpleRouter(use_regex_path=False)
router.register("repositories", views.RepositoryViewSet, basename="api-repository")
router.register("models", views.ModelViewSet, basename="api-model")
router.register("collections", views.RepositoryCollectionViewSet, basename="api-collection")
router.register("collections/<int:collection_pk>/mappings", views.FieldMappingViewSet, basename="api-mapping")
router.register("gateway-collections", views.GatewayCollectionViewSet, basename="api-gateway-collection")
router.register("sql-collections", views.SqlCollectionViewSet, basename="api-sql-collection")
router.register("integrations", views.IntegrationViewSet, basename="api-integration")
# The ledger (activity.api): read-only lists with the Activity screen's filters, and its actions.
router.register("activities", ledger.ActivityViewSet, basename="api-activity")
router.register("pairs", ledger.PairViewSet, basename="api-pair")
router.register("blockers", ledger.BlockerViewSet, basename="api-blocker")
router.register("jobs", ledger.JobViewSet, basename="api-job")


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, JSON unless ``?format=yaml``; refusals are JSON too."""

    renderer_classes = [OpenApiJsonRenderer, OpenApiYamlRenderer]
    authentication_classes = views.ApiView.authentication_classes
    permission_classes = views.ApiView.permission_classes


def _public(pattern):
    pattern.callback = login_not_required(pattern.callback)
    return pattern


urlpatterns = [_public(p) for p in router.urls] + [
    path("", login_not_required(root.ApiRoot.as_view()), name="api-root"),
    path("schema/", login_not_required(SchemaView.as_view()), name="api-schema"),
    # A console page (session sign-in), the OpenAPI document rendered.
    path("docs/", root.api_docs, name="api-docs"),
]
