"""Every run the quickstart writes evaluates, from its file, exactly as it did in memory."""

import pytest

from babelir.evaluate.metrics import evaluate
from babelir.io.demo import load_demo
from babelir.run import Run

MEASURES = ["P@30", "nDCG@10", "R@100", "RR@10", "AP"]


@pytest.mark.slow
def test_every_run_the_quickstart_writes_evaluates_as_in_memory(tmp_path, monkeypatch):
    from babelir.quickstart import quickstart

    written = []
    to_trec = Run.to_trec

    def recording(self, path, name=None):
        written.append((self, path))
        return to_trec(self, path, name)

    monkeypatch.setattr(Run, "to_trec", recording)
    quickstart(tmp_path / "qs", quiet=True, echo=lambda *args: None)
    assert sorted(path.name for _, path in written) == ["bm25.run", "dense.run", "hybrid.run", "sparse.run"]
    qrels = load_demo().qrels
    for run, path in written:
        back = Run.from_trec(path)
        assert {q: back[q] for q in back} == {q: run[q] for q in run}, path.name  # every score exactly
        memory, from_file = evaluate(run, qrels, MEASURES), evaluate(back, qrels, MEASURES)
        assert from_file.per_query == memory.per_query, path.name
        assert from_file.all == memory.all, path.name
