from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "web.search"
    label = "search"
