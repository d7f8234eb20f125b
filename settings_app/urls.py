from django.urls import path

from settings_app import views

urlpatterns = [
    path("", views.settings_index, name="settings"),
    path("troubleshooting/", views.troubleshooting, name="settings-troubleshooting"),
]
