"""Learned sparse vectors ("latent terms") of an index's documents, as an impact-score index.

Each committed batch writes one chunk of CSR arrays under ``sparse/`` (``docnos``, ``indptr``,
``indices``, ``values``), recorded in the store's ``sparse_chunks`` table in the same commit.
Search: the chunks as one column-major matrix; a query's score for a document is the dot product
of their sparse vectors, summed over the query's non-zero dimensions only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from babelir.index.topk import top_k

SPARSE = "sparse"
PARTS = ("docnos", "indptr", "indices", "values")


def write_sparse_chunk(directory: Path, name: str, docnos: list[int], vectors: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Write a chunk's CSR arrays (each atomically); the caller records it in the store."""
    from babelir.io.atomic import atomic_save_npy

    folder = directory / SPARSE
    folder.mkdir(exist_ok=True)
    lengths = [len(indices) for indices, _ in vectors]
    arrays = {
        "docnos": np.asarray(docnos, dtype=np.int64),
        "indptr": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        "indices": np.concatenate([i for i, _ in vectors] or [np.empty(0)]).astype(np.int32),
        "values": np.concatenate([v for _, v in vectors] or [np.empty(0)]).astype(np.float32),
    }
    for part, array in arrays.items():
        atomic_save_npy(folder / f"{name}.{part}.npy", array)


class SparseVectors:
    """All recorded chunks as one CSC matrix (rows: documents, columns: latent terms)."""

    def __init__(self, directory: Path, chunk_names: list[str], dim: int, ids: dict[int, str]):
        """``ids`` maps the docno of every live document to its id."""
        from scipy.sparse import csr_matrix, vstack

        folder = directory / SPARSE
        docnos, blocks = [], []
        for name in chunk_names:
            part = {p: np.load(folder / f"{name}.{p}.npy") for p in PARTS}
            docnos.append(part["docnos"])
            blocks.append(csr_matrix((part["values"], part["indices"], part["indptr"]),
                                     shape=(len(part["docnos"]), dim)))
        self.docnos = np.concatenate(docnos) if docnos else np.empty(0, dtype=np.int64)
        self.matrix = vstack(blocks).tocsc() if blocks else csr_matrix((0, dim)).tocsc()
        self.ids = ids
        self.live = np.fromiter((int(n) in ids for n in self.docnos), dtype=bool, count=len(self.docnos))

    def search(self, queries: list[tuple[np.ndarray, np.ndarray]], k: int,
               allowed: np.ndarray | None = None) -> list[list[tuple[str, float]]]:
        """Top ``k`` (doc id, dot product) per query; deleted documents skipped, and documents
        outside ``allowed`` (a boolean mask over :attr:`docnos`) when given."""
        live = self.live if allowed is None else self.live & allowed
        results = []
        for indices, values in queries:
            if len(indices) == 0:
                results.append([])
                continue
            # one sparse product over the query's latent terms (columns of the CSC matrix)
            scores = np.asarray(self.matrix[:, indices] @ values.astype(np.float64)).ravel()
            candidates = np.flatnonzero(scores)
            candidates = candidates[live[candidates]]
            results.append(top_k(candidates, scores[candidates], lambda row: self.ids[int(self.docnos[row])], k))
        return results
