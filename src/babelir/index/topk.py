"""Top-k selection with trec_eval's tie-breaking, shared by the search paths."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from babelir.run import Descending


def top_k(candidates: np.ndarray, values: np.ndarray, id_of: Callable[[int], str], k: int,
          positive_only: bool = True) -> list[tuple[str, float]]:
    """The ``k`` best (id, score) among ``candidates`` (row numbers) with ``values``; ties by id
    descending, as trec_eval orders them. With ``positive_only`` (term matching: 0 means no match)
    scores <= 0 are dropped; similarities keep them."""
    if len(candidates) > k:
        kth = np.partition(values, len(values) - k)[len(values) - k]
        keep = values >= kth  # every tie at the cut stays, then the exact order decides
        candidates, values = candidates[keep], values[keep]
    ranked = sorted(((float(v), id_of(int(c))) for v, c in zip(values, candidates)),
                    key=lambda pair: (-pair[0], Descending(pair[1])))
    return [(doc_id, score) for score, doc_id in ranked[:k] if score > 0 or not positive_only]
