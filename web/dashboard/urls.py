from django.urls import path

from web.dashboard import views

urlpatterns = [
    path("api/analytics", views.analytics_api, name="analytics-api"),
    path("dashboard/", views.dashboard_page, name="dashboard"),
]
