from django.apps import AppConfig


class ThumbnailsConfig(AppConfig):
    name = "web.thumbnails"
    label = "thumbnails"
