"""Top-level URLs: each app brings its own urls.py."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.static import serve


def media(request, path: str):
    # MEDIA_ROOT is read per request (not bound at import) so it follows the settings in force.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    path("", RedirectView.as_view(url="/products/", permanent=False)),
    path("admin/", admin.site.urls),
    path("", include("web.products.urls")),
    path("", include("web.search.urls")),
    path("", include("web.dashboard.urls")),
    # Uploaded images and thumbnails; a production deployment serves MEDIA from its proxy.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", media),
]
