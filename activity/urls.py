from django.urls import path

from hub.views import section

urlpatterns = [
    path(
        "",
        section,
        {
            "title": "Activity",
            "description": "Blockers, background jobs, artifact activities and artifact pairs.",
        },
        name="activity",
    ),
]
