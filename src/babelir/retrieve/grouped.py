"""Group evidence (:class:`babelir.retrieve.stage.GroupEvidence`): a document's score gains its group's best score.

Used when an index's documents carry groups (:attr:`babelir.types.Doc.group`, e.g. the paragraph
of each sentence): on XQuAD-R it adds about .015 nDCG@10 to every mode (docs/benchmarks.md).
"""

from __future__ import annotations

from babelir.fuse import group_evidence
from babelir.run import Run

DEFAULT_GROUP_WEIGHT = 1.0  # chosen on XQuAD-R's train articles (benchmarks.xquadr_modes --group-weights)
MIN_DEPTH = 100  # the group statistics are taken over at least this many documents per query


def default_group_weight(index) -> float:
    """The weight search uses when none is given: DEFAULT_GROUP_WEIGHT for an index with groups
    whose documents are in one language, else 0.

    In a multilingual pool a question's answers lie in many groups (one per language), and
    lifting the neighbours of its best match pushes the other languages' answers down: on the
    XQuAD-R pool full MAP fell from .563 to .506 with weight 1. "Multilingual" is the test the
    dense language correction uses: two or more languages with 100+ documents."""
    if not index.has_groups:
        return 0.0
    from babelir.index.dense import is_multilingual

    return 0.0 if is_multilingual(index.manifest["languages"].values()) else DEFAULT_GROUP_WEIGHT


def with_group_evidence(index, run: Run, weight: float, depth: int) -> Run:
    """``run`` rescored by :func:`babelir.fuse.group_evidence` with the groups ``index`` stores for
    its documents (each query's top ``depth``)."""
    candidates = sorted({doc_id for qid in run for doc_id in run[qid]})
    return group_evidence(run, index.groups(candidates), weight, depth)
