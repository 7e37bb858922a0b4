"""The command line: thin commands, clear errors (exit 2, no traceback), real output."""

import json

import pytest

from tests.conftest import run_cli, write

CORPUS = "\n".join(json.dumps(r, ensure_ascii=False) for r in [
    {"id": "en1", "text": "The capital of Thailand is Bangkok.", "lang": "en"},
    {"id": "th1", "text": "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย", "lang": "th"},
    {"id": "zh1", "text": "北京是中华人民共和国的首都", "lang": "zh"},
    {"id": "en2", "text": "Paris is the capital of France.", "lang": "en"},
]) + "\n"


@pytest.fixture
def index(tmp_path):
    run_cli("index", write(tmp_path / "c.jsonl", CORPUS), "-o", tmp_path / "ix", "-q", check=True)
    return tmp_path / "ix"


BAD = {
    "malformed": ('{"id": "a", "text": "x"}\n{"id": "b", "text": \n', "bad.jsonl:2: malformed JSON"),
    "no id": ('{"id": "a", "text": "x"}\n{"text": "y"}\n', 'bad.jsonl:2: field "id": missing'),
    "no text": ('{"id": "a", "text": "x"}\n{"id": "b"}\n', 'bad.jsonl:2: field "text": missing'),
    "duplicate": ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "bad.jsonl:2: field \"id\": duplicate id 'a'"),
    "utf8": (b'{"id": "a", "text": "x"}\n{"id": "b", "text": "\xc3\x28"}\n', "bad.jsonl:2: invalid UTF-8"),
    "empty": ("", "bad.jsonl: file is empty"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_corpus_exits_2_naming_file_line_field(tmp_path, case):
    content, message = BAD[case]
    result = run_cli("index", write(tmp_path / "bad.jsonl", content), "-o", tmp_path / "ix", "-q")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_skip_bad_counts_in_the_summary(tmp_path):
    content = CORPUS + '{"id": "x"}\n{"broken\n' + '{"id": "en1", "text": "dup"}\n'
    result = run_cli("index", write(tmp_path / "c.jsonl", content), "-o", tmp_path / "ix", "--skip-bad", "-q")
    assert result.returncode == 0, result.stderr
    assert "indexed 4 documents" in result.stdout
    assert "skipped 3 bad records" in result.stdout
    assert "c.jsonl:5" in result.stdout


def test_single_query_prints_rank_id_score_lang_snippet(index):
    result = run_cli("search", index, "--query", "ประเทศไทย เมืองหลวง", "--k", "2", check=True)
    first = result.stdout.splitlines()[0].split()
    assert first[:2] == ["1", "th1"] and float(first[2]) > 0 and first[3] == "th"
    assert "กรุงเทพมหานคร" in result.stdout


def test_batch_search_eval_and_json(index, tmp_path):
    topics = write(tmp_path / "t.tsv", "en-1\tcapital of France\ten\nzh-1\t首都\tzh\nth-1\tเมืองหลวง\tth\n")
    qrels = write(tmp_path / "q.trec", "en-1 0 en2 1\nzh-1 0 zh1 1\nth-1 0 th1 1\n")
    run_cli("search", index, "--topics", topics, "-o", tmp_path / "r.run", "-q", check=True)
    lines = (tmp_path / "r.run").read_text().splitlines()
    assert lines[0].split()[:4] == ["en-1", "Q0", "en2", "1"]
    result = run_cli("eval", qrels, tmp_path / "r.run", "-m", "nDCG@10", "-m", "RR@10", "--by-lang", "--json", check=True)
    data = json.loads(result.stdout)
    assert data["all"]["RR@10"] == pytest.approx(1.0)
    assert set(data["by_lang"]) == {"en", "th", "zh"}
    table = run_cli("eval", qrels, tmp_path / "r.run", "-m", "nDCG@10", "--by-lang", check=True).stdout
    assert table.splitlines()[0].split() == ["lang", "queries", "nDCG@10"]


def test_compare_prints_tests_per_language(index, tmp_path):
    topics = write(tmp_path / "t.tsv", "en-1\tcapital of France\nen-2\tBangkok\nth-1\tเมืองหลวง\n")
    qrels = write(tmp_path / "q.trec", "en-1 0 en2 1\nen-2 0 en1 1\nth-1 0 th1 1\n")
    run_cli("search", index, "--topics", topics, "-o", tmp_path / "a.run", "-q", check=True)
    write(tmp_path / "b.run", "en-1 Q0 en1 1 1.0 b\nen-2 Q0 en1 1 1.0 b\n")
    result = run_cli("compare", qrels, tmp_path / "a.run", tmp_path / "b.run", "--json", "--resamples", "200", check=True)
    rows = json.loads(result.stdout)
    assert [r["group"] for r in rows] == ["all", "en", "th"]
    assert rows[2]["mean_a"] == pytest.approx(1.0) and rows[2]["mean_b"] == 0.0
    assert rows[1]["p_ttest_holm"] is not None


def test_missing_index_and_missing_output_are_user_errors(tmp_path):
    result = run_cli("search", tmp_path / "nope", "--query", "x")
    assert result.returncode == 2 and "no such index directory" in result.stderr and "Traceback" not in result.stderr
    topics = write(tmp_path / "t.tsv", "q\tx\n")
    LEX = tmp_path / "ix"
    run_cli("index", write(tmp_path / "c.jsonl", CORPUS), "-o", LEX, "-q", check=True)
    result = run_cli("search", LEX, "--topics", topics)
    assert result.returncode == 2 and "needs -o RUN" in result.stderr


def test_quickstart_indexes_the_demo_and_prints_a_table(tmp_path):
    result = run_cli("quickstart", "-o", tmp_path / "qs", check=True)
    out = result.stdout
    assert "240 passages in 12 languages" in out
    monolingual = out.split("monolingual queries")[1].split("cross-lingual queries")[0]
    rows = {line.split()[0]: line.split() for line in monolingual.splitlines() if line[:3].strip().isalpha()}
    assert rows["lang"][2:5] == ["nDCG@10", "bm25", "nDCG@10"]
    for lang in ("en", "es", "de", "fr", "ru", "ar", "hi", "th", "zh", "ja", "ko", "sw"):
        assert rows[lang][1] == "5"
    assert rows["lang"][3:10:2] == ["bm25", "dense", "sparse", "hybrid"]
    bm25, dense, sparse, hybrid = (float(v) for v in rows["all"][2:6])
    assert min(bm25, dense, sparse, hybrid) >= 0.8
    crossing = out.split("cross-lingual queries")[1]
    all_row = next(line.split() for line in crossing.splitlines() if line.startswith("all"))
    assert float(all_row[3]) > float(all_row[2])  # dense beats BM25 across languages
    assert float(all_row[5]) >= float(all_row[3])  # the default hybrid does not lose to dense across languages
    assert "babelir search" in out
    for mode in ("bm25", "dense", "sparse", "hybrid"):
        assert (tmp_path / "qs" / f"{mode}.run").exists()
    again = run_cli("quickstart", "-o", tmp_path / "qs", check=True).stdout  # reuses what is there
    assert "indexed 0 documents" in again and "(240 in the index)" in again
    def tables(text):
        return text.split("monolingual queries")[1].split("A Thai query")[0]

    assert tables(again) == tables(out)


def test_lemmatising_can_be_turned_off_and_only_for_the_language_aware_analyzer(tmp_path):
    assert run_cli("analyze", "--lang", "en", "the children", check=True).stdout.split() == [
        "the", "child", "~▁the", "~▁children"]
    assert run_cli("analyze", "--lang", "en", "--no-pieces", "the children", check=True).stdout.split() == [
        "the", "child"]
    plain = run_cli("analyze", "--lang", "en", "--no-lemmatize", "--no-pieces", "the children", check=True)
    assert plain.stdout.split() == ["the", "children"]
    result = run_cli("index", write(tmp_path / "c.jsonl", CORPUS), "-o", tmp_path / "ix", "-q",
                     "--analyzer", "script-aware", "--no-lemmatize")
    assert result.returncode == 2 and "--no-lemmatize and --no-pieces apply to the language-aware analyzer" in result.stderr
    run_cli("index", write(tmp_path / "c.jsonl", CORPUS), "-o", tmp_path / "plain", "-q", "--no-lemmatize", check=True)
    manifest = json.loads((tmp_path / "plain" / "manifest.json").read_text())
    assert manifest["analyzer"]["lemmatize"] is False and manifest["analyzer"]["pieces"] is True
    run_cli("index", write(tmp_path / "c.jsonl", CORPUS), "-o", tmp_path / "words", "-q", "--no-pieces", check=True)
    assert json.loads((tmp_path / "words" / "manifest.json").read_text())["analyzer"]["pieces"] is False
