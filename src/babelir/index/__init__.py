"""The index directory: a self-describing directory holding documents, postings and a manifest.

Layout::

    INDEX/manifest.json   format version, analyzer, BM25 parameters, counts, checksums
    INDEX/docs.sqlite     documents, their metadata and term counts (SQLite)
    INDEX/lexical/        the inverted index: postings segments, one per commit, merged now and then
"""
