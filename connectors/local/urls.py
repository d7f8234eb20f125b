from django.urls import path

from connectors.local import views

app_name = "local_tracker"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:tracker>/projects/new/", views.project_new, name="project-new"),
    path("<slug:tracker>/<str:key>/", views.project_items, name="project"),
    path("<slug:tracker>/<str:key>/new/", views.item_new, name="item-new"),
    path("<slug:tracker>/items/<int:pk>/", views.item_detail, name="item"),
    path("<slug:tracker>/items/<int:pk>/edit/", views.item_edit, name="item-edit"),
    path("<slug:tracker>/items/<int:pk>/transition/", views.item_transition, name="item-transition"),
    path("<slug:tracker>/items/<int:pk>/comments/", views.item_comment, name="item-comment"),
    path("<slug:tracker>/items/<int:pk>/time/", views.item_time_entry, name="item-time-entry"),
    path(
        "<slug:tracker>/items/<int:pk>/time/<int:entry_pk>/",
        views.item_time_entry_duration,
        name="item-time-entry-duration",
    ),
    path("<slug:tracker>/items/<int:pk>/steps/", views.item_test_steps, name="item-test-steps"),
]
