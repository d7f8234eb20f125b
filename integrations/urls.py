from django.urls import path

from hub.views import section

urlpatterns = [
    path(
        "repositories/",
        section,
        {"title": "Repositories", "description": "Connections to the tools Hub synchronizes."},
        name="repositories",
    ),
    path(
        "collections/",
        section,
        {
            "title": "Collections",
            "description": "Projects and artifact types that integrations read from and write to.",
        },
        name="collections",
    ),
    path(
        "models/",
        section,
        {"title": "Models", "description": "Tool-neutral shapes of artifacts."},
        name="models",
    ),
    path(
        "integrations/",
        section,
        {"title": "Integrations", "description": "Running configurations that keep collections in step."},
        name="integrations",
    ),
    path(
        "history/",
        section,
        {
            "title": "Configuration history",
            "description": "Every change to the configuration, who made it and when.",
        },
        name="history",
    ),
]
