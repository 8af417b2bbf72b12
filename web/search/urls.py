from django.urls import path

from web.search import views

urlpatterns = [
    path("api/autocomplete", views.autocomplete_api, name="autocomplete-api"),
    path("api/search", views.search_api, name="search-api"),
    path("search/", views.search_page, name="search"),
]
