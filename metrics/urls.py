from django.urls import path

from hub.views import section

urlpatterns = [
    path(
        "",
        section,
        {
            "title": "Metrics",
            "description": "Artifacts created and updated, and people seen, per integration and repository.",
        },
        name="metrics",
    ),
]
