from django.urls import path

from hub.views import section

urlpatterns = [
    path(
        "",
        section,
        {"title": "Extensions", "description": "JavaScript extensions and key-value stores."},
        name="extensions",
    ),
]
