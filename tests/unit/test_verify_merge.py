"""The merge-join of verify on plain iterators: pure logic, no services."""

from __future__ import annotations

from indexer.documents import comparable, to_document
from indexer.verify import VerifyReport, compare, merge


def _row(pk: int, title: str = "Oak Lamp") -> dict:
    return {"id": pk, "title": title, "image_url": "/media/seed/a.jpg", "status": 1,
            "price": "12.50", "created_at": "2026-11-28 07:00:00.000000"}


def _doc(pk: int, title: str = "Oak Lamp") -> tuple[int, dict]:
    return pk, to_document(_row(pk, title))


def _merge(rows, docs):
    report = VerifyReport(index="i", head=0)
    return [(d.kind, d.id) for d in merge(iter(rows), iter(docs), report)], report


def test_merge_reports_missing_extra_and_stale_in_id_order():
    rows = [_row(1), _row(2), _row(4, "New Title"), _row(6)]
    docs = [_doc(2), _doc(3), _doc(4), _doc(6), _doc(9)]

    found, report = _merge(rows, docs)

    assert found == [("missing", "1"), ("extra", "3"), ("stale", "4"), ("extra", "9")]
    assert report.rows == 4


def test_identical_sides_have_no_difference():
    found, _ = _merge([_row(i) for i in range(1, 50)], [_doc(i) for i in range(1, 50)])
    assert found == []


def test_stale_difference_names_each_differing_field():
    d = compare("4", _row(4, "Walnut Lamp"), comparable(to_document(_row(4))))
    assert d.kind == "stale"
    assert d.fields == {"title": ("Walnut Lamp", "Oak Lamp")}
