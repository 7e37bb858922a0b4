"""Approximate nearest-neighbour search over an index's dense vectors: FAISS HNSW graphs.

Stored in ``ann/`` beside the dense chunks: ``ann.json`` (the store generation it was built for,
whether its vectors carry the language-bias correction, the HNSW parameters, and its groups) and,
per group, ``<group>.faiss`` (the graph, inner product) and ``<group>.docnos.npy``. An index whose
documents get the correction has one group per language (so that each query's scores can be
standardised per document language, exactly as exact search does); otherwise one group, ``all``.

The graph is derived data: a graph built for another generation is
ignored (search is then exact) until it is rebuilt. Recall against exact search is measured by
``benchmarks/ann_recall.py``; the defaults (M 32, efConstruction 200, efSearch 256) keep
recall@100 at or above .99 there.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ANN = "ann"
DEFAULTS = {"M": 32, "ef_construction": 200, "ef_search": 256}


class HNSW:
    """One FAISS HNSW graph (inner product) over unit vectors, with the docno of each row."""

    def __init__(self, graph, docnos: np.ndarray):
        self.graph, self.docnos = graph, docnos

    @classmethod
    def build(cls, vectors: np.ndarray, docnos: np.ndarray, M: int = DEFAULTS["M"],
              ef_construction: int = DEFAULTS["ef_construction"]) -> "HNSW":
        """A graph over ``vectors`` (rows, float32); ``docnos`` names each row."""
        import faiss

        graph = faiss.IndexHNSWFlat(vectors.shape[1], M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = ef_construction
        graph.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(graph, np.asarray(docnos, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int, ef_search: int = DEFAULTS["ef_search"]):
        """``(scores, docnos)`` arrays of shape (queries, k'); k' = min(k, rows); missing hits are -1."""
        import faiss

        k = min(k, len(self.docnos))
        params = faiss.SearchParametersHNSW(efSearch=max(ef_search, k))
        scores, rows = self.graph.search(np.ascontiguousarray(queries, dtype=np.float32), k, params=params)
        return scores, np.where(rows >= 0, self.docnos[np.maximum(rows, 0)], -1)

    def save(self, folder: Path, name: str) -> None:
        import faiss

        from babelir.io.atomic import atomic_save_npy

        temporary = folder / f".{name}.faiss.tmp"
        faiss.write_index(self.graph, str(temporary))
        temporary.replace(folder / f"{name}.faiss")
        atomic_save_npy(folder / f"{name}.docnos.npy", self.docnos)

    @classmethod
    def load(cls, folder: Path, name: str) -> "HNSW":
        import faiss

        return cls(faiss.read_index(str(folder / f"{name}.faiss")), np.load(folder / f"{name}.docnos.npy"))


def build_ann(directory: Path, dense, generation: int, corrected: bool, **params) -> dict:
    """Build and save the graphs for ``dense`` (a DenseVectors) at ``generation``; returns the
    ``ann.json`` record. ``corrected``: one graph per language over the corrected vectors."""
    from babelir.io.atomic import atomic_write_json

    settings = {**DEFAULTS, **params}
    folder = directory / ANN
    folder.mkdir(exist_ok=True)
    groups: dict[str, list] = {}
    for c, (docnos, vectors, alive) in enumerate(zip(dense.docnos, dense.vectors, dense.live)):
        rows = dense.lang_rows[c][alive]
        part = np.asarray(vectors, dtype=np.float32)[alive]
        if corrected:
            part = dense.correct(part, rows)
        names = [dense.langs[r] for r in rows] if corrected else ["all"] * len(rows)
        for name in sorted(set(names)):
            mine = np.array([n == name for n in names])
            groups.setdefault(name, []).append((np.asarray(docnos)[alive][mine], part[mine]))
    record = {"generation": generation, "corrected": corrected, **settings, "groups": {}}
    for i, (name, parts) in enumerate(sorted(groups.items())):
        file_name = f"g{i}"
        graph = HNSW.build(np.concatenate([p[1] for p in parts]), np.concatenate([p[0] for p in parts]),
                           settings["M"], settings["ef_construction"])
        graph.save(folder, file_name)
        record["groups"][name] = {"file": file_name, "count": int(len(graph.docnos))}
    atomic_write_json(folder / "ann.json", record)
    return record


def read_record(directory: Path) -> dict | None:
    """The saved ``ann.json`` record, or None when there is none (or it is unreadable)."""
    try:
        return json.loads((directory / ANN / "ann.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def load_ann(directory: Path) -> tuple[dict, dict[str, HNSW]] | None:
    """The saved record and graphs, or None when there are none."""
    record = read_record(directory)
    if record is None:
        return None
    try:
        return record, {name: HNSW.load(directory / ANN, g["file"]) for name, g in record["groups"].items()}
    except (OSError, KeyError, RuntimeError):
        return None


def ann_search(dense, record: dict, graphs: dict[str, HNSW], queries: np.ndarray, k: int,
               standardise: bool = True, doc_langs: set[str] | None = None,
               ef_search: int | None = None) -> list[list[tuple[str, float]]]:
    """Top ``k`` (doc id, score) per query row from the graphs, scored as exact search scores them.

    ``queries`` must already be corrected when ``record["corrected"]``; each language's graph then
    gives its top ``k`` by cosine, which (standardised per language when ``standardise``) are
    merged. ``doc_langs`` is only possible with per-language graphs (the caller checks)."""
    from babelir.index.topk import top_k

    queries = np.asarray(queries, dtype=np.float32)
    ef_search = ef_search or record.get("ef_search", DEFAULTS["ef_search"])
    position = {lang: i for i, lang in enumerate(dense.langs)}
    if record["corrected"] and standardise:
        offsets, spreads = dense.standardisers(queries)
    found_scores, found_docnos = [], []
    for name, graph in graphs.items():
        if doc_langs is not None and name not in doc_langs:
            continue
        scores, docnos = graph.search(queries, k, ef_search)
        if record["corrected"] and standardise and name in position:
            lang = position[name]
            scores = (scores - offsets[:, lang:lang + 1]) / spreads[:, lang:lang + 1]
        found_scores.append(scores)
        found_docnos.append(docnos)
    if not found_scores:
        return [[] for _ in range(len(queries))]
    scores, docnos = np.concatenate(found_scores, axis=1), np.concatenate(found_docnos, axis=1)
    results = []
    for row_scores, row_docnos in zip(scores, docnos):
        keep = np.array([n in dense.ids for n in row_docnos.tolist()], dtype=bool)  # -1 and deleted: out
        results.append(top_k(row_docnos[keep], row_scores[keep], lambda n: dense.ids[n], k, positive_only=False))
    return results
