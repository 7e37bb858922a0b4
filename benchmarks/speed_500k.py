"""Speed and memory of BM25 at scale: babelir vs bm25s, in one run, on the same passages.

    python -m benchmarks.speed_500k [--passages 500000] [--queries 1000] [--add 1000] [--repeat 1]
                                    [--workers N] [--no-analyzers] [--systems babelir,bm25s]
                                    [--tmp DIR] [--data ../shared/data/xquad-r]

The corpus is built from the XQuAD-R sentences of all 11 languages, sampled and recombined: each
passage joins 3 random sentences of one language (seeded, so every run sees the same corpus). The
queries are XQuAD-R questions sampled over all languages, with their language given.

Each step runs in its own subprocess, so its peak memory (max RSS) is its own, and starts once the
writes of the step before are on disk (``os.sync``):

1. build: babelir (``build_index``, batches of 10,000, ``--workers`` analysis processes, default
   one per CPU) and bm25s (tokenize, index, save); analysis is included in both;
2. search: a fresh process opens the saved index (bm25s: ``BM25.load(mmap=True)``; babelir's
   segments are always memory-mapped) and runs the first query ("open": what it loads lazily,
   babelir's analyzers, counts there), then the other queries as one batch, k = 100, analysis
   included; its max RSS is the resident memory while searching;
3. with ``--add N``: a fresh babelir process opens the index, adds N new passages and commits
   (``Index.add``), then the same through ``build_index`` (what ``babelir index`` does).

With ``--repeat N``, each build and each search runs N times (the systems taking turns, every run
a fresh process and, for a build, a fresh index); the table gives each measure's median over the
runs and the ratio of the medians, and the spread of build time and search speed follows it.

babelir's index size is also given without its document store (``docs.sqlite``: texts and
metadata), which bm25s does not have. Also printed: each analyzer's throughput in tokens/s.
A step that fails (bm25s out of memory at millions of passages) is reported, not hidden; each
child's address space is capped at 90% of the machine's memory so that it fails with a
MemoryError rather than wake the kernel's OOM killer.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from babelir.cli.argtypes import non_negative_int, positive_int
from benchmarks import XQUADR

DATA = XQUADR
QUESTIONS = 11 * 1190  # XQuAD-R's questions: 1,190 in each of 11 languages
BYTES_PER_PASSAGE = 3_200  # on disk, measured at 5M: corpus 4.1 GB, babelir's index 9.2, bm25s's 2.3


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


def run_babelir(work: Path, workers: int | None = None) -> dict:
    from babelir.index.build import build_index

    started = time.perf_counter()
    build_index(work / "corpus.jsonl", work / "babelir.index", quiet=True, batch_size=10_000, workers=workers)
    return {"index_s": time.perf_counter() - started, "size": du(work / "babelir.index"),
            "store": du(work / "babelir.index" / "docs.sqlite")}


def search_babelir(work: Path) -> dict:
    from babelir.io.topics import read_topics
    from babelir.retrieve.bm25 import BM25Retriever

    queries = read_topics(work / "topics.tsv")
    started = time.perf_counter()
    retriever = BM25Retriever(work / "babelir.index")
    retriever.retrieve(queries[:1], k=100)  # opening: what the first query loads lazily is loaded now
    open_s = time.perf_counter() - started
    started = time.perf_counter()
    retriever.retrieve(queries[1:], k=100)
    return {"open_s": open_s, "search_s": time.perf_counter() - started, "queries": len(queries) - 1}


def add_babelir(work: Path, count: int) -> dict:
    """Seconds to add ``count`` new passages and commit: through Index.add, then build_index."""
    from babelir.index.build import build_index
    from babelir.index.core import Index
    from babelir.io.corpus import read_corpus
    from babelir.io.records import BadRecords

    docs = list(read_corpus(work / "extra1.jsonl", BadRecords()))
    started = time.perf_counter()
    with Index.open(work / "babelir.index", writable=True) as index:
        index.add(docs)
    api_s = time.perf_counter() - started
    started = time.perf_counter()
    build_index(work / "extra2.jsonl", work / "babelir.index", quiet=True)
    return {"api_s": api_s, "build_s": time.perf_counter() - started}


def run_bm25s(work: Path) -> dict:
    import bm25s

    started = time.perf_counter()
    texts = [json.loads(line)["text"] for line in open(work / "corpus.jsonl", encoding="utf-8")]
    retriever = bm25s.BM25(k1=0.9, b=0.4, method="lucene")
    retriever.index(bm25s.tokenize(texts, stopwords=None, show_progress=False), show_progress=False)
    retriever.save(work / "bm25s.index")
    return {"index_s": time.perf_counter() - started, "size": du(work / "bm25s.index")}


def search_bm25s(work: Path) -> dict:
    import bm25s

    from babelir.io.topics import read_topics

    queries = read_topics(work / "topics.tsv")
    texts = [q.text for q in queries]
    started = time.perf_counter()
    retriever = bm25s.BM25.load(work / "bm25s.index", mmap=True)
    retriever.retrieve(bm25s.tokenize(texts[:1], stopwords=None, show_progress=False), k=100, show_progress=False,
                       n_threads=1)
    open_s = time.perf_counter() - started
    started = time.perf_counter()
    tokens = bm25s.tokenize(texts[1:], stopwords=None, show_progress=False)
    retriever.retrieve(tokens, k=100, show_progress=False, n_threads=1)
    return {"open_s": open_s, "search_s": time.perf_counter() - started, "queries": len(queries) - 1}


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


def child(system: str, work: Path, workers: int | None, add: int) -> None:
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    resource.setrlimit(resource.RLIMIT_AS, (int(total * 0.9), int(total * 0.9)))
    steps = {"babelir": lambda: run_babelir(work, workers), "bm25s": lambda: run_bm25s(work),
             "babelir-search": lambda: search_babelir(work), "bm25s-search": lambda: search_bm25s(work),
             "babelir-add": lambda: add_babelir(work, add), "analyzers": lambda: analyzer_throughput(work)}
    result = steps[system]()
    result_with_rss = {"result": result, "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    print("RESULT " + json.dumps(result_with_rss))


def spawn(system: str, work: Path, workers: int | None = None, add: int = 0) -> dict | None:
    """The step's result and max RSS, or None when it failed (its error is printed)."""
    command = [sys.executable, "-m", "benchmarks.speed_500k", "--child", system, "--work", str(work), "--add", str(add)]
    if workers:
        command += ["--workers", str(workers)]
    os.sync()  # the writes of the step before reach the disk first: no step pays for another's writeback
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        print(f"{system} failed after {time.perf_counter() - started:.0f} s (exit {proc.returncode}): {tail}", flush=True)
        return None
    print(f"{system}: done in {time.perf_counter() - started:.0f} s", flush=True)
    return json.loads(line[len("RESULT "):])


def write_extra(work: Path, data: Path, count: int) -> None:
    """Two files of ``count`` new passages each (ids x1-…, x2-…), for the --add step."""
    build_inputs(data, count, 1, work / "x", seed=99)
    lines = (work / "x" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
    for n in (1, 2):
        with open(work / f"extra{n}.jsonl", "w", encoding="utf-8") as handle:
            for line in lines:
                record = json.loads(line)
                record["id"] = f"x{n}-{record['id']}"
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=positive_int, default=500_000)
    parser.add_argument("--queries", type=positive_int, default=1000, help="2 or more: the first opens the index, the rest are the batch")
    parser.add_argument("--add", type=non_negative_int, default=0, help="then add this many passages to babelir's index")
    parser.add_argument("--repeat", type=positive_int, default=1, help="run each build and search this many times (medians)")
    parser.add_argument("--workers", type=int, default=None, help="babelir's analysis processes (default: one per CPU)")
    parser.add_argument("--no-analyzers", action="store_true", help="skip the tokens/s table")
    parser.add_argument("--systems", default="babelir,bm25s", help="which to run (default both; e.g. babelir)")
    parser.add_argument("--tmp", default=None, help="where the corpus and indexes go (made if missing; default: the system's)")
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, Path(args.work), args.workers, args.add)
        return
    from babelir.evaluate.table import format_table

    if not (Path(args.data) / "en.json").is_file():
        parser.error(f"XQuAD-R not found in {args.data} (--data DIR: the folder of its 11 JSON files)")
    if args.queries < 2:
        parser.error(f"--queries {args.queries}: 2 or more (the first opens the index)")
    if args.queries > QUESTIONS:
        parser.error(f"--queries {args.queries}: XQuAD-R has {QUESTIONS} questions")
    if args.tmp:
        if Path(args.tmp).exists() and not Path(args.tmp).is_dir():
            parser.error(f"--tmp {args.tmp}: not a folder")
        try:
            Path(args.tmp).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            parser.error(f"--tmp {args.tmp}: {error.strerror}")
    need = args.passages * BYTES_PER_PASSAGE * (2 if args.add else 1)
    free = shutil.disk_usage(args.tmp or tempfile.gettempdir()).free
    if need > free:
        parser.error(f"--passages {args.passages} needs about {need / 1e9:.1f} GB on disk "
                     f"(corpus and both indexes); {free / 1e9:.1f} GB are free there (--tmp DIR)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # killed: the temporary folder still goes
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        work = Path(tmp)
        build_inputs(Path(args.data), args.passages, args.queries, work)
        if args.add:
            (work / "x").mkdir()
            write_extra(work, Path(args.data), args.add)
        print(f"corpus: {args.passages} passages ({du(work / 'corpus.jsonl') / 1e6:.0f} MB), {args.queries} queries",
              flush=True)
        systems = set(args.systems.split(","))
        runs, searches = {"babelir": [], "bm25s": []}, {"babelir": [], "bm25s": []}
        for _ in range(max(args.repeat, 1)):  # the systems take turns: a slow spell hits both
            for name in sorted(systems & set(runs)):
                shutil.rmtree(work / f"{name}.index", ignore_errors=True)  # a fresh build each time
                runs[name] += filter(None, [spawn(name, work, args.workers)])
        for _ in range(max(args.repeat, 1)):
            for name in sorted(systems & set(runs)):
                if runs[name]:
                    searches[name] += filter(None, [spawn(f"{name}-search", work)])
        runs["_ran"] = searches["_ran"] = systems
        added = spawn("babelir-add", work, add=args.add) if args.add and runs["babelir"] else None
        tokens = None if args.no_analyzers else spawn("analyzers", work)
    rows = [_row("index time (s)", runs, lambda r: r["result"]["index_s"], "{:.1f}"),
            _row("index size (MB)", runs, lambda r: r["result"]["size"] / 1e6, "{:.0f}")]
    if runs["babelir"]:
        a = runs["babelir"][-1]["result"]
        b = runs["bm25s"][-1]["result"]["size"] if runs["bm25s"] else None
        rows.append(["index size, store apart (MB)", f"{(a['size'] - a['store']) / 1e6:.0f} + {a['store'] / 1e6:.0f}",
                     f"{b / 1e6:.0f}" if b else "failed" if "bm25s" in systems else "not run",
                     f"{(a['size'] - a['store']) / b:.2f}" if b else "-"])
    rows += [_row("open + first query (s)", searches, lambda r: r["result"]["open_s"], "{:.2f}"),
             _row("batch search (queries/s)", searches, lambda r: r["result"]["queries"] / r["result"]["search_s"],
                  "{:.1f}"),
             _row("memory while searching (MB)", searches, lambda r: r["max_rss_kb"] / 1024, "{:.0f}"),
             _row("peak memory, building (MB)", runs, lambda r: r["max_rss_kb"] / 1024, "{:.0f}")]
    print(format_table(["measure", "babelir", "bm25s", "babelir / bm25s"], rows))
    if args.repeat > 1:
        print(f"\nmedians of {args.repeat} runs; spread (lowest-highest):")
        for label, steps, value, unit in (("index time", runs, lambda r: r["result"]["index_s"], "s"),
                                          ("batch search", searches,
                                           lambda r: r["result"]["queries"] / r["result"]["search_s"], "q/s")):
            spread = [f"{name} {min(map(value, steps[name])):.1f}-{max(map(value, steps[name])):.1f} {unit}"
                      for name in ("babelir", "bm25s") if steps.get(name)]
            print(f"  {label}: " + ", ".join(spread))
    if added:
        r = added["result"]
        print(f"\nadding {args.add} passages to the {args.passages}-passage index and committing: "
              f"{r['api_s']:.1f} s (Index.open + add), {r['build_s']:.1f} s (build_index, as `babelir index`)")
    if tokens:
        print()
        print(format_table(["analyzer", "tokens/s"], [[name, f"{value:,.0f}"] for name, value in tokens["result"].items()]))
    if "babelir" in systems and not (runs["babelir"] and searches["babelir"]):
        sys.exit(1)  # babelir failed (bm25s failing at millions of passages is a result, not an error)



def _row(label: str, runs: dict, value, fmt: str) -> list[str]:
    """One table row: each system's median over its runs, and the ratio (a step that failed or did
    not run shows so)."""
    a, b = (statistics.median(map(value, runs[name])) if runs.get(name) else None for name in ("babelir", "bm25s"))
    shown = [fmt.format(v) if v is not None else "failed" if name in runs.get("_ran", ()) else "not run"
             for name, v in (("babelir", a), ("bm25s", b))]
    return [label, *shown, f"{a / b:.2f}" if a is not None and b else "-"]


if __name__ == "__main__":
    main()
