"""The Milvus backend (milvus-lite) under faults a fresh user met (issue 21): deletes and adds
through the index reach Milvus at once and a stale row never reaches a Run; a damaged store, a
held lock, an unusable path, an over-long document and an interrupted build are one-line errors
or recoverable. BM25 only (no encoder), small corpora: each test takes a few seconds."""

import json
import subprocess
import sys
import time

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from tests.conftest import run_cli, write  # noqa: E402
from tests.integration.test_milvus_backend import corpus_lines  # noqa: E402


def _build(tmp_path, name="ix", **kwargs):
    """Build in this process, then release the store (another process may open it)."""
    from babelir.index.build import build_index
    from babelir.index.milvus import parse_backend, release

    corpus = write(tmp_path / "c.jsonl", corpus_lines(n=6))
    build_index(corpus, tmp_path / name, quiet=True, backend=parse_backend(f"milvus:{tmp_path / 'm.db'}"), **kwargs)
    release(str(tmp_path / "m.db"))
    return corpus


def _bm25(index, text="mto mlima mji shule", k=50):
    from babelir.retrieve.stage import BM25
    from babelir.types import Query

    return BM25(index).retrieve([Query("q", text, "sw")], k=k)["q"]


def _one_line_error(result, *needles):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_deletes_and_adds_reach_milvus_at_once_and_stale_rows_are_dropped(tmp_path):
    from babelir.index.core import Index
    from babelir.index.milvus import client, release, row_count
    from babelir.types import Doc

    _build(tmp_path)
    with Index.open(tmp_path / "ix", writable=True) as index:
        record = index.manifest["backend"]
        milvus = client(record["uri"])
        before = _bm25(index)
        gone = max(before, key=before.get)
        assert gone.startswith("sw-") and row_count(milvus, record["collection"]) == 18
        assert index.delete([gone]) == 1
        assert row_count(milvus, record["collection"]) == 17  # at once, not at the next babelir index
        after = _bm25(index)
        assert gone not in after and set(after) == set(before) - {gone}
        index.add([Doc("sw-new", "mto mto mto mlima mji shule", lang="sw")])
        assert row_count(milvus, record["collection"]) == 18 and "sw-new" in _bm25(index)
        # a stale row (a document the store no longer holds) never reaches a Run
        milvus.insert(record["collection"], [{"id": "ghost", "lang": "sw", "group": "", "terms":
                                              milvus_terms(index, "mto mlima mji shule " * 5)}])
        milvus.flush(record["collection"])
        assert "ghost" not in _bm25(index) and "ghost" not in _bm25(index, k=3)
    release(record["uri"])


def milvus_terms(index, text):
    from collections import Counter

    from babelir.index.milvus import encode_terms

    return encode_terms(Counter(index.analyzer.analyze(text, "sw")))


def test_a_damaged_or_emptied_store_is_a_one_line_error(tmp_path):
    _build(tmp_path)
    collection = next((tmp_path / "m.db" / "collections").iterdir())
    topics = write(tmp_path / "t.tsv", "q1\tmto mlima\tsw\n")
    schema = collection / "schema.json"
    saved = schema.read_bytes()
    schema.write_text("garbage")
    result = run_cli("search", tmp_path / "ix", "--topics", topics, "-o", tmp_path / "r.run", "-q")
    _one_line_error(result, "m.db", "MilvusException", "re-run babelir index")
    schema.write_bytes(saved)
    (collection / "manifest.json").write_text(json.dumps({"version": 1}))  # an emptied collection
    result = run_cli("search", tmp_path / "ix", "--query", "mto mlima")
    assert not (tmp_path / "r.run").exists()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "m.db" in result.stderr, result.stderr


def test_a_held_store_and_unusable_paths_are_one_line_errors(tmp_path):
    corpus = _build(tmp_path)
    code = ("import sys, time; from babelir.index.milvus import client; client(sys.argv[1]); "
            "print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "m.db")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run_cli("search", tmp_path / "ix", "--query", "mto mlima")
        _one_line_error(result, "another process has", "m.db open", "--backend local")
        started = time.monotonic()
        result = run_cli("index", corpus, "-o", tmp_path / "ix2", "--backend", f"milvus:{tmp_path / 'm.db'}", "-q")
        _one_line_error(result, "another process has")
        assert not (tmp_path / "ix2").exists() and time.monotonic() - started < 60  # checked before indexing
    finally:
        holder.kill()
        holder.wait(timeout=30)
        holder.stdout.close()
    (tmp_path / "file.db").write_text("x")
    for value, needle in ((f"milvus:{tmp_path / 'file.db'}", "a file"), ("milvus:/proc/x.db", "cannot create"),
                          ("milvus:.db", "--backend")):
        result = run_cli("index", corpus, "-o", tmp_path / "ix3", "--backend", value, "-q")
        _one_line_error(result, needle)
        assert not (tmp_path / "ix3").exists()
    (tmp_path / "ix" / "manifest.json").write_text((tmp_path / "ix" / "manifest.json").read_text()
                                                   .replace(str(tmp_path / "m.db"), str(tmp_path / "none.db")))
    result = run_cli("search", tmp_path / "ix", "--query", "mto")
    _one_line_error(result, "none.db", "no milvus-lite store")
    assert not (tmp_path / "none.db").exists()  # searching does not create one


def test_an_overlong_document_is_refused_before_commit_or_skipped(tmp_path):
    long_text = " ".join(f"w{i}" for i in range(4000))
    lines = corpus_lines(n=3) + json.dumps({"id": "long", "text": long_text, "lang": "en"}) + "\n"
    corpus = write(tmp_path / "c.jsonl", lines)
    backend = f"milvus:{tmp_path / 'm.db'}"
    result = run_cli("index", corpus, "-o", tmp_path / "ix", "--backend", backend, "-q")
    _one_line_error(result, "long", "3640", "split it")
    assert not (tmp_path / "ix").exists()  # its batch (here: the whole corpus) was not committed
    result = run_cli("index", corpus, "-o", tmp_path / "ix", "--backend", backend, "--skip-bad", "-q")
    assert result.returncode == 0, result.stderr
    assert "skipped 1 bad record" in result.stdout and "(9 in the index)" in result.stdout
    # an index that already holds one (built locally) mirrors the rest and names it
    result = run_cli("index", corpus, "-o", tmp_path / "local", "--k1", "1.5", "--b", "0.75", "-q")
    assert result.returncode == 0, result.stderr
    result = run_cli("index", corpus, "-o", tmp_path / "local", "--backend", f"milvus:{tmp_path / 'n.db'}", "-q")
    assert result.returncode == 0, result.stderr
    assert "1 documents have more terms than Milvus holds" in result.stdout and "long" in result.stdout
    result = run_cli("search", tmp_path / "local", "--query", "w17 w18")
    assert result.returncode == 0 and "long" not in result.stdout, result.stderr


def test_backend_recorded_at_start_and_option_mistakes(tmp_path):
    from babelir.index.build import build_index
    from babelir.errors import BabelirError
    from babelir.index.milvus import parse_backend, release

    lines = corpus_lines(n=4).splitlines()
    corpus = write(tmp_path / "c.jsonl", "\n".join(lines[:6] + ["{not json"] + lines[6:]) + "\n")
    with pytest.raises(BabelirError):  # stops at the bad line after committing the first batch
        build_index(corpus, tmp_path / "ix", quiet=True, batch_size=3,
                    backend=parse_backend(f"milvus:{tmp_path / 'm.db'}"))
    release(str(tmp_path / "m.db"))
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["backend"]["uri"] == str(tmp_path / "m.db") and manifest["backend"]["generation"] is None
    result = run_cli("search", tmp_path / "ix", "--query", "mto")
    _one_line_error(result, "not mirrored", "--backend local")
    result = run_cli("index", corpus, "-o", tmp_path / "ix", "--skip-bad", "-q")  # resumed without --backend
    assert result.returncode == 0 and "mirrored into Milvus" in result.stdout, result.stderr
    result = run_cli("index", corpus, "-o", tmp_path / "ix", "--skip-bad", "--backend", "local", "-q")
    _one_line_error(result, "is mirrored into Milvus", "--backend local")
    result = run_cli("index", corpus, "-o", tmp_path / "plain", "--skip-bad", "-q")
    assert result.returncode == 0, result.stderr
    result = run_cli("index", corpus, "-o", tmp_path / "plain", "--skip-bad", "--backend",
                     f"milvus:{tmp_path / 'p.db'}", "-q")
    _one_line_error(result, "built with BM25 k1 0.9, b 0.4", "cannot be mirrored")
    assert "leave --k1" not in result.stderr
