"""Encoders: text -> L2-normalised float32 vectors, queries and passages encoded asymmetrically.

Contract (:class:`babelir.encode.base.Encoder`): ``encode_queries(texts)`` and
``encode_passages(texts)`` return float32 arrays of shape (n, dim), each row of unit length; the
query/passage prefixes belong to the encoder. ``get_encoder(spec)`` builds one from a name.
"""
