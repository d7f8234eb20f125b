from django.urls import include, path

from integrations.views import (
    change_detection,
    collections,
    history,
    integrations,
    modeling,
    repositories,
    tokens,
)

urlpatterns = [
    path(
        "settings/general/change-detection/",
        change_detection.change_detection,
        name="settings-change-detection",
    ),
    path("repositories/", repositories.repository_list, name="repositories"),
    path("repositories/new/", repositories.repository_create, name="repository-create"),
    path("repositories/test/", repositories.repository_test, name="repository-test-new"),
    path("repositories/<int:pk>/", repositories.repository_edit, name="repository-edit"),
    path("repositories/<int:pk>/test/", repositories.repository_test, name="repository-test"),
    path("repositories/<int:pk>/toggle/", repositories.repository_toggle, name="repository-toggle"),
    path("repositories/<int:pk>/delete/", repositories.repository_delete, name="repository-delete"),
    path("models/", modeling.model_list, name="models"),
    path("models/new/", modeling.model_edit, name="model-create"),
    path("models/<int:pk>/", modeling.model_edit, name="model-edit"),
    path("models/<int:pk>/delete/", modeling.model_delete, name="model-delete"),
    path("collections/", collections.collection_list, name="collections"),
    path("collections/new/", collections.collection_edit, name="collection-create"),
    path("collections/new/choices/", collections.collection_choices, name="collection-choices"),
    path("collections/<int:pk>/", collections.collection_edit, name="collection-edit"),
    path("collections/<int:pk>/delete/", collections.collection_delete, name="collection-delete"),
    path("collections/<int:pk>/projects/", collections.manage_projects, name="collection-projects"),
    path(
        "collections/<int:pk>/invalid-projects/",
        collections.manage_invalid_projects,
        name="collection-invalid-projects",
    ),
    path("collections/<int:pk>/mapping/", collections.collection_mapping, name="collection-mapping"),
    path(
        "collections/<int:pk>/mapping/transforms/", collections.mapping_transforms, name="mapping-transforms"
    ),
    path("collections/<int:pk>/mapping/<int:mapping_pk>/", collections.mapping_edit, name="mapping-edit"),
    path(
        "collections/<int:pk>/mapping/<int:mapping_pk>/delete/",
        collections.mapping_delete,
        name="mapping-delete",
    ),
    path("collections/gateway/new/", collections.gateway_collection_edit, name="gateway-collection-create"),
    path(
        "collections/gateway/<int:pk>/", collections.gateway_collection_edit, name="gateway-collection-edit"
    ),
    path("collections/sql/new/", collections.sql_collection_edit, name="sql-collection-create"),
    path("collections/sql/<int:pk>/", collections.sql_collection_edit, name="sql-collection-edit"),
    path(
        "collections/<str:kind>/<int:pk>/delete/",
        collections.other_collection_delete,
        name="other-collection-delete",
    ),
    path("integrations/", integrations.integration_list, name="integrations"),
    path("integrations/new/", integrations.integration_create, name="integration-create"),
    path("integrations/<int:pk>/", integrations.integration_edit, name="integration-edit"),
    path("integrations/<int:pk>/routes/", integrations.integration_routes, name="integration-routes"),
    path("integrations/<int:pk>/filters/", integrations.integration_filters, name="integration-filters"),
    path("integrations/<int:pk>/flows/", integrations.integration_flows, name="integration-flows"),
    path("integrations/<int:pk>/run/", integrations.integration_run, name="integration-run"),
    path("integrations/<int:pk>/stop/", integrations.integration_stop, name="integration-stop"),
    path("integrations/<int:pk>/delete/", integrations.integration_delete, name="integration-delete"),
    path("history/", history.history, name="history"),
    path("history/export/", history.history_export, name="history-export"),
    path("history/import/", history.import_upload, name="history-import"),
    path("history/import/<str:name>/", history.import_review, name="history-import-review"),
    path("history/import/<str:name>/remaining/", history.import_remaining, name="history-import-remaining"),
    path("account/api-tokens/", tokens.token_list, name="api-tokens"),
    path("account/api-tokens/<int:pk>/revoke/", tokens.api_token_revoke, name="api-token-revoke"),
    path("api/v1/", include("integrations.api.urls")),
]
