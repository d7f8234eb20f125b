from django.urls import path

from activity import pair_views, views

urlpatterns = [
    path("", views.index, name="activity"),
    path("banner/", views.banner, name="activity-banner"),
    path("auto-retry/", views.auto_retry, name="activity-auto-retry"),
    path("pairs/export/", pair_views.export_pairs, name="activity-pairs-export"),
    path("pairs/import/", pair_views.import_pairs, name="activity-pairs-import"),
    path("pairs/<int:pk>/", pair_views.pair_details, name="activity-pair"),
    path("jobs/<int:pk>/download/", pair_views.export_download, name="activity-export-download"),
    path("<str:list_key>/", views.listing, name="activity-list"),
    path("<str:list_key>/download/", views.download, name="activity-download"),
    path("<str:list_key>/action/<str:action>/", views.act, name="activity-action"),
    path("<str:list_key>/<str:tab>/", views.listing, name="activity-list"),
    path("<str:list_key>/<str:tab>/download/", views.download, name="activity-download"),
    path("<str:list_key>/<str:tab>/action/<str:action>/", views.act, name="activity-action"),
]
