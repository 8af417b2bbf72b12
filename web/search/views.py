"""Autocomplete and search: JSON APIs and the server-rendered search page."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from web.search import client, queries
from web.search.forms import AutocompleteForm, SearchForm, error_message
from web.search.unavailable import json_when_down, page_when_down


def bad_request(form) -> JsonResponse:
    return JsonResponse(
        {"error": error_message(form), "fields": {k: [str(e) for e in v] for k, v in
                                                  form.errors.items()}},
        status=400,
    )


@require_GET
@json_when_down
def autocomplete_api(request: HttpRequest) -> JsonResponse:
    form = AutocompleteForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    prefix = form.cleaned_data["q"]
    if not prefix:
        return JsonResponse({"query": "", "suggestions": []})
    response = client.search(**queries.autocomplete_body(prefix))
    return JsonResponse({"query": prefix, "suggestions": queries.suggestions(response)})


@require_GET
@json_when_down
def search_api(request: HttpRequest) -> JsonResponse:
    form = SearchForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    return JsonResponse(run_search(form.params()))


@require_GET
@page_when_down
def search_page(request: HttpRequest):
    form = SearchForm(request.GET)
    if not form.is_valid():
        context = {"form": form, "error": error_message(form)}
        return render(request, "search/search.html", context, status=400)
    params = form.params()
    result = add_links(request, run_search(params))
    context = {"form": form, "params": params, "result": result,
               "sort_choices": SORT_LABELS.items()}
    return render(request, "search/search.html", context)


SORT_LABELS = {
    "relevance": "Best match", "newest": "Newest", "oldest": "Oldest",
    "price_asc": "Price, low to high", "price_desc": "Price, high to low", "title": "Title A to Z",
}


def run_search(params: queries.SearchParams) -> dict:
    return queries.search_results(params, client.search(**queries.search_body(params)))


def add_links(request: HttpRequest, result: dict) -> dict:
    """Give each facet value and page the href that selects it (a chosen value's href
    clears it), keeping the other parameters; a new filter starts from page one."""

    def href(page: int | None = None, **changes: str) -> str:
        query = request.GET.copy()
        for key, value in changes.items():
            if value:
                query[key] = value
            else:
                query.pop(key, None)
        query.pop("page", None)
        if page and page > 1:
            query["page"] = str(page)
        return "?" + query.urlencode()

    facets = result["facets"]
    for name in ("category", "status"):
        for b in facets[name]:
            b["href"] = href(**{name: "" if b["selected"] else b["value"]})
    for b in facets["price"]:
        chosen = {"min_price": "", "max_price": ""} if b["selected"] else {
            "min_price": b["min_price"], "max_price": b["max_price"]}
        b["href"] = href(**chosen)
    page, pages = result["page"], result["pages"]
    result["prev_href"] = href(page=page - 1) if page > 1 else ""
    result["next_href"] = href(page=page + 1) if page < pages else ""
    result["clear_href"] = href(category="", status="", min_price="", max_price="")
    return result
