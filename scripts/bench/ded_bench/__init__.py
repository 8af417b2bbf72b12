"""django-elasticsearch-dsl set up as a Django user would, for the backfill benchmark only."""
