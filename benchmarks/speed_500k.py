"""Speed and memory of BM25 at scale: babelir vs bm25s, in one run, on the same passages.

    python -m benchmarks.speed_500k [--passages 500000] [--queries 1000] [--data ../shared/data/xquad-r]

The corpus is built from the XQuAD-R sentences of all 11 languages, sampled and recombined: each
passage joins 3 random sentences of one language (seeded, so every run sees the same corpus). The
queries are XQuAD-R questions sampled over all languages, with their language given. Each system
runs in its own subprocess, so its peak memory (max RSS) is its own. Analysis is included in the
index and search times of both. babelir's index size is also given without its document store
(``docs.sqlite``: texts, metadata, term counts), which bm25s does not have. Also printed: each
analyzer's throughput in tokens/s.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared/data/xquad-r"


def build_inputs(data: Path, passages: int, queries: int, out: Path, seed: int = 13) -> None:
    """Write corpus.jsonl and topics.tsv for the benchmark under ``out``."""
    from babelir.io.topics import write_topics_tsv
    from babelir.io.xquadr import XQUADR_LANGS, load_language

    rng = random.Random(seed)
    sentences, questions = {}, []
    for lang in XQUADR_LANGS:
        collection, _ = load_language(data, lang)
        sentences[lang] = [d.text for d in collection.docs]
        questions.extend(collection.queries)
    langs = list(XQUADR_LANGS)
    with open(out / "corpus.jsonl", "w", encoding="utf-8") as handle:
        for i in range(passages):
            lang = langs[i % len(langs)]
            text = " ".join(rng.choice(sentences[lang]) for _ in range(3))
            handle.write(json.dumps({"id": f"p{i}", "text": text, "lang": lang}, ensure_ascii=False) + "\n")
    write_topics_tsv(out / "topics.tsv", rng.sample(questions, queries))


def du(path: Path) -> int:
    """Bytes on disk of a file, or of every file under a directory."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_babelir(work: Path) -> dict:
    from babelir.index.build import build_index
    from babelir.io.topics import read_topics
    from babelir.retrieve.bm25 import BM25Retriever

    started = time.perf_counter()
    build_index(work / "corpus.jsonl", work / "babelir.index", quiet=True, batch_size=50_000)
    index_s = time.perf_counter() - started
    queries = read_topics(work / "topics.tsv")
    retriever = BM25Retriever(work / "babelir.index")
    started = time.perf_counter()
    retriever.retrieve(queries, k=100)
    search_s = time.perf_counter() - started
    return {"index_s": index_s, "search_s": search_s, "queries": len(queries), "size": du(work / "babelir.index"),
            "store": du(work / "babelir.index" / "docs.sqlite")}


def run_bm25s(work: Path) -> dict:
    import bm25s

    from babelir.io.topics import read_topics

    started = time.perf_counter()
    texts = [json.loads(line)["text"] for line in open(work / "corpus.jsonl", encoding="utf-8")]
    retriever = bm25s.BM25(k1=0.9, b=0.4, method="lucene")
    retriever.index(bm25s.tokenize(texts, stopwords=None, show_progress=False), show_progress=False)
    retriever.save(work / "bm25s.index")
    index_s = time.perf_counter() - started
    queries = read_topics(work / "topics.tsv")
    started = time.perf_counter()
    tokens = bm25s.tokenize([q.text for q in queries], stopwords=None, show_progress=False)
    retriever.retrieve(tokens, k=100, show_progress=False, n_threads=1)
    search_s = time.perf_counter() - started
    return {"index_s": index_s, "search_s": search_s, "queries": len(queries), "size": du(work / "bm25s.index")}


def analyzer_throughput(work: Path, sample: int = 20_000) -> dict[str, float]:
    """Tokens per second of each analyzer over the first ``sample`` passages."""
    import bm25s

    from babelir.text.analyzer import get_analyzer

    records = [json.loads(line) for _, line in zip(range(sample), open(work / "corpus.jsonl", encoding="utf-8"))]
    out = {}
    for name in ("language-aware", "script-aware"):
        analyzer = get_analyzer(name)
        analyzer.analyze(records[0]["text"], records[0]["lang"])  # load dictionaries first
        started = time.perf_counter()
        count = sum(len(analyzer.analyze(r["text"], r["lang"])) for r in records)
        out[f"babelir {name}"] = count / (time.perf_counter() - started)
    started = time.perf_counter()
    result = bm25s.tokenize([r["text"] for r in records], stopwords=None, show_progress=False, return_ids=True)
    count = sum(len(ids) for ids in result.ids)
    out["bm25s tokenize"] = count / (time.perf_counter() - started)
    return out


def child(system: str, work: Path) -> None:
    result = {"babelir": run_babelir, "bm25s": run_bm25s, "analyzers": analyzer_throughput}[system](work)
    result_with_rss = {"result": result, "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    print("RESULT " + json.dumps(result_with_rss))


def spawn(system: str, work: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.speed_500k", "--child", system, "--work", str(work)],
                          capture_output=True, text=True)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"{system} failed:\n{proc.stderr[-3000:]}")
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=500_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, Path(args.work))
        return
    from babelir.evaluate.table import format_table

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build_inputs(Path(args.data), args.passages, args.queries, work)
        print(f"corpus: {args.passages} passages ({du(work / 'corpus.jsonl') / 1e6:.0f} MB), {args.queries} queries", flush=True)
        runs = {name: spawn(name, work) for name in ("babelir", "bm25s")}
        tokens = spawn("analyzers", work)["result"]
    a, b = runs["babelir"]["result"], runs["bm25s"]["result"]
    qps = {name: r["result"]["queries"] / r["result"]["search_s"] for name, r in runs.items()}
    rows = [
        ["index time (s)", f"{a['index_s']:.1f}", f"{b['index_s']:.1f}", f"{a['index_s'] / b['index_s']:.2f}"],
        ["index size (MB)", f"{a['size'] / 1e6:.0f}", f"{b['size'] / 1e6:.0f}", f"{a['size'] / b['size']:.2f}"],
        ["index size, store apart (MB)", f"{(a['size'] - a['store']) / 1e6:.0f} + {a['store'] / 1e6:.0f}",
         f"{b['size'] / 1e6:.0f}", f"{(a['size'] - a['store']) / b['size']:.2f}"],
        ["batch search (queries/s)", f"{qps['babelir']:.1f}", f"{qps['bm25s']:.1f}", f"{qps['babelir'] / qps['bm25s']:.2f}"],
        ["peak memory (MB)", f"{runs['babelir']['max_rss_kb'] / 1024:.0f}", f"{runs['bm25s']['max_rss_kb'] / 1024:.0f}",
         f"{runs['babelir']['max_rss_kb'] / runs['bm25s']['max_rss_kb']:.2f}"],
    ]
    print(format_table(["measure", "babelir", "bm25s", "babelir / bm25s"], rows))
    print()
    print(format_table(["analyzer", "tokens/s"], [[name, f"{value:,.0f}"] for name, value in tokens.items()]))


if __name__ == "__main__":
    main()
