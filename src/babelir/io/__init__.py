"""Readers and writers of collections: corpora, topics, qrels, runs and dataset layouts.

All readers stream their input, open gzip files transparently and report bad input as
:class:`babelir.errors.InputError` naming the file, line and field.
"""
