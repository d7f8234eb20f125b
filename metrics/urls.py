from django.urls import path

from metrics import views

urlpatterns = [
    path("", views.metrics_page, name="metrics"),
    path("customer-usage-report/", views.customer_usage_report, name="customer-usage-report"),
    path("user-count/", views.user_count_page, name="user-count"),
    path("user-count/report/", views.user_count_report, name="user-count-report"),
    path("user-count/configuration/", views.user_count_configuration, name="user-count-configuration"),
]
