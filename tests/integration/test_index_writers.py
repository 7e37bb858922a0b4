"""Writers of one index: the writer lock, a server and the CLI on the same index, full disks,
read-only directories, interrupted creation and interrupted vectors (issue 18, items 8-10)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest

from babelir.errors import BabelirError
from babelir.index.build import build_index
from babelir.index.core import Index
from babelir.index.docstore import DocStore
from babelir.index.writing import IndexBusy
from babelir.types import Doc
from tests.conftest import run_cli, write


def corpus(path, start, stop, lang="en"):
    return write(path, "".join(json.dumps({"id": f"d{i:05d}", "text": f"tiny document {i} about word{i % 50}",
                                           "lang": lang}) + "\n" for i in range(start, stop)))


def static_encoder(folder, dim=8, seed=0):
    """A tiny static:DIR encoder (a word-level tokenizer and random vectors): no model, instant."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["[UNK]", "tiny", "document", "about", *map(str, range(3000)), *(f"word{i}" for i in range(50))]
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    np.save(folder / "embeddings.npy", np.random.default_rng(seed).standard_normal((len(words), dim)).astype(np.float32))
    (folder / "babelir_static.json").write_text(json.dumps({"teacher": "random", "dim": dim}))
    return f"static:{folder}"


def interrupt_commit(monkeypatch, nth: int) -> None:
    """Make the store's ``nth`` commit raise KeyboardInterrupt (a Ctrl-C at that point)."""
    real_commit = DocStore.commit
    calls = {"n": 0}

    def commit(self):
        calls["n"] += 1
        if calls["n"] == nth:
            raise KeyboardInterrupt
        real_commit(self)

    monkeypatch.setattr(DocStore, "commit", commit)


# --- one writer at a time -----------------------------------------------------------------------
def test_a_second_writer_is_told_another_process_is_writing(tmp_path):
    ix = tmp_path / "ix"
    build_index(corpus(tmp_path / "a.jsonl", 0, 10), ix, quiet=True)
    with Index.open(ix, writable=True) as first, first.writing():
        with Index.open(ix, writable=True) as second:
            with pytest.raises(IndexBusy, match="another process is writing this index"):
                second.add([Doc("x", "text")])
            started = time.monotonic()
            with pytest.raises(IndexBusy):
                with second.writing(wait=0.3):
                    pass
            assert time.monotonic() - started >= 0.3  # --wait waited
        result = run_cli("index", corpus(tmp_path / "b.jsonl", 10, 20), "-o", ix, "-q")
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert "another process is writing this index" in result.stderr and "Traceback" not in result.stderr
    with Index.open(ix, writable=True) as index:  # released: the next writer goes ahead
        index.add([Doc("x", "text")])
        assert index.doc_count == 11


def test_index_waits_for_the_other_writer_with_wait(tmp_path):
    ix = tmp_path / "ix"
    build_index(corpus(tmp_path / "a.jsonl", 0, 10), ix, quiet=True)
    code = ("import time\nfrom babelir.index.core import Index\n"
            f"ix = Index.open({str(ix)!r}, writable=True)\nwith ix.writing():\n"
            "    print('held', flush=True); time.sleep(1.5)\n")
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as holder:
        assert holder.stdout.readline().strip() == "held"
        result = run_cli("index", corpus(tmp_path / "b.jsonl", 10, 20), "-o", ix, "-q", "--wait", "30")
    assert result.returncode == 0, result.stderr
    assert Index.open(ix).doc_count == 20


# --- a writable server and the CLI on one index (item 10) -----------------------------------------
def test_server_and_cli_writers_see_each_others_commits(tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from babelir.serve.app import create_app

    ix = tmp_path / "ix"
    build_index(corpus(tmp_path / "a.jsonl", 0, 30), ix, quiet=True)
    key = {"X-API-Key": "k"}
    with TestClient(create_app({"w": ix}, writable=True, api_key="k")) as client:
        def add(doc_id, text):
            return client.post("/v1/docs/w", json={"documents": [{"id": doc_id, "text": text, "lang": "en"}]},
                               headers=key)

        assert add("api-1", "first from the api").status_code == 201
        run_cli("index", corpus(tmp_path / "b.jsonl", 30, 60), "-o", ix, "-q", check=True)  # another process
        for n in range(2, 5):  # every later API add succeeds: no docno collision
            response = add(f"api-{n}", f"number {n} from the api")
            assert response.status_code == 201, response.text
        listed = client.get("/v1/indexes").json()["indexes"][0]
        assert listed["documents"] == 30 + 1 + 30 + 3  # not the stale count of when the server opened it
        hits = client.get("/v1/search", params={"index": "w", "q": "word45"}).json()["results"]
        assert "d00045" in {h["id"] for h in hits}  # the CLI's documents are found
        assert client.delete("/v1/docs/w/d00031", headers=key).json() == {"deleted": 1}
        run_cli("index", corpus(tmp_path / "c.jsonl", 60, 70), "-o", ix, "-q", check=True)  # after the server's delete
        assert add("api-5", "the last one").status_code == 201
        with Index.open(ix, writable=True) as other, other.writing():  # another writer holds the index
            busy = add("api-6", "while the CLI writes")
            assert busy.status_code == 503 and "another process is writing" in busy.json()["detail"]
            assert busy.headers["Retry-After"] and str(ix) not in busy.text
    with Index.open(ix) as index:
        assert index.doc_count == 30 + 4 + 30 - 1 + 10 + 1
        assert len(index.ids()) == index.doc_count
        assert int(index.lexical().docnos().max()) == index.store.stats()[2]
        assert index.search("last")[0][0] == "api-5"


def test_two_index_objects_in_one_process_follow_each_other(tmp_path):
    Index.create(tmp_path / "ix").close()
    with Index.open(tmp_path / "ix", writable=True) as a, Index.open(tmp_path / "ix", writable=True) as b:
        a.add([Doc("a1", "alpha one")])
        b.add([Doc("b1", "beta one")])  # sees a's commit: the next docno, not a UNIQUE failure
        a.add([Doc("a2", "alpha two")])
        b.delete(["a1"])
        a.add([Doc("a3", "alpha three")])
        assert a.doc_count == b.doc_count == 3
    with Index.open(tmp_path / "ix") as index:
        assert index.ids() == {"b1", "a2", "a3"} and index.search("alpha")[0][0] in {"a2", "a3"}


# --- full disk and read-only directory -----------------------------------------------------------
@pytest.mark.parametrize("failure", [sqlite3.OperationalError("database or disk is full"),
                                     OSError(28, "No space left on device"),
                                     ValueError("An IO error occurred: 'No space left on device (os error 28)'")])
def test_a_full_disk_is_one_line_and_keeps_the_last_commit(tmp_path, monkeypatch, failure):
    ix = tmp_path / "ix"
    build_index(corpus(tmp_path / "a.jsonl", 0, 20), ix, quiet=True)
    real_commit = DocStore.commit

    def full(self):
        raise failure

    monkeypatch.setattr(DocStore, "commit", full)
    with pytest.raises(BabelirError, match="re-run to resume") as info:
        build_index(corpus(tmp_path / "b.jsonl", 20, 40), ix, quiet=True)
    assert str(ix) in str(info.value) and "\n" not in str(info.value)
    monkeypatch.setattr(DocStore, "commit", real_commit)
    with Index.open(ix) as index:
        assert index.doc_count == 20  # the last commit, nothing of the failed batch
        assert all(int(doc_id[1:]) < 20 for doc_id, _ in index.search("word25", 100))
    assert build_index(corpus(tmp_path / "b.jsonl", 20, 40), ix, quiet=True).doc_count == 40  # resumes


def test_a_file_size_limit_in_a_real_process_is_one_line_and_keeps_the_last_commit(tmp_path):
    """A real write failure (RLIMIT_FSIZE: EFBIG, like a full disk) inside SQLite or a file."""
    resource = pytest.importorskip("resource")
    ix = tmp_path / "ix"
    build_index(corpus(tmp_path / "a.jsonl", 0, 50), ix, quiet=True)
    big = write(tmp_path / "big.jsonl", "".join(json.dumps({"id": f"big{i}", "text": "lorem ipsum " * 400,
                                                            "lang": "en"}) + "\n" for i in range(400)))

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))

    result = subprocess.run([sys.executable, "-m", "babelir.cli", "index", str(big), "-o", str(ix), "-q",
                             "--batch-size", "100"], capture_output=True, text=True, preexec_fn=limit, timeout=300)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(ix) in result.stderr
    with Index.open(ix) as index:
        assert index.doc_count % 100 == 50 and index.search("word7")[0][0] == "d00007"


def test_a_read_only_index_directory_is_one_line(tmp_path, monkeypatch):
    ix = tmp_path / "ix"
    build_index(corpus(tmp_path / "a.jsonl", 0, 10), ix, quiet=True)
    if os.geteuid() != 0:  # a real read-only directory (root writes through chmod)
        os.chmod(ix, 0o555)
        os.chmod(ix / "docs.sqlite", 0o444)
        try:
            result = run_cli("index", corpus(tmp_path / "b.jsonl", 10, 20), "-o", ix, "-q")
        finally:
            os.chmod(ix, 0o755)
            os.chmod(ix / "docs.sqlite", 0o644)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    import babelir.index.writing as writing

    real_open = os.open

    def read_only_open(path, flags, *args):
        if str(path).endswith(writing.LOCK):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(writing.os, "open", read_only_open)
    with pytest.raises(BabelirError, match="cannot write to the index directory"):
        build_index(corpus(tmp_path / "b.jsonl", 10, 20), ix, quiet=True)
    monkeypatch.undo()

    def read_only_db(self):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(DocStore, "begin", read_only_db)
    with pytest.raises(BabelirError, match="read-only"):
        build_index(corpus(tmp_path / "b.jsonl", 10, 20), ix, quiet=True)
    monkeypatch.undo()
    assert Index.open(ix).doc_count == 10


# --- interrupted creation and interrupted vectors (item 9) ----------------------------------------
@pytest.mark.parametrize("stage", ["analyzer", "store", "postings", "manifest"])
def test_an_interrupted_creation_is_started_again(tmp_path, monkeypatch, stage):
    import babelir.index.core as core

    ix = tmp_path / "ix"
    targets = {"store": (core.DocStore, "close"), "manifest": (Index, "_write_manifest")}
    if stage == "postings":
        from babelir.index import segments
        targets["postings"] = (segments, "make_folder")
    if stage == "analyzer":
        from babelir.text.subword import SubwordAnalyzer
        targets["analyzer"] = (SubwordAnalyzer, "save")
    owner, name = targets[stage]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(owner, name, interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus(tmp_path / "a.jsonl", 0, 40), ix, quiet=True,
                    analyzer="subword" if stage == "analyzer" else None, subword_vocab=60)
    monkeypatch.undo()
    assert (ix / "creating.babelir").exists() and not (ix / "manifest.json").exists()
    summary = build_index(corpus(tmp_path / "a.jsonl", 0, 40), ix, quiet=True)
    assert summary.created and summary.doc_count == 40 and not (ix / "creating.babelir").exists()


def test_a_foreign_directory_is_still_refused(tmp_path):
    write(tmp_path / "ix" / "notes.txt", "mine")
    with pytest.raises(BabelirError, match="not empty and holds no babelir index"):
        build_index(corpus(tmp_path / "a.jsonl", 0, 5), tmp_path / "ix", quiet=True)
    assert (tmp_path / "ix" / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("kind_of_stop", ["interrupt", "old-manifest"])
def test_partial_dense_vectors_are_refused_then_finished(tmp_path, monkeypatch, kind_of_stop):
    from babelir.encode.base import get_encoder
    from babelir.retrieve.pipeline import from_mode
    from babelir.types import Query

    ix = tmp_path / "ix"
    path = corpus(tmp_path / "a.jsonl", 0, 120)
    build_index(path, ix, quiet=True)
    encoder = get_encoder(static_encoder(tmp_path / "enc"))
    interrupt_commit(monkeypatch, 3)  # two chunks of vectors committed, then Ctrl-C
    with Index.open(ix, writable=True) as index, pytest.raises(KeyboardInterrupt):
        index.encode_missing(encoder, batch_size=25)
    monkeypatch.undo()
    if kind_of_stop == "old-manifest":  # an index written before this fix: the manifest claims the vectors
        manifest = json.loads((ix / "manifest.json").read_text())
        manifest["encoder"] = encoder.config()
        (ix / "manifest.json").write_text(json.dumps(manifest))
    with Index.open(ix) as index:
        for mode in ("dense", "hybrid"):
            with pytest.raises(BabelirError, match="dense vectors cover 50 of 120 documents; re-run babelir "
                                                   "index --dense to finish"):
                from_mode(index, mode).retrieve([Query("q", "word5", "en")], 10)
    result = run_cli("search", ix, "--query", "word5", "--mode", "dense")
    assert result.returncode == 2 and "cover 50 of 120" in result.stderr
    summary = build_index(path, ix, quiet=True, encoder=encoder if kind_of_stop == "interrupt" else None, dense=True)
    assert summary.encoded == {"dense": 70} and summary.added == 0
    assert any("added dense vectors to 70 documents" in line for line in summary.lines())
    with Index.open(ix) as index:
        assert index.coverage("dense") == (120, 120) and index.manifest["encoder"]["name"] == encoder.name
        assert len(index.dense_vectors()) == 120
        assert from_mode(index, "dense").retrieve([Query("q", "word5", "en")], 10)["q"]


def test_finishing_vectors_with_another_encoder_is_refused(tmp_path, monkeypatch):
    from babelir.encode.base import get_encoder

    ix = tmp_path / "ix"
    build_index(corpus(tmp_path / "a.jsonl", 0, 60), ix, quiet=True)
    first = get_encoder(static_encoder(tmp_path / "one"))
    interrupt_commit(monkeypatch, 2)
    with Index.open(ix, writable=True) as index, pytest.raises(KeyboardInterrupt):
        index.encode_missing(first, batch_size=20)
    monkeypatch.undo()
    other = get_encoder(static_encoder(tmp_path / "two", dim=4))
    with Index.open(ix, writable=True) as index, pytest.raises(BabelirError, match="were started with the encoder"):
        index.encode_missing(other, batch_size=20)


def test_a_reader_opens_an_index_whose_writer_was_killed_mid_transaction(tmp_path):
    """SIGKILL inside a SQLite write leaves a hot journal: a read-only open rolls it back first."""
    ix = tmp_path / "ix"
    build_index(corpus(tmp_path / "a.jsonl", 0, 10), ix, quiet=True)
    code = ("import time\nfrom pathlib import Path\nfrom babelir.index.docstore import DocStore\n"
            f"store = DocStore(Path({str(ix / 'docs.sqlite')!r}))\n"
            "store.db.execute('PRAGMA cache_size=5')\nstore.begin()\n"  # a small cache spills: the journal is hot
            "store.insert([(n, f'x{n}', 'en', 'given', '', 'text ' * 500, 1, {'text': 1}) for n in range(100, 400)])\n"
            "print('writing', flush=True)\ntime.sleep(60)\n")
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) as writer:
        assert writer.stdout.readline().strip() == "writing"
        os.kill(writer.pid, signal.SIGKILL)
    assert (ix / "docs.sqlite-journal").exists()
    with Index.open(ix) as index:
        assert index.doc_count == 10 and "x100" not in index.ids()


def test_a_slow_encode_of_added_documents_holds_back_no_search(tmp_path, monkeypatch):
    """A document added over the API is encoded outside the lock that searches take: a trial added a
    20k-character document to a dense index, and a BM25 search sent meanwhile waited the whole 22 s."""
    import threading
    import time

    from babelir.serve.service import IndexService

    with Index.create(tmp_path / "ix") as index:
        index.add([Doc("d1", "coffee grows in the highlands", lang="en")])
    service = IndexService("ix", tmp_path / "ix", writable=True)
    encode = service.index.encode
    started = threading.Event()

    def slow_encode(docs):
        started.set()
        time.sleep(3.0)  # a long passage through the real encoder
        return encode(docs)

    monkeypatch.setattr(service.index, "encode", slow_encode)
    adding = threading.Thread(target=service.add, args=([Doc("d2", "tea grows in the hills", lang="en")],))
    adding.start()
    assert started.wait(10)
    begun = time.perf_counter()
    hits = service.search("coffee", "en", "bm25", 10, None)
    waited = time.perf_counter() - begun
    adding.join()
    assert [doc_id for doc_id, _ in hits] == ["d1"] and waited < 1.5, waited
    assert service.index.doc_count == 2 and service.search("tea", "en", "bm25", 10, None)[0][0] == "d2"
    service.close()
