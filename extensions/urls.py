from django.urls import path

from extensions.views import collections, extensions, stores

urlpatterns = [
    path("", extensions.extension_list, name="extensions"),
    path("new/", extensions.extension_edit, name="extension-new"),
    path("schema/", extensions.schema_panel, name="extension-schema"),
    path("<int:pk>/", extensions.extension_edit, name="extension-edit"),
    path("<int:pk>/copy/", extensions.extension_copy, name="extension-copy"),
    path("<int:pk>/delete/", extensions.extension_delete, name="extension-delete"),
    path("<int:pk>/bench/", extensions.test_bench, name="extension-bench"),
    path("stores/", stores.store_list, name="kv-stores"),
    path("stores/new/", stores.store_new, name="kv-store-new"),
    path("stores/<int:pk>/", stores.store_edit, name="kv-store-edit"),
    path("stores/<int:pk>/import/", stores.store_import, name="kv-store-import"),
    path("stores/<int:pk>/delete/", stores.store_delete, name="kv-store-delete"),
    path("stores/<int:pk>/pairs/<int:pair_pk>/delete/", stores.pair_delete, name="kv-pair-delete"),
    path("collections/<int:pk>/", collections.collection_extensions, name="collection-extensions"),
]
urlpatterns.append(
    path("collections/<int:pk>/graph/", collections.transition_graph, name="collection-transition-graph")
)
