"""Dense vectors of an index's documents: float16 chunks, memory-mapped, exact search.

Each committed batch writes one chunk: ``dense/<chunk>.docnos.npy`` (int64) and
``dense/<chunk>.vectors.npy`` (float16, unit rows), written before the store's commit that records
the chunk in the table ``dense_chunks``. An unrecorded chunk file (a crash) is ignored and
overwritten. Search: exact inner product, chunk by chunk, top k per query; deleted documents are
skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DENSE = "dense"


def write_chunk(directory: Path, name: str, docnos: np.ndarray, vectors: np.ndarray) -> None:
    """Write a chunk's two arrays (each atomically); the caller records it in the store."""
    import os
    import tempfile

    folder = directory / DENSE
    folder.mkdir(exist_ok=True)
    for suffix, array in (("docnos", docnos.astype(np.int64)), ("vectors", vectors.astype(np.float16))):
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".npy", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, array)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, folder / f"{name}.{suffix}.npy")


class DenseVectors:
    """The recorded chunks of an index, memory-mapped; :meth:`search` finds the nearest documents."""

    def __init__(self, directory: Path, chunk_names: list[str]):
        folder = directory / DENSE
        self.docnos = [np.load(folder / f"{n}.docnos.npy", mmap_mode="r") for n in chunk_names]
        self.vectors = [np.load(folder / f"{n}.vectors.npy", mmap_mode="r") for n in chunk_names]

    def __len__(self) -> int:
        return sum(len(d) for d in self.docnos)

    def covered(self) -> set[int]:
        """Docnos that have a vector."""
        return {int(n) for docnos in self.docnos for n in docnos}

    def search(self, queries: np.ndarray, k: int, alive: dict[int, str], block: int = 65_536) -> list[list[tuple[str, float]]]:
        """Top ``k`` (doc id, cosine) per query row; ties by doc id descending. ``alive``: docno -> id."""
        from babelir.run import Descending

        queries = np.asarray(queries, dtype=np.float32)
        best_scores = [np.empty(0, dtype=np.float32) for _ in range(len(queries))]
        best_docnos = [np.empty(0, dtype=np.int64) for _ in range(len(queries))]
        for docnos, vectors in zip(self.docnos, self.vectors):
            keep = np.fromiter((int(n) in alive for n in docnos), dtype=bool, count=len(docnos))
            for start in range(0, len(docnos), block):
                mask = keep[start:start + block]
                if not mask.any():
                    continue
                part = np.asarray(vectors[start:start + block], dtype=np.float32)[mask]
                part_docnos = np.asarray(docnos[start:start + block])[mask]
                scores = part @ queries.T  # (rows, queries)
                for q in range(len(queries)):
                    merged_scores = np.concatenate([best_scores[q], scores[:, q]])
                    merged_docnos = np.concatenate([best_docnos[q], part_docnos])
                    if len(merged_scores) > k:
                        kth = np.partition(merged_scores, len(merged_scores) - k)[len(merged_scores) - k]
                        top = merged_scores >= kth
                        merged_scores, merged_docnos = merged_scores[top], merged_docnos[top]
                    best_scores[q], best_docnos[q] = merged_scores, merged_docnos
        results = []
        for scores, docnos in zip(best_scores, best_docnos):
            ranked = sorted(((float(s), alive[int(n)]) for s, n in zip(scores, docnos)),
                            key=lambda p: (-p[0], Descending(p[1])))
            results.append([(doc_id, score) for score, doc_id in ranked[:k]])
        return results
