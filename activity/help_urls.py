from django.urls import path

from activity import help_views

urlpatterns = [
    path("", help_views.error_index, name="help-errors"),
    path("<str:code>/", help_views.error_detail, name="help-error"),
]
