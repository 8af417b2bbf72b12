"""Top-level URLs: each app brings its own urls.py."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.static import serve

urlpatterns = [
    path("", RedirectView.as_view(url="/products/", permanent=False)),
    path("admin/", admin.site.urls),
    path("", include("web.products.urls")),
    path("", include("web.search.urls")),
    path("", include("web.dashboard.urls")),
    # Uploaded images and thumbnails; a production deployment serves MEDIA from its proxy.
    path(
        f"{settings.MEDIA_URL.strip('/')}/<path:path>",
        serve,
        {"document_root": settings.MEDIA_ROOT},
    ),
]
