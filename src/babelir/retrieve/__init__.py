"""Retrievers: ``retrieve(queries, k) -> Run``."""
