"""Insert/update/delete through the Django ORM → triggers → tailer process → indexer
process → the document appears, changes, and disappears from the read alias."""

from __future__ import annotations

import pytest

from indexer.index import read_index
from tests.indexer_support import stored, visible_ids
from tests.waiting import wait_until
from web.products.models import Product

pytest_plugins = ["tests.cdc_fixtures"]  # clean_changelog
pytestmark = pytest.mark.usefixtures("clean_changelog")


def _searchable_title(es, names, pk: str) -> str | None:
    if read_index(es, names) is None or pk not in visible_ids(es, names):
        return None
    return stored(es, names, pk)["title"]


def test_orm_insert_update_delete_flow_through_tailer_and_indexer_to_the_alias(
    names, es, daemons
):
    tailer = daemons.catalog("cdc", "run")
    indexer = daemons.catalog("indexer", "run")
    logs = lambda: tailer.output()[-2000:] + indexer.output()[-2000:]  # noqa: E731

    p = Product.objects.create(title="Blue Kettle", image_url="http://127.0.0.1/k.png",
                               status=Product.Status.ACTIVE, price="19.90")
    pk = str(p.pk)
    wait_until(lambda: _searchable_title(es, names, pk) == "Blue Kettle", timeout=30,
               message=f"insert searchable\n{logs()}")
    assert stored(es, names, pk)["price"] == 19.9

    p.title = "Red Kettle"
    p.save()
    wait_until(lambda: _searchable_title(es, names, pk) == "Red Kettle", timeout=30,
               message=f"update searchable\n{logs()}")

    Product.objects.filter(pk=p.pk).delete()
    wait_until(lambda: pk not in visible_ids(es, names), timeout=30,
               message=f"delete hidden\n{logs()}")
    assert stored(es, names, pk)["deleted"] is True
