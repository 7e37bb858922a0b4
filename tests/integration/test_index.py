"""The index directory: incremental adds, deletes, the manifest, and crash safety."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from babelir.errors import BabelirError, IndexFormatError
from babelir.index.build import build_index
from babelir.index.docstore import DocStore
from babelir.index.core import Index
from babelir.types import Doc
from tests.conftest import write


def corpus(path, start, stop, lang=None):
    lines = []
    for i in range(start, stop):
        record = {"id": f"{i:05d}", "text": f"document number {i} about topic{i % 7} and word{i}"}
        if lang:
            record["lang"] = lang
        lines.append(json.dumps(record))
    return write(path, "\n".join(lines) + "\n")


def ids(results) -> list[str]:
    return [doc_id for doc_id, _ in results]


def test_manifest_describes_the_index(tmp_path):
    build_index(corpus(tmp_path / "c.jsonl", 0, 30, "en"), tmp_path / "ix", quiet=True)
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["format"] == "babelir-index" and manifest["format_version"] == 2
    assert manifest["analyzer"]["name"] == "language-aware" and manifest["analyzer"]["version"] == 7
    assert manifest["analyzer"]["lemmatize"] is True and manifest["analyzer"]["pieces"] is True
    assert len(manifest["analyzer"]["pieces_vocabulary"]) == 64
    assert manifest["analyzer"]["stopwords"] is False
    assert manifest["bm25"] == {"k1": 0.9, "b": 0.4}
    assert manifest["doc_count"] == 30 and manifest["languages"] == {"en": 30}
    from babelir.index.manifest import sha256_file

    (name, digest), = manifest["checksums"].items()  # one commit: one postings segment
    assert name.startswith("lexical/") and name.endswith(".seg")
    assert sha256_file(tmp_path / "ix" / name) == digest


def test_incremental_add_and_delete(tmp_path):
    ix = tmp_path / "ix"
    build_index(corpus(tmp_path / "a.jsonl", 0, 20), ix, lang="en", quiet=True)
    summary = build_index(corpus(tmp_path / "b.jsonl", 10, 40), ix, lang="en", quiet=True)
    assert (summary.added, summary.already_indexed, summary.doc_count) == (20, 10, 40)
    with Index.open(ix, writable=True) as index:
        assert index.search("word35", 5)[0][0] == "00035"
        assert index.delete(["00035", "nope"]) == 1
        assert "00035" not in ids(index.search("word35", 5))  # other docs still share its pieces
    with Index.open(ix) as index:
        assert index.doc_count == 39 and "00035" not in ids(index.search("word35"))


def test_language_detected_and_recorded_when_missing(tmp_path):
    path = write(tmp_path / "c.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "1", "text": "Le chat dort sur le canapé pendant que la pluie tombe."},
        {"id": "2", "text": "ฝนตกหนักมากเมื่อคืนนี้ที่กรุงเทพมหานคร"},
        {"id": "3", "text": "Given language wins", "lang": "sw"},
    ]))
    summary = build_index(path, tmp_path / "ix", quiet=True)
    assert summary.detected == 2
    store = DocStore(tmp_path / "ix" / "docs.sqlite", readonly=True)
    rows = dict((r[0], r[1:]) for r in store.db.execute("SELECT id, lang, lang_source FROM docs"))
    assert rows == {"1": ("fr", "detected"), "2": ("th", "detected"), "3": ("sw", "given")}


def test_interrupted_commit_leaves_the_last_committed_state(tmp_path, monkeypatch):
    ix = tmp_path / "ix"
    path = corpus(tmp_path / "c.jsonl", 0, 50, "en")
    calls = {"n": 0}
    real_commit = DocStore.commit

    def crash_on_second_batch(self):
        calls["n"] += 1
        if calls["n"] == 3:  # the build's mark, batch 1, then batch 2: its segment file is written, not listed
            raise KeyboardInterrupt
        real_commit(self)

    monkeypatch.setattr(DocStore, "commit", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        build_index(path, ix, batch_size=20, quiet=True)
    monkeypatch.setattr(DocStore, "commit", real_commit)
    with Index.open(ix) as index:  # readable, at the first commit
        assert index.doc_count == 20
        assert max(int(d) for d in ids(index.search("word30", 100))) < 20  # the unlisted segment is ignored
        assert index.search("word5")[0][0] == "00005"
    summary = build_index(path, ix, batch_size=20, quiet=True)  # re-running finishes the job
    assert (summary.added, summary.already_indexed, summary.doc_count) == (30, 20, 50)
    with Index.open(ix) as index:
        assert [d for d, _ in index.search("word30", 1)] == ["00030"]
        assert int(index.lexical().docnos().max()) == 49
        # the interrupted batch's file was removed, and the re-run merged the interrupted build's
        # segment with its own two
        assert len(list((ix / "lexical").iterdir())) == 1


@pytest.mark.slow
def test_killed_indexer_resumes(tmp_path):
    """SIGKILL the real CLI mid-run; the index stays readable and a re-run completes it."""
    total = 200_000
    path = corpus(tmp_path / "c.jsonl", 0, total)
    ix = tmp_path / "ix"
    cmd = [sys.executable, "-m", "babelir.cli", "index", str(path), "-o", str(ix), "--lang", "en",
           "--batch-size", "5000", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline:  # wait for a first commit, then kill
        manifest = ix / "manifest.json"
        if manifest.exists() and json.loads(manifest.read_text())["doc_count"] >= 5000:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Index.open(ix) as index:
        committed = index.doc_count
        assert committed % 5000 == 0 and 5000 <= committed < total, committed  # really interrupted
        assert index.search("word0")[0][0] == "00000"
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with Index.open(ix) as index:
        assert index.doc_count == total
        assert index.search("word199999")[0][0] == "199999"


def test_open_checks_the_manifest(tmp_path):
    with pytest.raises(IndexFormatError, match="not a babelir index"):
        Index.open(tmp_path)
    Index.create(tmp_path / "ix").close()
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    manifest["format_version"] = 99
    (tmp_path / "ix" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match="version 99"):
        Index.open(tmp_path / "ix")
    with pytest.raises(BabelirError, match="exists already"):
        Index.create(tmp_path / "ix")


def test_read_only_index_refuses_writes(tmp_path):
    Index.create(tmp_path / "ix").close()
    with Index.open(tmp_path / "ix") as index, pytest.raises(BabelirError, match="read-only"):
        index.add([Doc("a", "b")])


def test_create_uses_the_analyzer_instance_it_is_given(tmp_path):
    class Upper:
        name = "upper"

        def analyze(self, text, lang=None):
            return text.upper().split()

        def config(self):
            return {"name": "upper", "version": 1}

    with Index.create(tmp_path / "ix", analyzer=Upper()) as index:
        index.add([Doc("a", "hello world")])
        assert index.search("HELLO")[0][0] == "a"
        assert index.manifest["analyzer"] == {"name": "upper", "version": 1}


def test_documents_added_after_a_search_are_found(tmp_path):
    with Index.create(tmp_path / "ix") as index:
        index.add([Doc("a", "first words")])
        assert [d for d, _ in index.search("first")] == ["a"]
        index.add([Doc("b", "second words")])
        assert [d for d, _ in index.search("second")] == ["b"]
        assert {d for d, _ in index.search("words")} == {"a", "b"}


def test_a_reader_sees_commits_made_after_it_opened(tmp_path):
    Index.create(tmp_path / "ix").close()
    with Index.open(tmp_path / "ix") as reader:
        assert reader.search("late") == []
        with Index.open(tmp_path / "ix", writable=True) as writer:
            writer.add([Doc("a", "a late arrival")])
        assert [d for d, _ in reader.search("late")] == ["a"]


def test_the_summary_says_which_records_differ_from_what_is_indexed(tmp_path):
    """A fresh user's trial: indexing a changed text under an id already indexed was silently
    ignored ("1 documents were already in the index (kept)")."""
    path = write(tmp_path / "c.jsonl", '{"id": "a", "text": "green tea", "lang": "en"}\n'
                                       '{"id": "b", "text": "black coffee", "lang": "en"}\n')
    Index.create(tmp_path / "ix").close()
    first = build_index(path, tmp_path / "ix", quiet=True)
    assert "(was empty)" in first.lines()[0] and first.changed == []
    write(path, '{"id": "a", "text": "green tea from Japan", "lang": "en"}\n'
                '{"id": "b", "text": "black coffee", "lang": "en"}\n{"id": "c", "text": "milk", "lang": "en"}\n')
    again = build_index(path, tmp_path / "ix", quiet=True)
    lines = again.lines()
    assert "(extended)" in lines[0] and again.added == 1 and again.changed == ["a"]
    assert "2 documents were already in the index (kept)" in lines
    assert any(line.startswith("1 of them has another text or title") and "(a)" in line and "delete it first" in line
               for line in lines)
    with Index.open(tmp_path / "ix") as index:  # the indexed version is kept
        assert index.documents(["a"])["a"][2] == "green tea"


def test_the_summary_of_a_new_dense_index_and_of_an_extension_names_the_vectors(tmp_path):
    """A fresh user's trial: creating a --dense index said nothing of its vectors, and neither did
    extending it without --dense (the index's own encoder encodes what is added)."""
    from babelir.encode.base import get_encoder
    from tests.integration.test_index_writers import static_encoder

    encoder = get_encoder(static_encoder(tmp_path / "enc"))
    path = write(tmp_path / "c.jsonl", '{"id": "a", "text": "green tea", "lang": "en"}\n')
    made = build_index(path, tmp_path / "ix", quiet=True, encoder=encoder, dense=True)
    assert "dense vectors: encoded for the 1 document added" in made.lines()
    write(path, '{"id": "b", "text": "black coffee", "lang": "en"}\n')
    more = build_index(path, tmp_path / "ix", quiet=True)
    assert "dense vectors: encoded for the 1 document added" in more.lines()
    with Index.open(tmp_path / "ix") as index:
        assert index.coverage("dense") == (2, 2)
