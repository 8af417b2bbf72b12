"""Pages under /products/, JSON under /api/products (with or without a trailing slash)."""

from django.urls import path, re_path

from web.products import api, views

app_name = "products"

urlpatterns = [
    path("products/", views.product_list, name="list"),
    path("products/<int:pk>/", views.product_detail, name="detail"),
    re_path(r"^api/products/?$", api.products, name="api-list"),
    re_path(r"^api/products/(?P<pk>[0-9]+)/?$", api.product, name="api-detail"),
]
