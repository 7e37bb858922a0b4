"""Reproduction matrices: grading, the matrix format, and a run of the cheap rows through the CLI."""

import pytest

from babelir.errors import BabelirError
from babelir.repro import Row, load_matrix
from tests.conftest import REPO, run_cli, write


def test_grading_uses_the_tolerance():
    assert Row("bm25", "en", "cmd", {"nDCG@10": 0.8312}, {"nDCG@10": 0.8321}, 0.002).ok
    assert not Row("bm25", "en", "cmd", {"nDCG@10": 0.8282}, {"nDCG@10": 0.8321}, 0.002).ok


def test_the_shipped_matrix_is_complete():
    matrix = load_matrix(REPO / "repro" / "xquad-r.yaml")
    langs = {"ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"}
    for name in ("bm25", "dense", "sparse", "hybrid", "bm25-paragraph", "dense-paragraph", "sparse-paragraph",
                 "hybrid-paragraph", "hybrid-zscore3-paragraph"):
        assert set(matrix["conditions"][name]["expected"]) == langs, name
    assert "pool" in matrix["conditions"]["pool-dense"]["expected"]


def test_bad_matrix_files(tmp_path):
    with pytest.raises(BabelirError, match="no such"):
        load_matrix(tmp_path / "nope.yaml")
    with pytest.raises(BabelirError, match="no 'conditions'"):
        load_matrix(write(tmp_path / "m.yaml", "dataset: x\nmeasures: [AP]\ntolerance: 0.1\n"))


def test_repro_runs_and_grades_through_the_cli(tmp_path, xquadr_dir):
    # the BM25 rows need no vectors: index without them, so this stays fast
    text = (REPO / "repro" / "xquad-r.yaml").read_text().replace("index: [--dense, --sparse]", "index: []")
    lexical = write(tmp_path / "lexical.yaml", text)
    ok = run_cli("repro", lexical, "--data", xquadr_dir, "--work", tmp_path / "w", "--langs", "th", "zh",
                 "--conditions", "bm25", "bm25-paragraph")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "4 OK, 0 FAIL" in ok.stdout  # sentences alone, and with their paragraphs' evidence
    wrong = write(tmp_path / "wrong.yaml", text.replace("th: {nDCG@10: 0.8336", "th: {nDCG@10: 0.5"))
    failed = run_cli("repro", wrong, "--data", xquadr_dir, "--work", tmp_path / "w", "--langs", "th",
                     "--conditions", "bm25")
    assert failed.returncode == 1 and "FAIL" in failed.stdout
    # an index cached by an older babelir (another analysis) is rebuilt, not silently reused
    stamp = tmp_path / "w" / "th.index.built-with.json"
    stamp.write_text(stamp.read_text().replace('"version": 7', '"version": 5'))
    again = run_cli("repro", lexical, "--data", xquadr_dir, "--work", tmp_path / "w", "--langs", "th",
                    "--conditions", "bm25")
    assert again.returncode == 0 and "th: the cached index was built with" in again.stdout
    assert '"version": 7' in stamp.read_text()


@pytest.mark.full
def test_the_whole_matrix_reproduces(tmp_path, xquadr_dir):
    """Every row of repro/xquad-r.yaml (encodes ~40k texts without a warm cache: `make test-full`)."""
    result = run_cli("repro", "xquad-r", "--data", xquadr_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_a_condition_gives_its_search_as_a_pipeline_spec_or_the_mode_shorthand(tmp_path):
    from babelir.repro import search_args

    matrix = load_matrix(REPO / "repro" / "xquad-r.yaml")
    assert search_args(matrix["conditions"]["bm25-paragraph"]) == ["--pipeline", "bm25 >> group"]
    assert search_args(matrix["conditions"]["pool-dense"]) == ["--pipeline", "dense >> group", "--k", "1000"]
    assert all("pipeline" in c for c in matrix["conditions"].values())
    assert search_args({"search": ["--mode", "bm25", "--group-weight", 0]}) == ["--mode", "bm25", "--group-weight", "0"]
    head = "dataset: x\nmeasures: [AP]\ntolerance: 0.1\nconditions:\n  c:\n    expected: {en: {AP: 0.5}}\n"
    for body, message in (("    pipeline: bm25\n    search: [--mode, bm25]\n", "not both"),
                          ("    pipeline: [bm25]\n", "one line"), ("    search: --mode bm25\n", "is a list")):
        with pytest.raises(BabelirError, match=f"condition 'c': .*{message}"):
            load_matrix(write(tmp_path / "m.yaml", head + body))
