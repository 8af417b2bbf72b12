"""Thumbnails: dispatched from the change stream (transactional outbox), made by Celery.

    dispatch.py  consumer group `thumbnails`: insert / image_url change → Celery job, then XACK
    sweep.py     products stuck in processing: re-dispatch, give up after the retry budget
    tasks.py     the Celery task: load, render, store, compare-then-write the product
    fetch.py     SSRF-safe download (vetted IPs, manual redirects, byte cap, deadlines)
    imaging.py   Pillow under limits (pixel cap, no truncated files), upright WebP renders
    storage.py   uploads under MEDIA_ROOT, stable thumbnail names, atomic writes
    cli.py       `catalog thumbnails run` and `catalog thumbnails sweep --once`
"""
