"""Analysis workers in a local build (babelir.index.parallel): the index equals a one-process
build's, a dead worker loses nothing, a bad record still commits what came before it, and a killed
or interrupted build leaves no worker behind (issue 21)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from babelir.errors import InputError
from babelir.index import parallel
from babelir.index.build import build_index
from babelir.index.core import Index
from tests.conftest import interruptible

pytestmark = pytest.mark.skipif(not parallel.available(), reason="analysis workers need fork (Linux)")


@pytest.fixture(scope="module")
def corpus(xquadr_dir, tmp_path_factory) -> Path:
    """600 XQuAD-R sentences in de, th, zh, ar, ru and hi (one in five with a title)."""
    from babelir.io.xquadr import load_language

    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for lang in ("de", "th", "zh", "ar", "ru", "hi"):
            collection, _ = load_language(xquadr_dir, lang)
            for n, doc in enumerate(collection.docs[:100]):
                record = {"id": f"{lang}-{doc.id}", "text": doc.text, "lang": lang}
                if n % 5 == 0:
                    record["title"] = collection.docs[n + 1].text[:40]
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


@pytest.fixture
def small_batches(monkeypatch):
    """Workers for batches of 10 documents or more, in chunks of 37 (uneven on purpose)."""
    monkeypatch.setattr(parallel, "MIN_BATCH", 10)
    monkeypatch.setattr(parallel, "CHUNK", 37)


def postings(directory: Path) -> tuple[set, list]:
    """Every (docno, term, tf) of the index's segments, and (docno, id, length) of its store."""
    with Index.open(directory) as index:
        found = set()
        for segment in index.lexical().segments:
            terms = segment.terms()
            offsets, docs, tfs, docnos = (np.asarray(a) for a in (segment.offsets, segment.docs, segment.tfs,
                                                                   segment.docnos))
            for t, term in enumerate(terms):
                for row, tf in zip(docs[offsets[t]:offsets[t + 1]].tolist(), tfs[offsets[t]:offsets[t + 1]].tolist()):
                    found.add((int(docnos[row]), term, tf))
        rows = index.store.db.execute("SELECT docno, id, length FROM docs ORDER BY docno").fetchall()
    return found, rows


def test_a_build_with_workers_equals_a_build_in_one_process(corpus, tmp_path, small_batches):
    one = build_index(corpus, tmp_path / "one", quiet=True, batch_size=100, workers=1)
    two = build_index(corpus, tmp_path / "two", quiet=True, batch_size=100, workers=2)
    assert one.added == two.added == 600
    assert postings(tmp_path / "one") == postings(tmp_path / "two")
    with Index.open(tmp_path / "one") as a, Index.open(tmp_path / "two") as b:
        for query, lang in (("Wasser", "de"), ("น้ำ", "th"), ("水", "zh"), ("ماء", "ar"), ("вода", "ru")):
            assert a.search(query, 20, lang) == b.search(query, 20, lang)


_FLAG: list[Path] = []
_REAL = parallel._analyze


def _dies_once(texts, langs):
    """Runs in a forked worker: the first call kills its worker, the others analyse."""
    try:
        fd = os.open(_FLAG[0], os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return _REAL(texts, langs)
    os.close(fd)
    os._exit(9)


def test_a_worker_that_dies_loses_nothing(corpus, tmp_path, small_batches, monkeypatch, caplog):
    flag = tmp_path / "died"
    _FLAG[:] = [flag]
    monkeypatch.setattr(parallel, "_analyze", _dies_once)
    with caplog.at_level(logging.WARNING, logger="babelir.index.parallel"):
        summary = build_index(corpus, tmp_path / "ix", quiet=True, batch_size=100, workers=2)
    assert flag.exists() and "an analysis worker died" in caplog.text
    assert summary.added == 600
    build_index(corpus, tmp_path / "one", quiet=True, batch_size=100, workers=1)
    assert postings(tmp_path / "ix") == postings(tmp_path / "one")


def test_a_bad_record_commits_the_batches_read_before_it(corpus, tmp_path, small_batches):
    lines = corpus.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines[:250] + ['{"id": "x", "text": 5}'] + lines[250:]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="200 documents before it are committed") as caught:
        build_index(bad, tmp_path / "ix", quiet=True, batch_size=100, workers=2)
    assert caught.value.line == 251
    with Index.open(tmp_path / "ix") as index:
        assert index.doc_count == 200


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_a_killed_or_interrupted_build_leaves_no_worker_behind(corpus, tmp_path, sig):
    big = tmp_path / "big.jsonl"
    lines = corpus.read_text(encoding="utf-8").splitlines()
    with open(big, "w", encoding="utf-8") as out:
        for copy in range(40):  # 24,000 documents: batches of 5,000 go to the workers
            for line in lines:
                record = json.loads(line)
                record["id"] = f"{copy}-{record['id']}"
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    proc = subprocess.Popen([sys.executable, "-m", "babelir.cli", "index", str(big), "-o", str(tmp_path / "ix"),
                             "--workers", "2", "--batch-size", "5000", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(workers) < 2 and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.1)
    assert len(workers) == 2, "the build did not start its workers"
    time.sleep(0.2)  # the workers are starting, or analysing the first batch (the whole build takes ~1.5 s)
    assert proc.poll() is None, "the build finished before the signal"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "Traceback" not in err, err
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    assert not any(_alive(p) for p in workers), "a worker outlived the build"
    done = subprocess.run([sys.executable, "-m", "babelir.cli", "index", str(big), "-o", str(tmp_path / "ix"), "-q"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr  # and a re-run finishes the job
    with Index.open(tmp_path / "ix") as index:
        assert index.doc_count == 24_000


def test_more_workers_than_cpus_are_not_started(corpus, tmp_path, small_batches, monkeypatch):
    started = []
    real = parallel.AnalysisPool.__init__

    def record(self, index, workers):
        started.append(workers)
        real(self, index, workers)

    monkeypatch.setattr(parallel.AnalysisPool, "__init__", record)
    summary = build_index(corpus, tmp_path / "ix", quiet=True, batch_size=100, workers=1000)
    assert summary.added == 600
    assert started == [parallel.default_workers(cap=None)] or (started == [] and parallel.default_workers(cap=None) == 1)


def _sleepy_analysis(texts, langs):
    time.sleep(60)


@pytest.mark.skipif(not parallel.available(), reason="analysis workers are forked (Linux)")
def test_closing_the_pool_stops_workers_in_the_middle_of_a_batch(tmp_path, monkeypatch):
    """A fresh user's trial: Ctrl-C during a build took ~5 s to exit, the workers finishing the
    batch that would never be committed."""
    from babelir.types import Doc

    monkeypatch.setattr(parallel, "_analyze", _sleepy_analysis)  # what the forked workers run
    before = set(_children(os.getpid()))
    with Index.create(tmp_path / "ix") as index:
        pool = parallel.AnalysisPool(index, 2)
        job = pool.submit([Doc(str(i), "text", lang="en") for i in range(parallel.MIN_BATCH)])
        assert job is not None
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [p for p in _children(os.getpid()) if p not in before]
            time.sleep(0.05)
        assert len(workers) == 2
        started = time.monotonic()
        pool.close()
        assert time.monotonic() - started < 10  # not the 60 s the batch takes
        assert not any(_alive(p) for p in workers)


@pytest.mark.skipif(not parallel.available(), reason="analysis workers are forked (Linux)")
def test_each_language_stays_with_one_worker_while_the_shares_stay_even(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        pool = parallel.AnalysisPool(index, 2)
        try:
            langs = ["en", "de", "th", "en", "de", "th"] * 100 + [None] * 10
            first = pool.plan(langs)
            assert sorted(first[0] + first[1]) == list(range(len(langs)))  # every document once
            assert all(rows == sorted(rows) for rows in first)
            assert abs(len(first[0]) - len(first[1])) <= 1  # even shares
            homes = [{langs[r] for r in rows} for rows in first]
            assert sum(len(h) for h in homes) <= 5  # 4 languages: at most one split between the two
            homes = pool._homes
            one, other = next((a, b) for a in ("en", "de", "th") for b in ("en", "de", "th") if homes[a] != homes[b])
            again = pool.plan([one] * 40 + [other] * 40)  # a later batch: each language to its own worker
            assert again[homes[one]] == list(range(40)) and again[homes[other]] == list(range(40, 80))
        finally:
            pool.close()
