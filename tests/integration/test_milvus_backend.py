"""The Milvus backend (milvus-lite): an index mirrored into a collection searches through it and
gives the local backend's Runs (BM25 exactly; dense and hybrid within HNSW's approximation)."""

import json
import random
import subprocess
import sys

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from babelir.run import Run  # noqa: E402
from tests.conftest import run_cli, write  # noqa: E402

WORDS = {
    "en": "river mountain city bread music school garden winter doctor market bridge island library train forest".split(),
    "de": "Fluss Berg Stadt Brot Musik Schule Garten Winter Arzt Markt Brücke Insel Bibliothek Zug Wald".split(),
    "sw": "mto mlima mji mkate muziki shule bustani baridi daktari soko daraja kisiwa maktaba treni msitu".split(),
}
TOPICS = [("q1", "river bridge market", "en"), ("q2", "Berg Wald Winter", "de"), ("q3", "shule maktaba", "sw"),
          ("q4", "music school library", "en"), ("q5", "Insel Zug", "de")]


def corpus_lines(n: int = 14, seed: int = 7) -> str:
    rng = random.Random(seed)
    lines = []
    for lang, words in WORDS.items():
        for i in range(n):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(4, 14)))
            lines.append(json.dumps({"id": f"{lang}-{i:02d}", "text": text, "lang": lang, "group": f"g{i % 5}"},
                                    ensure_ascii=False))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("milvus")
    corpus = write(root / "c.jsonl", corpus_lines())
    topics = write(root / "t.tsv", "".join(f"{q}\t{t}\t{lang}\n" for q, t, lang in TOPICS))
    db = root / "m.db"
    result = run_cli("index", corpus, "-o", root / "ix", "--dense", "--sparse", "--backend", f"milvus:{db}", "-q")
    assert result.returncode == 0, result.stderr
    assert "mirrored into Milvus" in result.stdout and "k1 1.5, b 0.75" in result.stdout
    return root, corpus, topics, db


def search(root, topics, mode, *extra):
    out = root / f"{mode}-{'-'.join(e.strip('-') for e in extra) or 'x'}.run"
    result = run_cli("search", root / "ix", "--topics", topics, "--mode", mode, "--k", "10", "-o", out, "-q", *extra)
    assert result.returncode == 0, result.stderr
    return Run.from_trec(out)


def assert_same(local: Run, milvus: Run, exact: bool) -> None:
    assert set(local) == set(milvus)
    for q in local:
        if exact:
            assert list(local.ranking(q)) and [d for d, _ in local.ranking(q)] == [d for d, _ in milvus.ranking(q)]
            for d, s in local.ranking(q):
                assert milvus[q][d] == pytest.approx(s, rel=1e-4, abs=1e-5)
        else:
            top_local, top_milvus = set(local[q]), set(milvus[q])
            assert len(top_local & top_milvus) >= 9
            for d in top_local & top_milvus:
                assert milvus[q][d] == pytest.approx(local[q][d], abs=1e-3)


def test_manifest_records_the_backend(built):
    root, _, _, db = built
    manifest = json.loads((root / "ix" / "manifest.json").read_text())
    backend = manifest["backend"]
    assert backend["kind"] == "milvus" and backend["uri"] == str(db)
    assert manifest["bm25"] == {"k1": 1.5, "b": 0.75} and backend["dense"] == "raw" and backend["sparse"]


@pytest.mark.parametrize("mode,exact", [("bm25", True), ("sparse", True), ("dense", False), ("hybrid", False)])
def test_every_mode_gives_the_local_run(built, mode, exact):
    root, _, topics, _ = built
    assert_same(search(root, topics, mode, "--backend", "local"), search(root, topics, mode), exact)


def test_language_filter(built):
    root, _, topics, _ = built
    for mode in ("bm25", "dense"):
        milvus = search(root, topics, mode, "--doc-langs", "de,sw")
        local = search(root, topics, mode, "--doc-langs", "de,sw", "--backend", "local")
        assert all(not d.startswith("en-") for q in milvus for d in milvus[q])
        assert_same(local, milvus, exact=mode == "bm25")


def test_a_repeated_build_mirrors_nothing_twice(built):
    root, corpus, _, db = built
    result = run_cli("index", corpus, "-o", root / "ix", "-q")  # the manifest's backend, no new documents
    assert result.returncode == 0, result.stderr
    code = ("from babelir.index.milvus import open_collection; import json, sys;"
            "m = json.load(open(sys.argv[2]))['backend']; c, _ = open_collection(m);"
            "print(c.query(m['collection'], filter='id != \"\"', "
            "output_fields=['count(*)'])[0]['count(*)'])")
    count = subprocess.run([sys.executable, "-c", code, str(db), str(root / "ix" / "manifest.json")],
                           capture_output=True, text=True, timeout=120)
    assert count.returncode == 0, count.stderr
    assert int(count.stdout.split()[-1]) == 3 * 14


def test_bad_backend_values_are_one_line_errors(tmp_path, built):
    _, corpus, _, _ = built
    for value in ("milvus:foo.txt", "milvus://nohost", "elastic://x:9200"):
        result = run_cli("index", corpus, "-o", tmp_path / "bad", "--backend", value, "-q")
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "--backend" in result.stderr
    result = run_cli("index", corpus, "-o", tmp_path / "bad", "--backend", f"milvus:{tmp_path / 'x.db'}",
                     "--k1", "0.9", "-q")
    assert result.returncode == 2 and "k1 1.5, b 0.75" in result.stderr and "Traceback" not in result.stderr


def test_the_language_correction_through_milvus(tmp_path, monkeypatch):
    """With the correction on (few documents per language here, so the threshold is lowered),
    Milvus holds corrected vectors and dense search standardises per document language."""
    import babelir.index.dense as dense
    from babelir.index.build import build_index
    from babelir.index.core import Index
    from babelir.index.milvus import parse_backend
    from babelir.retrieve.stage import Dense
    from babelir.types import Query

    monkeypatch.setattr(dense, "MIN_DOCS_FOR_MEAN", 10)
    corpus = write(tmp_path / "c.jsonl", corpus_lines())
    build_index(corpus, tmp_path / "ix", dense=True, quiet=True, encoder=_encoder(),
                backend=parse_backend(f"milvus:{tmp_path / 'm.db'}"))
    queries = [Query(q, t, lang) for q, t, lang in TOPICS]
    with Index.open(tmp_path / "ix") as index:
        assert index.manifest["backend"]["dense"] == "corrected"
        milvus = Dense(index).retrieve(queries, k=10)
        index.search_backend = "local"
        local = Dense(index, exact=True).retrieve(queries, k=10)
    assert_same(local, milvus, exact=False)


def _encoder():
    from babelir.encode.base import get_encoder

    return get_encoder()


def test_import_babelir_stays_light():
    code = "import sys, babelir, babelir.index.milvus, babelir.retrieve.milvus; print('pymilvus' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_serve_searches_through_milvus(tmp_path):
    """The service's searches (babelir serve) go through Milvus and give the local lists."""
    from babelir.index.build import build_index
    from babelir.index.milvus import parse_backend
    from babelir.serve.service import IndexService

    corpus = write(tmp_path / "c.jsonl", corpus_lines(n=8))
    build_index(corpus, tmp_path / "ix", sparse=True, quiet=True, encoder=_encoder(),
                backend=parse_backend(f"milvus:{tmp_path / 'm.db'}"))
    service = IndexService("t", tmp_path / "ix", writable=True)
    try:
        for mode in ("bm25", "sparse"):
            milvus = service.search("shule maktaba mto", "sw", mode, 10, None)
            service.index.search_backend = "local"
            local = service.search("shule maktaba mto", "sw", mode, 10, None)
            service.index.search_backend = None
            assert milvus and [d for d, _ in milvus] == [d for d, _ in local]
            assert [s for _, s in milvus] == pytest.approx([s for _, s in local], rel=1e-4)
        top = service.search("shule maktaba mto", "sw", "bm25", 10, None)[0][0]
        assert service.delete([top]) == 1  # DELETE /v1/docs/NAME/ID: reaches Milvus at once
        after = service.search("shule maktaba mto", "sw", "bm25", 10, None)
        assert after and top not in [d for d, _ in after] and all(service.documents([d for d, _ in after]))
    finally:
        service.close()


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory):
    """A Milvus server on 127.0.0.1: milvus-lite's gRPC server (``milvus-lite server``), which
    babelir reaches as any Milvus server, through ``milvus://HOST:PORT``. Its engine is
    milvus-lite's, which scores BM25 with k1 1.5, b 0.75 whatever the index asks (a Milvus server
    takes the index's): the indexes it serves here are built with those."""
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    data = tmp_path_factory.mktemp("milvus-server")
    server = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data / "d"),
                               "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"milvus-lite server did not start: {server.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
        yield f"milvus://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)
        server.stderr.close()


def test_a_milvus_server_over_tcp_serves_every_mode(tmp_path, milvus_server):
    corpus = write(tmp_path / "c.jsonl", corpus_lines())
    topics = write(tmp_path / "t.tsv", "".join(f"{q}\t{t}\t{lang}\n" for q, t, lang in TOPICS))
    result = run_cli("index", corpus, "-o", tmp_path / "ix", "--dense", "--sparse", "--backend", milvus_server,
                     "--k1", "1.5", "--b", "0.75", "-q")
    assert result.returncode == 0, result.stderr
    assert f"mirrored into Milvus {milvus_server.replace('milvus://', 'http://')}" in result.stdout
    backend = json.loads((tmp_path / "ix" / "manifest.json").read_text())["backend"]
    assert backend["kind"] == "milvus" and backend["uri"] == milvus_server.replace("milvus://", "http://")
    for mode, exact in (("bm25", True), ("sparse", True), ("dense", False), ("hybrid", False)):
        assert_same(search(tmp_path, topics, mode, "--backend", "local"), search(tmp_path, topics, mode), exact)
    filtered = search(tmp_path, topics, "bm25", "--doc-langs", "de,sw")
    assert filtered and all(not d.startswith("en-") for q in filtered for d in filtered[q])
