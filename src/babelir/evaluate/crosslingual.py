"""Cross-lingual diagnostics for multilingual pools (LAReQA, Roy et al., 2020).

``same_language_share``: the share of each query's top ``depth`` documents written in the query's
own language, averaged over queries. A strongly language-biased retriever scores near 1; on a pool
where every language holds one answer per question, an unbiased one scores near 1 / languages.
It is a count of languages, not a relevance measure; relevance measures come from ir_measures.
"""

from __future__ import annotations

from collections.abc import Mapping

from babelir.run import Run


def same_language_share(run: Run, query_langs: Mapping[str, str], doc_langs: Mapping[str, str], depth: int = 10) -> float:
    """Mean over the run's queries of the fraction of the top ``depth`` in the query's language."""
    shares = []
    for qid in run:
        top = [doc_id for doc_id, _ in run.ranking(qid)[:depth]]
        if top:
            shares.append(sum(doc_langs.get(d) == query_langs.get(qid) for d in top) / len(top))
    return sum(shares) / len(shares) if shares else 0.0
