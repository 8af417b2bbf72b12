"""Request bodies for autocomplete and search, and the shaping of their answers.

Pure functions of validated parameters, so they are unit-testable without a server.
Only what the server core supports: the completion suggester with a status context,
text with index_prefixes, keyword terms, ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape
from typing import Any

from indexer.documents import STATUS_NAMES, SUGGEST_CONTEXT

ACTIVE_CONTEXT = "1"  # indexer.documents writes the status context as a string
SUGGESTIONS = 10
# Each suggester returns a product once (its best input), but the exact and fuzzy lists
# overlap: merged and deduplicated by id they still fill SUGGESTIONS. Every candidate
# costs a _source fetch, the bulk of a suggest request's time, so ask for few.
SUGGEST_CANDIDATES = 12
PAGE_SIZE = 20
CENT = Decimal("0.01")
MAX_WINDOW = 10_000  # index.max_result_window: from + size beyond it is refused
CATEGORY_FACETS = 20
PRICE_RANGES: tuple[tuple[str, float | None, float | None], ...] = (
    ("under 10", None, 10),
    ("10 to 50", 10, 50),
    ("50 to 100", 50, 100),
    ("100 to 500", 100, 500),
    ("500 and over", 500, None),
)
SORTS: dict[str, list[Any]] = {
    "relevance": ["_score", {"created_at": "desc"}, {"id": "desc"}],
    "newest": [{"created_at": "desc"}, {"id": "desc"}],
    "oldest": [{"created_at": "asc"}, {"id": "asc"}],
    "price_asc": [{"price": {"order": "asc", "missing": "_last"}}, {"id": "asc"}],
    "price_desc": [{"price": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
    "title": [{"title.keyword": "asc"}, {"id": "asc"}],
}
STATUS_BY_NAME = {name: code for code, name in STATUS_NAMES.items()}
SOURCE_FIELDS = ["title", "description", "category", "price", "status_name", "thumbnails",
                 "image_url", "created_at"]


def autocomplete_body(prefix: str) -> dict[str, Any]:
    """One request, three lists merged best first: titles starting with the prefix
    (completion), titles starting with it give or take a typo (fuzzy completion; it scores
    an exact prefix no higher than a one-edit match, so the exact list goes first), then
    titles with a later word matching it (a prefix query served by index_prefixes, or a
    typo'd whole word), active products only."""
    return {
        "size": SUGGESTIONS,
        "_source": ["title", "thumbnails"],
        "query": {"bool": {
            "filter": [{"term": {"status": int(ACTIVE_CONTEXT)}}],
            "should": [
                {"match_bool_prefix": {"title": {"query": prefix, "operator": "and"}}},
                # Few expansions: on a keystroke a typo'd word needs its near spellings only.
                {"match": {"title": {"query": prefix, "operator": "and", "fuzziness": "AUTO",
                                     "prefix_length": 1, "max_expansions": 10}}},
            ],
            "minimum_should_match": 1,
        }},
        "suggest": {
            "exact": {"prefix": prefix, "completion": _completion()},
            "fuzzy": {"prefix": prefix, "completion": _completion(fuzzy={"fuzziness": "AUTO"})},
        },
    }


def _completion(**extra: Any) -> dict[str, Any]:
    return {
        "field": "suggest",
        "size": SUGGEST_CANDIDATES,
        "contexts": {SUGGEST_CONTEXT: [ACTIVE_CONTEXT]},
        **extra,
    }


def suggestions(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Best first (exact, fuzzy, then later-word matches), one per product, at most
    SUGGESTIONS."""
    suggest = response.get("suggest", {})
    candidates = [
        option
        for name in ("exact", "fuzzy")
        for entry in suggest.get(name, [])
        for option in entry.get("options", [])
    ]
    candidates += response.get("hits", {}).get("hits", [])
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for option in candidates:
        pid = option["_id"]
        if pid in seen:
            continue
        seen.add(pid)
        source = option.get("_source", {})
        out.append({
            "id": _int_id(pid),
            "title": source.get("title", option.get("text", "")),
            "thumbnail": smallest_thumbnail(source.get("thumbnails")),
            "url": f"/products/{pid}/",
        })
        if len(out) == SUGGESTIONS:
            break
    return out


def smallest_thumbnail(thumbnails: dict[str, str] | None) -> str | None:
    if not thumbnails:
        return None
    widths = sorted(thumbnails, key=lambda w: int(w) if str(w).isdigit() else 1 << 30)
    return thumbnails[widths[0]]


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    category: str = ""
    status: str = ""
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    sort: str = "relevance"
    page: int = 1

    @property
    def filters(self) -> dict[str, dict[str, Any]]:
        """The chosen filters by facet name, as Elasticsearch clauses."""
        out: dict[str, dict[str, Any]] = {}
        if self.category:
            out["category"] = {"term": {"category": self.category}}
        if self.status:
            out["status"] = {"term": {"status": STATUS_BY_NAME[self.status]}}
        if self.min_price is not None or self.max_price is not None:
            bounds: dict[str, float] = {}
            if self.min_price is not None:
                bounds["gte"] = float(self.min_price)
            if self.max_price is not None:
                bounds["lte"] = float(self.max_price)
            out["price"] = {"range": {"price": bounds}}
        return out


def text_query(q: str) -> dict[str, Any]:
    """Relevance: whole words in the title first, then the title as you type (the last
    word as a prefix, served by index_prefixes), then typos, then the description."""
    if not q.strip():
        return {"match_all": {}}
    return {
        "bool": {
            "should": [
                {"match_phrase": {"title": {"query": q, "boost": 6}}},
                {"match": {"title": {"query": q, "operator": "and", "boost": 4}}},
                {"match_bool_prefix": {"title": {"query": q, "boost": 2}}},
                {"match": {"title": {"query": q, "fuzziness": "AUTO", "prefix_length": 1}}},
                {"match": {"description": {"query": q, "boost": 0.5}}},
            ],
            "minimum_should_match": 1,
        }
    }


def search_body(params: SearchParams) -> dict[str, Any]:
    """Query, then filters as a post_filter so each facet counts what choosing one of its
    values would give (every other filter applied, its own not)."""
    filters = params.filters
    return {
        "query": text_query(params.q),
        "post_filter": _all_of(filters.values()),
        "aggs": {
            "matching": {"filter": {"match_all": {}}},
            "category": _facet(filters, "category", {
                "terms": {"field": "category", "size": CATEGORY_FACETS, "exclude": [""]}
            }),
            "status": _facet(filters, "status", {"terms": {"field": "status_name", "size": 3}}),
            "price": _facet(filters, "price", {"range": {"field": "price", "ranges": [
                _range(label, lo, hi) for label, lo, hi in PRICE_RANGES
            ]}}),
        },
        "highlight": {
            "encoder": "html",
            "pre_tags": ["<mark>"],
            "post_tags": ["</mark>"],
            "fields": {
                "title": {"number_of_fragments": 0},
                "description": {"fragment_size": 160, "number_of_fragments": 1},
            },
        },
        "sort": SORTS[params.sort],
        "from": (params.page - 1) * PAGE_SIZE,
        "size": PAGE_SIZE,
        "track_total_hits": True,
        "_source": SOURCE_FIELDS,
    }


def _all_of(clauses) -> dict[str, Any]:
    clauses = list(clauses)
    return {"bool": {"filter": clauses}} if clauses else {"match_all": {}}


def _facet(filters: dict[str, dict], name: str, agg: dict[str, Any]) -> dict[str, Any]:
    others = [clause for key, clause in filters.items() if key != name]
    return {"filter": _all_of(others), "aggs": {"values": agg}}


def _range(label: str, lo: float | None, hi: float | None) -> dict[str, Any]:
    r: dict[str, Any] = {"key": label}
    if lo is not None:
        r["from"] = lo
    if hi is not None:
        r["to"] = hi
    return r


def search_results(params: SearchParams, response: dict[str, Any]) -> dict[str, Any]:
    hits = response.get("hits", {})
    total = hits.get("total", {}).get("value", 0)
    aggs = response.get("aggregations", {})
    results = [_result(hit) for hit in hits.get("hits", [])]
    pages = max(1, -(-min(total, MAX_WINDOW) // PAGE_SIZE))
    return {
        "query": params.q,
        "total": total,
        "page": params.page,
        "pages": pages,
        "page_size": PAGE_SIZE,
        "sort": params.sort,
        "results": results,
        "facets": {
            "category": _buckets(aggs, "category", params.category),
            "status": _buckets(aggs, "status", params.status),
            "price": _price_buckets(aggs, params),
        },
        "empty_reason": None if results else empty_reason(params, total, aggs),
    }


def _result(hit: dict[str, Any]) -> dict[str, Any]:
    source = hit.get("_source", {})
    highlight = hit.get("highlight", {})
    title = source.get("title", "")
    return {
        "id": _int_id(hit["_id"]),
        "url": f"/products/{hit['_id']}/",
        "title": title,
        "title_html": highlight.get("title", [str(escape(title))])[0],
        "snippet_html": highlight.get("description", [""])[0],
        "category": source.get("category", ""),
        "price": source.get("price"),
        "status": source.get("status_name", ""),
        "thumbnail": smallest_thumbnail(source.get("thumbnails")),
        "created_at": source.get("created_at"),
    }


def _buckets(aggs: dict[str, Any], name: str, chosen: str) -> list[dict[str, Any]]:
    buckets = aggs.get(name, {}).get("values", {}).get("buckets", [])
    return [
        {"value": b["key"], "count": b["doc_count"], "selected": b["key"] == chosen}
        for b in buckets
    ]


def _price_buckets(aggs: dict[str, Any], params: SearchParams) -> list[dict[str, Any]]:
    """Each range with the min_price/max_price that select exactly it: the range
    aggregation excludes its upper bound and prices have cents, so max is hi - 0.01."""
    buckets = {b["key"]: b for b in aggs.get("price", {}).get("values", {}).get("buckets", [])}
    out = []
    for label, lo, hi in PRICE_RANGES:
        lo_d = Decimal(str(lo)) if lo is not None else None
        hi_d = Decimal(str(hi)) - CENT if hi is not None else None
        out.append({
            "value": label,
            "min_price": str(lo_d) if lo_d is not None else "",
            "max_price": str(hi_d) if hi_d is not None else "",
            "count": buckets.get(label, {}).get("doc_count", 0),
            "selected": params.min_price == lo_d and params.max_price == hi_d,
        })
    return out


def empty_reason(params: SearchParams, total: int, aggs: dict[str, Any]) -> str:
    """Why nothing matched, in words a shopper can act on."""
    matching = aggs.get("matching", {}).get("doc_count", 0)
    if total and params.page > 1:
        return f"There are only {total} results; page {params.page} is past the last one."
    if matching and params.filters:
        words = describe_filters(params)
        what = f"match “{params.q}”" if params.q else "are in the catalogue"
        return (f"{matching} product{'s' if matching != 1 else ''} {what}, but none {words}. "
                "Remove a filter to see them.")
    if params.q:
        return (f"No product title or description matches “{params.q}”. "
                "Check the spelling or try fewer or shorter words.")
    return "The catalogue is empty: no products have been indexed yet."


def describe_filters(params: SearchParams) -> str:
    parts = []
    if params.category:
        parts.append(f"in category “{params.category}”")
    if params.status:
        parts.append(f"with status {params.status}")
    if params.min_price is not None and params.max_price is not None:
        parts.append(f"priced {params.min_price} to {params.max_price}")
    elif params.min_price is not None:
        parts.append(f"priced {params.min_price} or more")
    elif params.max_price is not None:
        parts.append(f"priced up to {params.max_price}")
    return " and ".join(parts)


def _int_id(pid: str) -> int | str:
    return int(pid) if pid.isdigit() else pid
