"""Names every service agrees on: streams, consumer groups, Redis keys, index alias.

One definition. The default namespace `catalog` gives the architecture's names
(`catalog:changes`, `catalog:dlq`); tests pick a fresh namespace so runs never meet.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.settings import Settings

INDEXER_GROUP = "indexer"
THUMBNAILS_GROUP = "thumbnails"
CONSUMER_GROUPS = (INDEXER_GROUP, THUMBNAILS_GROUP)


@dataclass(frozen=True)
class Names:
    namespace: str
    index_alias: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Names:
        return cls(namespace=settings.catalog_namespace, index_alias=settings.index_alias)

    @property
    def changes_stream(self) -> str:
        return f"{self.namespace}:changes"

    @property
    def dlq_stream(self) -> str:
        return f"{self.namespace}:dlq"

    def key(self, *parts: str) -> str:
        """Any other Redis key of ours, e.g. key("heartbeat", "tailer")."""
        return ":".join((self.namespace, *parts))

    def index_name(self, version: int) -> str:
        return f"{self.index_alias}-v{version}"
