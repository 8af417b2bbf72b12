"""The JSON API: `POST /api/products` (202 Accepted) and `GET /api/products/<id>`.

Every answer is JSON, errors included (400 per-field errors, 401, 404, 405, 413), and
carries a Server-Timing header. The write path touches SQLite only: the thumbnail job
and the search index follow from the commit through the CDC stream, not from here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import wraps

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from web.products.auth import token_required
from web.products.forms import ProductForm
from web.products.models import Product

# Fields the server owns: a client that sends them is told so instead of being ignored.
READ_ONLY = ("id", "status", "thumbnails", "failure_reason", "thumbnail_attempts",
             "created_at", "updated_at")


class PayloadError(Exception):
    def __init__(self, status: int, message: str, errors: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def elapsed_ms(request: HttpRequest) -> float:
    return round((time.perf_counter() - request.started) * 1000, 3)


def timed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Stamp the request on entry; answer with the server-side time in Server-Timing."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.started = time.perf_counter()
        response = view(request, *args, **kwargs)
        response["Server-Timing"] = f"app;dur={elapsed_ms(request)}"
        return response

    return wrapped


def allow(*methods: str) -> Callable:
    """405 JSON (with Allow) for any other method; checked before authentication."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = JsonResponse(
                    {"error": f"method {request.method} not allowed", "allow": list(methods)},
                    status=405,
                )
                response["Allow"] = ", ".join(methods)
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def read_payload(request: HttpRequest) -> tuple[dict, dict]:
    """(data, files) from a JSON, form-encoded or multipart body; PayloadError if unusable."""
    try:
        if request.content_type == "application/json":
            return _json_object(request.body), {}
        return request.POST, request.FILES
    except RequestDataTooBig as exc:
        raise PayloadError(413, f"request body too large: {exc}") from exc
    except (TooManyFieldsSent, TooManyFilesSent, MultiPartParserError) as exc:
        raise PayloadError(400, f"unreadable form body: {exc}") from exc


def _json_object(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(400, f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PayloadError(400, "expected a JSON object of product fields")
    nested = {k: ["Expected a string or a number."] for k, v in data.items()
              if isinstance(v, dict | list)}
    if nested:
        raise PayloadError(400, "invalid product", nested)
    return {k: "" if v is None else v for k, v in data.items()}


def product_json(product: Product) -> dict:
    return {
        "id": product.pk,
        "status": Product.Status(product.status).label,
        "title": product.title,
        "image_url": product.image_url,
        "description": product.description,
        "category": product.category,
        "price": None if product.price is None else str(product.price),
        "thumbnails": product.thumbnails,
        "failure_reason": product.failure_reason,
        "created_at": product.created_at.isoformat(),
        "updated_at": product.updated_at.isoformat(),
        "url": api_url(product.pk),
        "page": product.get_absolute_url(),
    }


def api_url(pk: int) -> str:
    return f"/api/products/{pk}"


def field_errors(form: ProductForm) -> dict[str, list[str]]:
    return {field: [str(m) for m in messages] for field, messages in form.errors.items()}


def create_product(request: HttpRequest) -> JsonResponse:
    """Validate, insert as processing, answer 202: the rest of the work is asynchronous."""
    try:
        data, files = read_payload(request)
        server_owned = {f: ["Set by the server; clients cannot send it."]
                        for f in READ_ONLY if f in data}
        if server_owned:
            raise PayloadError(400, "invalid product", server_owned)
    except PayloadError as exc:
        body = {"error": exc.message}
        if exc.errors:
            body["errors"] = exc.errors
        return JsonResponse(body, status=exc.status)
    form = ProductForm(data, files)
    if not form.is_valid():
        return JsonResponse({"error": "invalid product", "errors": field_errors(form)}, status=400)
    product = form.save()
    response = JsonResponse(
        {"id": product.pk, "status": Product.Status(product.status).label,
         "elapsed_ms": elapsed_ms(request), "url": api_url(product.pk)},
        status=202,
    )
    response["Location"] = api_url(product.pk)
    return response


# Token-only endpoints: no session cookie authenticates here, so there is no CSRF to check.
@csrf_exempt
@timed
@allow("POST")
@token_required
def products(request: HttpRequest) -> JsonResponse:
    return create_product(request)


@csrf_exempt
@timed
@allow("GET")
@token_required
def product(request: HttpRequest, pk: int) -> JsonResponse:
    found = Product.objects.filter(pk=pk).first()
    if found is None:
        return JsonResponse({"error": f"no product with id {pk}"}, status=404)
    return JsonResponse(product_json(found))
