"""Validation of search and autocomplete parameters: anything odd is a 400 with a message."""

from __future__ import annotations

from django import forms

from web.search.queries import MAX_WINDOW, PAGE_SIZE, SORTS, STATUS_BY_NAME, SearchParams

MAX_QUERY_CHARS = 200
MAX_PRICE = 10**8  # the model's DecimalField(max_digits=10, decimal_places=2)


class AutocompleteForm(forms.Form):
    q = forms.CharField(required=False, max_length=MAX_QUERY_CHARS, strip=True)


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=MAX_QUERY_CHARS, strip=True)
    category = forms.CharField(required=False, max_length=64, strip=True)
    status = forms.ChoiceField(
        required=False, choices=[("", "any")] + [(name, name) for name in STATUS_BY_NAME]
    )
    min_price = forms.DecimalField(
        required=False, min_value=0, max_value=MAX_PRICE, max_digits=12, decimal_places=2
    )
    max_price = forms.DecimalField(
        required=False, min_value=0, max_value=MAX_PRICE, max_digits=12, decimal_places=2
    )
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in SORTS])
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_WINDOW // PAGE_SIZE)

    def clean(self):
        data = super().clean()
        lo, hi = data.get("min_price"), data.get("max_price")
        if lo is not None and hi is not None and lo > hi:
            raise forms.ValidationError("min_price must not be greater than max_price.")
        return data

    def params(self) -> SearchParams:
        d = self.cleaned_data
        return SearchParams(
            q=d.get("q") or "",
            category=d.get("category") or "",
            status=d.get("status") or "",
            min_price=d.get("min_price"),
            max_price=d.get("max_price"),
            sort=d.get("sort") or "relevance",
            page=d.get("page") or 1,
        )


def error_message(form: forms.Form) -> str:
    """One sentence naming each bad parameter, e.g. "sort: Select a valid choice..."."""
    parts = []
    for name, errors in form.errors.items():
        label = "parameters" if name == "__all__" else name
        parts.append(f"{label}: {' '.join(str(e) for e in errors)}")
    return "Invalid search parameters. " + "; ".join(parts)
