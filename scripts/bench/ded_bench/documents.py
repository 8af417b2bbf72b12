"""The products document declared the django-elasticsearch-dsl way, with the same mapping
and the same field values as indexer/documents.py produces (prepare_* per field)."""

from __future__ import annotations

import os

from django_elasticsearch_dsl import Document, fields
from django_elasticsearch_dsl.registries import registry
from elasticsearch.dsl import MetaField

from indexer import documents
from web.products.models import Product


@registry.register_document
class ProductDocument(Document):
    deleted = fields.BooleanField()
    id = fields.LongField()
    seq = fields.LongField()
    title = fields.TextField(
        index_prefixes={"min_chars": 1, "max_chars": 10},
        fields={"keyword": fields.KeywordField(ignore_above=256)},
    )
    description = fields.TextField()
    category = fields.KeywordField()
    price = fields.DoubleField()
    status = fields.ByteField()
    status_name = fields.KeywordField()
    image_url = fields.KeywordField(index=False)
    thumbnails = fields.ObjectField(enabled=False)
    failure_reason = fields.KeywordField(index=False)
    created_at = fields.DateField()
    updated_at = fields.DateField()
    activation_seconds = fields.DoubleField()
    suggest = fields.CompletionField(
        contexts=[{"name": documents.SUGGEST_CONTEXT, "type": "category"}]
    )

    class Index:
        name = os.environ.get("BENCH_DED_INDEX", "bench-ded-products")
        settings = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"}

    class Meta:
        dynamic = MetaField("strict")

    class Django:
        model = Product
        queryset_pagination = 2000  # same chunk size as `catalog backfill`

    def prepare_deleted(self, instance):
        return False

    def prepare_seq(self, instance):
        return None

    def prepare_price(self, instance):
        return documents.normalize_price(instance.price)

    def prepare_status_name(self, instance):
        return documents.STATUS_NAMES.get(instance.status, "unknown")

    def prepare_thumbnails(self, instance):
        return documents.normalize_thumbnails(instance.thumbnails)

    def prepare_activation_seconds(self, instance):
        return documents.activation_seconds(
            instance.status, instance.created_at, instance.updated_at
        )

    def prepare_suggest(self, instance):
        return {"input": documents.suggest_inputs(instance.title),
                "contexts": {documents.SUGGEST_CONTEXT: [str(instance.status)]}}
