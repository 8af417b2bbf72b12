"""The row → document mapping's shortcuts give exactly what the general path gives."""

from __future__ import annotations

import random
from decimal import Decimal

from indexer.documents import activation_seconds, normalize_price, normalize_thumbnails


def _quantized(value) -> float | None:
    try:
        return float(Decimal(str(value)).quantize(Decimal("0.01")))
    except ArithmeticError:
        return None


def test_prices_match_decimal_rounding_to_the_cent():
    rng = random.Random(6)
    values = ([rng.randrange(10**9) / 100 for _ in range(20_000)]
              + [rng.uniform(-1e7, 1e7) for _ in range(20_000)]
              + [0.0, -0.0, 0.005, 0.015, 2.675, 1e20, 1e-9, float("inf"), float("-inf")])
    for value in values:
        assert normalize_price(value) == _quantized(value), value
    assert normalize_price("12.345") == 12.34 and normalize_price(None) is None


def test_activation_is_zero_when_created_and_updated_agree_and_measured_otherwise():
    stamp = "2026-11-28 07:33:00.123456"
    assert activation_seconds(1, stamp, stamp) == 0.0
    assert activation_seconds(1, stamp, "2026-11-28 07:33:02.623456") == 2.5
    assert activation_seconds(2, stamp, "2026-11-28 07:33:02.623456") is None


def test_thumbnails_from_json_text_or_a_dict():
    assert normalize_thumbnails("{}") == {}
    assert normalize_thumbnails('{"64": "a.webp"}') == {"64": "a.webp"}
    assert normalize_thumbnails({256: 1}) == {"256": "1"}
    assert normalize_thumbnails("not json") == {} and normalize_thumbnails(None) == {}
