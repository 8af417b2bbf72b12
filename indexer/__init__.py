"""Redis stream → Elasticsearch: the indexer daemon, documents, index management."""
