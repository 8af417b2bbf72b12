"""The product pages: the list with its add form, and one product's detail page.

POST /products/ serves two kinds of client. A browser posts the form (CSRF-checked,
session as usual). A script that sends `Authorization: Token <key>` is answered like
POST /api/products (202 JSON); one that sends neither is told what it needs.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from web.products import api
from web.products.auth import HOW_TO_GET_ONE, has_token_header
from web.products.forms import ProductForm
from web.products.models import Product

PAGE_SIZE = 25


class _ExplainedCsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, answering a failure with what a script should do instead."""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        message = (
            f"403 Forbidden: CSRF check failed ({reason}).\n"
            "POST /products/ is the HTML form: load /products/ in a browser and submit it,\n"
            f"or, from a script, {HOW_TO_GET_ONE}.\n"
            "With a token this URL answers like POST /api/products (202 JSON).\n"
        )
        return HttpResponse(message, status=403, content_type="text/plain; charset=utf-8")


def _csrf_rejection(request: HttpRequest) -> HttpResponse | None:
    # callback=None: the check must not see product_list's own csrf_exempt mark.
    return _ExplainedCsrfCheck(lambda r: HttpResponse()).process_view(request, None, (), {})


# csrf_exempt only so token clients get through; everyone else is checked just below.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def product_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and has_token_header(request):
        return api.products(request)
    if request.method == "POST":
        rejected = _csrf_rejection(request)
        if rejected is not None:
            return rejected
        form = ProductForm(request.POST, request.FILES)
        if form.is_valid():
            product = form.save()
            messages.success(request, f"Added “{product.title}”: processing its image.")
            # 303: the browser follows with a GET, so a reload does not post twice.
            return HttpResponseRedirect(f"/products/?added={product.pk}", status=303)
        return _render_list(request, form, status=400)
    return _render_list(request, ProductForm())


def _render_list(request: HttpRequest, form: ProductForm, status: int = 200) -> HttpResponse:
    page = Paginator(Product.objects.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"form": form, "page": page, "added": request.GET.get("added", "")}
    return render(request, "products/list.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    thumbnails = sorted(
        ((int(size), url) for size, url in (product.thumbnails or {}).items() if size.isdigit()),
    )
    return render(
        request, "products/detail.html", {"product": product, "thumbnails": thumbnails}
    )
