from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from hub import security_views, support_views, views
from hub.roles import any_signed_in_user_may_post
from settings_app import storage_views

admin.site.site_header = "Hub user administration"
admin.site.site_title = "Hub"

# JSON errors under /api/, the console's pages elsewhere (hub.api).
handler404 = "hub.api.not_found"
handler500 = "hub.api.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("setup/", views.first_run, name="first-run"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", any_signed_in_user_may_post(auth_views.LogoutView.as_view()), name="logout"),
    path("api/health", views.api_health, name="api-health"),
    path("metrics", views.prometheus_metrics, name="prometheus-metrics"),
    path("database-in-use/connect/", storage_views.connect_elsewhere, name="connect-different-database"),
    path(
        "database-in-use/override/",
        security_views.override_database_access,
        name="override-database-access",
    ),
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
    path("activity/", include("activity.urls")),
    path("metrics/", include("metrics.urls")),
    path("settings/", include("settings_app.urls")),
    path("settings/extensions/", include("extensions.urls")),
    path("local-tracker/", include("connectors.local.urls")),
    path("help/", support_views.help_index, name="help"),
    path("help/support-report/", support_views.download_support_report, name="support-report"),
    path("help/errors/", include("activity.help_urls")),
]
