"""Index builds on Ray (issue 21, part 2): workers analyse and encode, the driver commits in order.

Each test compares an index built with ``ray=`` against the local build of the same corpus: the
same documents (id, language, title, text), the same terms with the same counts per document,
dense vectors equal within float16 and learned sparse vectors equal. The Ray cluster is local
(``ray.init(num_cpus=2, include_dashboard=False)``, 127.0.0.1), started once for the module.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys

import numpy as np
import pytest

from babelir.errors import BabelirError
from babelir.index.build import build_index
from babelir.index.core import Index

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.timeout(300)

from babelir.index.ray_build import RayOptions  # noqa: E402

WORDS = {
    "en": "river mountain city music science history running children library garden winter bridge".split(),
    "de": "Fluss Berg Stadt Musik Wissenschaft Geschichte laufen Kinder Bibliothek Garten Winter Brücke".split(),
    "zh": "河流 山脉 城市 音乐 科学 历史 跑步 孩子 图书馆 花园 冬天 桥梁".split(),
}
COUNT, BATCH = 120, 20  # 6 batches


def write_corpus(path, count: int = COUNT, seed: int = 7):
    """``count`` short documents in English, German and Chinese; every fifth has no language (detected)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        for i in range(count):
            lang = ("en", "de", "zh")[i % 3]
            text = ("" if lang == "zh" else " ").join(rng.choice(WORDS[lang]) for _ in range(rng.randint(4, 14)))
            record = {"id": f"d{i:04d}", "text": text, "title": f"T{i}" if i % 7 == 0 else ""}
            if i % 5:
                record["lang"] = lang
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def indexed_terms(index) -> dict[str, dict[str, int]]:
    """id -> {term: count}, read from the postings segments (what BM25 searches)."""
    out: dict[str, dict[str, int]] = {}
    for segment in index.lexical().segments:
        ids = [i.decode() for i in segment.ids()]
        offsets, docs, tfs = (np.asarray(a) for a in (segment.offsets, segment.docs, segment.tfs))
        for t, term in enumerate(segment.terms()):
            for row, tf in zip(docs[offsets[t]:offsets[t + 1]].tolist(), tfs[offsets[t]:offsets[t + 1]].tolist()):
                out.setdefault(ids[row], {})[term.decode()] = tf
    return out


def snapshot(directory) -> dict:
    """What must be equal between two builds: per id, (lang, title, text, terms with counts), and
    the dense (float16) and sparse vectors."""
    from babelir.index.sparse import SparseVectors

    with Index.open(directory) as index:
        ids = sorted(index.ids())
        docs, terms = index.documents(ids), indexed_terms(index)
        out = {"docs": {i: (*docs[i], terms[i]) for i in ids}, "dense": {}, "sparse": {}}
        if index.manifest.get("encoder"):
            vectors = index.dense_vectors()
            for docnos, rows in zip(vectors.docnos, vectors.vectors):
                out["dense"].update((vectors.ids[int(n)], np.asarray(row)) for n, row in zip(docnos, rows))
        if index.manifest.get("sparse"):
            dim = index.encoder.sparse_dim
            sparse = SparseVectors(directory, index.store.chunks("sparse"), dim, index.store.id_map())
            rows = sparse.matrix.tocsr()
            for row, n in enumerate(sparse.docnos):
                out["sparse"][sparse.ids[int(n)]] = rows[row].toarray().ravel()
    return out


def assert_same(ray_dir, local_dir) -> None:
    got, want = snapshot(ray_dir), snapshot(local_dir)
    assert got["docs"].keys() == want["docs"].keys()
    differ = [i for i in want["docs"] if got["docs"][i] != want["docs"][i]]
    assert not differ, (differ[:3], [got["docs"][i] for i in differ[:1]], [want["docs"][i] for i in differ[:1]])
    for kind in ("dense", "sparse"):
        assert got[kind].keys() == want[kind].keys(), kind
        for doc_id, vector in want[kind].items():
            np.testing.assert_allclose(got[kind][doc_id].astype(np.float32), vector.astype(np.float32),
                                       atol=1e-3, err_msg=f"{kind} {doc_id}")


@pytest.fixture(scope="module")
def cluster():
    # address="local": a new instance even when `ray start` runs on this machine (plain ray.init() would join it)
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A corpus and its local build (BM25 + dense, e5-small), shared by the module's tests."""
    from babelir.encode.base import get_encoder

    root = tmp_path_factory.mktemp("raybuild")
    corpus = write_corpus(root / "corpus.jsonl")
    build_index(corpus, root / "local", batch_size=BATCH, encoder=get_encoder("e5-small"), dense=True, quiet=True)
    return corpus, root / "local"


def test_ray_build_equals_the_local_build(cluster, built, tmp_path):
    corpus, local = built
    from babelir.encode.base import get_encoder

    summary = build_index(corpus, tmp_path / "ray", batch_size=BATCH, encoder=get_encoder("e5-small"), dense=True,
                          quiet=True, ray=RayOptions(workers=2))
    assert summary.added == COUNT and summary.detected == COUNT // 5
    assert summary.ray["workers"] == 2 and summary.ray["committed"] == COUNT // BATCH and summary.ray["resubmitted"] == 0
    assert any("analysed and encoded on Ray" in line for line in summary.lines())
    assert_same(tmp_path / "ray", local)
    with Index.open(tmp_path / "ray") as a, Index.open(local) as b:  # and it searches the same
        for query, lang in (("river music", "en"), ("Berg Kinder", "de"), ("图书馆", "zh")):
            assert a.search(query, 10, lang) == b.search(query, 10, lang)


def test_killed_worker_loses_and_duplicates_nothing(cluster, built, tmp_path):
    """SIGKILL one actor's process after the first commit, while it encodes its next batches (its
    encoding cache off, so that it is busy): Ray restarts it, the driver resubmits the batches it
    held, and the index equals the local build."""
    corpus, local = built
    from babelir.encode.base import get_encoder

    killed = []

    def kill_one(committed, actors, pids):
        if committed == 1:
            os.kill(pids[1], signal.SIGKILL)
            killed.append(pids[1])

    summary = build_index(corpus, tmp_path / "ray", batch_size=BATCH, encoder=get_encoder("e5-small"), dense=True,
                          quiet=True, ray=RayOptions(workers=2, in_flight=3, after_commit=kill_one,
                                                     encoder_cache=False))
    assert killed and summary.ray["resubmitted"] >= 1, summary.ray
    assert f"{summary.ray['resubmitted']} resubmitted after a worker died" in "\n".join(summary.lines())
    assert summary.added == COUNT
    assert_same(tmp_path / "ray", local)
    with Index.open(tmp_path / "ray") as index:
        docnos = [row[0] for row in index.store.db.execute("SELECT docno FROM docs")]
        assert len(docnos) == len(set(docnos)) == index.doc_count == COUNT


def test_interrupted_ray_build_resumes(cluster, built, tmp_path):
    corpus, local = built

    def stop(committed, actors, pids):
        if committed == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, tmp_path / "ray", batch_size=BATCH, quiet=True, ray=RayOptions(after_commit=stop))
    with Index.open(tmp_path / "ray") as index:
        assert index.doc_count == 3 * BATCH
    summary = build_index(corpus, tmp_path / "ray", batch_size=BATCH, quiet=True, ray=RayOptions())
    assert summary.already_indexed == 3 * BATCH and summary.added == COUNT - 3 * BATCH
    got = snapshot(tmp_path / "ray")["docs"]
    want = snapshot(local)["docs"]
    assert got == want


def test_cli_ray_uses_the_running_ray(cluster, built, tmp_path, capsys):
    from tests.conftest import cli_in_process

    corpus, local = built
    code, out, err = cli_in_process(capsys, "index", corpus, "-o", tmp_path / "ray", "--batch-size", BATCH,
                                    "--ray", "auto", "--ray-workers", "1", "-q")
    assert code == 0, err
    assert "analysed and encoded on Ray (auto): 1 workers, 6 batches committed in order" in out
    assert snapshot(tmp_path / "ray")["docs"] == snapshot(local)["docs"]


def test_more_workers_than_the_cluster_has_is_refused(cluster, built, tmp_path):
    corpus, _ = built
    with pytest.raises(BabelirError, match=r"3 Ray workers of 1 CPUs and 0 GPUs need more than the cluster has \(2 CPUs"):
        build_index(corpus, tmp_path / "ray", batch_size=BATCH, quiet=True, ray=RayOptions(workers=3))
    assert not (tmp_path / "ray").exists()


def test_missing_ray_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    from tests.conftest import cli_in_process

    corpus = write_corpus(tmp_path / "c.jsonl", count=5)
    monkeypatch.setitem(sys.modules, "ray", None)
    code, out, err = cli_in_process(capsys, "index", corpus, "-o", tmp_path / "ix", "--ray")
    assert code == 2 and "pip install 'babelir[ray]'" in err and "Traceback" not in err
    assert not (tmp_path / "ix").exists()
    with pytest.raises(BabelirError, match=r"babelir\[ray\]"):
        build_index(corpus, tmp_path / "ix2", ray=RayOptions())


def test_ray_options_need_ray(tmp_path, capsys):
    from tests.conftest import cli_in_process

    corpus = write_corpus(tmp_path / "c.jsonl", count=5)
    code, out, err = cli_in_process(capsys, "index", corpus, "-o", tmp_path / "ix", "--ray-workers", "2")
    assert code == 2 and "--ray-workers and --ray-gpus apply with --ray" in err


def test_import_babelir_and_the_cli_parser_do_not_import_ray():
    code = ("import sys, babelir, babelir.index.build; from babelir.cli import build_parser; build_parser(); "
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.slow
def test_ray_build_with_dense_and_sparse_encoded_on_the_workers(cluster, tmp_path):
    """Vectors computed by the workers themselves (their encoding cache off): dense within float16
    of the local build, learned sparse equal."""
    from babelir.encode.base import get_encoder

    corpus = write_corpus(tmp_path / "corpus.jsonl", count=60, seed=3)
    encoder = get_encoder("e5-small", cache=False)
    build_index(corpus, tmp_path / "local", batch_size=20, encoder=encoder, dense=True, sparse=True, quiet=True)
    summary = build_index(corpus, tmp_path / "ray", batch_size=20, encoder=encoder, dense=True, sparse=True,
                          quiet=True, ray=RayOptions(workers=2, encoder_cache=False))
    assert summary.added == 60 and summary.ray["committed"] == 3
    assert_same(tmp_path / "ray", tmp_path / "local")
    assert len(snapshot(tmp_path / "ray")["sparse"]) == 60


@pytest.mark.slow
def test_cli_ray_starts_a_local_instance(tmp_path):
    """``--ray`` with no address starts a Ray instance of its own, in a fresh process, and stops it."""
    from tests.conftest import run_cli

    corpus = write_corpus(tmp_path / "c.jsonl", count=60)
    result = run_cli("index", corpus, "-o", tmp_path / "ix", "--batch-size", "20", "--ray", "-q", check=True)
    assert "analysed and encoded on Ray (local): " in result.stdout
    with Index.open(tmp_path / "ix") as index:
        assert index.doc_count == 60


def test_unreachable_ray_is_a_one_line_error_at_once(tmp_path):
    from tests.conftest import free_port, run_cli

    corpus = write_corpus(tmp_path / "c.jsonl", count=5)
    result = run_cli("index", corpus, "-o", tmp_path / "ix", "--ray", f"127.0.0.1:{free_port()}")
    assert result.returncode == 2 and "cannot reach Ray at 127.0.0.1:" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "ix").exists()


def test_auto_on_a_dead_cluster_and_ray_before_the_corpus_are_one_line_errors(tmp_path, monkeypatch):
    """--ray auto on the record of a cluster that is gone used to wait for ever inside ray.init."""
    from tests.conftest import free_port, run_cli

    corpus = write_corpus(tmp_path / "c.jsonl", count=5)
    monkeypatch.setenv("RAY_ADDRESS", f"127.0.0.1:{free_port()}")
    result = run_cli("index", corpus, "-o", tmp_path / "ix", "--ray", "auto")
    assert result.returncode == 2 and "(the cluster --ray auto found)" in result.stderr, result.stderr
    result = run_cli("index", "--ray", corpus, "-o", tmp_path / "ix")
    assert result.returncode == 2 and "is a file, not a Ray address: put --ray after the corpus" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "ix").exists()
