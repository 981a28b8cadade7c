"""Congressional feeds: one HTTP client, one adapter per source, and the database side (sync).

Adapters (congress, senate, house, legislators) know HTTP and a format and return frozen
dataclasses; `ingest` and `sync` know the models and never make a request.
"""
