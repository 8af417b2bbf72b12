"""Token authentication for API clients: `Authorization: Token <key>`.

A request without a valid token gets 401 JSON with a WWW-Authenticate challenge, never a
redirect to a login page: API clients cannot follow one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse

from web.products.models import ApiToken

SCHEME = "Token"
HOW_TO_GET_ONE = (
    "send `Authorization: Token <key>`; create a key with "
    "`python -m web create_token <username>` or in the admin (API tokens)"
)


def token_key(request: HttpRequest) -> str | None:
    """The key of an `Authorization: Token <key>` header, '' if malformed, None if absent."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, key = header.strip().partition(" ")
    if scheme.lower() != SCHEME.lower():
        return ""
    return key.strip()


def has_token_header(request: HttpRequest) -> bool:
    """True for `Authorization: Token ...` (valid or not); other schemes are not ours."""
    scheme = request.headers.get("Authorization", "").strip().partition(" ")[0]
    return scheme.lower() == SCHEME.lower()


def authenticate(request: HttpRequest) -> ApiToken | None:
    key = token_key(request)
    if not key:
        return None
    return ApiToken.objects.select_related("user").filter(key=key, user__is_active=True).first()


def unauthorized(request: HttpRequest) -> JsonResponse:
    key = token_key(request)
    if key is None:
        problem = "authentication required"
    elif key == "":
        problem = "malformed Authorization header"
    else:
        problem = "invalid or revoked token"
    response = JsonResponse({"error": problem, "detail": HOW_TO_GET_ONE}, status=401)
    response["WWW-Authenticate"] = f'{SCHEME} realm="api"'
    return response


def token_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run `view` with request.user set to the token's owner, or answer 401."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        token = authenticate(request)
        if token is None:
            return unauthorized(request)
        request.user = token.user
        request.api_token = token
        return view(request, *args, **kwargs)

    return wrapped
