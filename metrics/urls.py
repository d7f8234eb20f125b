from django.urls import path

from metrics import views

urlpatterns = [
    path("", views.metrics_page, name="metrics"),
    path("customer-usage-report/", views.customer_usage_report, name="customer-usage-report"),
]
