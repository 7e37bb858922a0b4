"""Calibrated abstention on XQuAD-R: per language, NoMIRACL's hallucination and error rates of
"is anything relevant in the top 10?", calibrated on the train articles, measured on the test articles.

    python -m benchmarks.xquadr_abstain [--data ../shared/data/xquad-r] [--work /tmp/babelir-abstain]
                                        [--modes hybrid bm25 dense] [--langs ar th …] [--no-pool]
                                        [--plots docs/img]

It runs the commands a user runs, in one process each:

1. ``babelir datasets xquad-r DATA -o WORK/col --no-answer-split``: per language, the questions of
   every second paragraph of each article lose their paragraph from the collection (NoMIRACL's
   non-relevant subset); the others keep their answer (the relevant subset);
2. ``babelir index WORK/col/L/corpus.jsonl -o WORK/ix/L --dense`` (and the 11-language pool);
3. per mode: ``babelir abstain calibrate`` on ``topics.train.tsv`` / ``qrels.train.trec``, then
   ``babelir search --topics topics.test.tsv --abstain CAL`` (and the same on the train topics,
   for the baseline);
4. the rates from :func:`babelir.evaluate.abstention.abstention_report`.

Beside babelir's per-language calibration it prints the baseline the issue argues against: **one
threshold on the top score for every language**, chosen on all train queries together at the
balanced point (:func:`babelir.abstain.calibration.balanced_threshold`). A language is "within" when
both its rates are at most .15. The pool setting (all languages' sentences, each question relevant
to its answer in every language, so most relevant documents are in another language than the
query) is calibrated and measured the same way, per query language.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from babelir.abstain.calibration import balanced_threshold
from babelir.evaluate.abstention import Decision, abstention_report, read_abstain_file, tradeoff_curve
from babelir.io.qrels import read_qrels
from babelir.io.xquadr import XQUADR_LANGS
from babelir.run import Run

TARGET = 0.15


def babelir(*args: str) -> None:
    """Run a babelir command; stop the benchmark with its error if it fails."""
    done = subprocess.run([sys.executable, "-m", "babelir", *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"babelir {' '.join(args)} failed:\n{done.stderr}")


def prepare(data: Path, work: Path, names: list[str]) -> None:
    if not (work / "col" / "pool" / "subsets.tsv").exists():
        babelir("datasets", "xquad-r", str(data), "-o", str(work / "col"), "--no-answer-split")
    for name in names:
        if not (work / "ix" / name / "manifest.json").exists():
            babelir("index", str(work / "col" / name / "corpus.jsonl"), "-o", str(work / "ix" / name), "--dense", "-q")


def calibrate_and_search(work: Path, name: str, mode: str, parts=("train", "test"), reuse: bool = False) -> dict[str, Path]:
    """Calibrate ``mode`` on collection ``name``'s train part; search ``parts`` with it (``reuse``:
    keep the runs an earlier run of the benchmark left in ``work``)."""
    col, cal = work / "col" / name, work / "cal" / f"{name}.{mode}.json"
    runs = {part: work / "runs" / f"{name}.{mode}.{part}.run" for part in parts}
    if reuse and all(Path(f"{path}.abstain.json").exists() for path in runs.values()):
        return runs
    babelir("abstain", "calibrate", str(work / "ix" / name), "--topics", str(col / "topics.train.tsv"),
            "--qrels", str(col / "qrels.train.trec"), "--mode", mode, "-o", str(cal), "-q")
    for part in parts:
        babelir("search", str(work / "ix" / name), "--topics", str(col / f"topics.{part}.tsv"), "--mode", mode,
                "-o", str(runs[part]), "--k", "10", "--abstain", str(cal), "-q")
    return runs


def top_score_decisions(run: Run, decisions: dict[str, Decision], threshold: float) -> dict[str, Decision]:
    """The baseline: answerable when the run's top score reaches one threshold, in every language
    (p is the top score itself, not a probability: only the decisions are compared)."""
    out = {}
    for qid, d in decisions.items():
        top = max(run.get(qid, {}).values(), default=float("-inf"))
        out[qid] = Decision(d.lang, 1.0, top >= threshold, threshold)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "xquad-r"))
    parser.add_argument("--work", default="/tmp/babelir-abstain")
    parser.add_argument("--modes", nargs="+", default=["hybrid", "bm25", "dense"])
    parser.add_argument("--langs", nargs="+", default=list(XQUADR_LANGS))
    parser.add_argument("--no-pool", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep the calibrations and runs of an earlier run in --work")
    parser.add_argument("--plots", default=None, help="directory for the hybrid's trade-off and reliability PNGs")
    args = parser.parse_args(argv)
    work = Path(args.work)
    names = list(args.langs) + ([] if args.no_pool else ["pool"])
    started = time.perf_counter()
    prepare(Path(args.data), work, names)
    results = {}
    for mode in args.modes:
        merged = {"train": ({}, {}, []), "test": ({}, {}, [])}  # run scores, decisions, qrels
        for name in args.langs:
            runs = calibrate_and_search(work, name, mode, reuse=args.reuse)
            for part, path in runs.items():
                scores, decided, qrels = merged[part]
                run = Run.from_trec(path)
                scores.update({q: run[q] for q in run})
                decided.update(read_abstain_file(f"{path}.abstain.json").decisions)
                qrels.extend(read_qrels(work / "col" / name / f"qrels.{part}.trec"))
        train_run, train_decided, train_qrels = merged["train"]
        train_run = Run(train_run)
        relevant = {q.query_id for q in train_qrels if q.relevance > 0}
        tops = [max(train_run.get(q, {}).values(), default=-1e9) for q in train_decided]
        one = balanced_threshold(tops, [int(q in relevant) for q in train_decided])
        test_run, test_decided, test_qrels = Run(merged["test"][0]), merged["test"][1], merged["test"][2]
        results[mode] = (abstention_report(test_run, test_qrels, test_decided, 10),
                         abstention_report(test_run, test_qrels, top_score_decisions(test_run, test_decided, one), 10))
        if mode == "hybrid" and args.plots:
            from babelir.evaluate.abstention_plot import plot_tradeoff

            plot_tradeoff(tradeoff_curve(test_run, test_qrels, test_decided, 10), Path(args.plots) / "abstain-tradeoff.png", 10)
    pool = None
    if not args.no_pool:
        runs = calibrate_and_search(work, "pool", "hybrid", parts=("test",), reuse=args.reuse)
        pool = abstention_report(Run.from_trec(runs["test"]), read_qrels(work / "col" / "pool" / "qrels.test.trec"),
                                 read_abstain_file(f"{runs['test']}.abstain.json").decisions, 10)
    print_tables(results, pool, args.langs)
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    (work / "results.json").write_text(json.dumps({m: {"babelir": r[0], "one threshold": r[1]} for m, r in results.items()}
                                                  | {"pool": pool}, indent=1, default=float))
    return 0


def print_tables(results, pool, langs) -> None:
    def cell(row):
        return f"{row['hallucination']:.3f} / {row['error']:.3f}"

    modes = list(results)
    print("XQuAD-R test articles, top 10: hallucination rate / error rate per language "
          "(calibrated on the train articles)\n")
    header = f"{'lang':<5}" + "".join(f"  {m + ' (babelir)':<17}  {m + ' (one thr.)':<17}" for m in modes)
    print(header)
    for lang in list(langs) + ["all"]:
        line = f"{lang:<5}"
        for mode in modes:
            ours, base = results[mode][0].get(lang), results[mode][1].get(lang)
            line += f"  {cell(ours) if ours else '-':<17}  {cell(base) if base else '-':<17}"
        print(line)
    for mode in modes:
        ours, base = (sum(1 for lang in langs if max(r[lang]["hallucination"], r[lang]["error"]) <= TARGET)
                      for r in results[mode])
        print(f"{mode}: languages with both rates <= {TARGET}: babelir {ours}/{len(langs)}, one threshold {base}/{len(langs)}")
    if "hybrid" in results:
        from statsmodels.stats.proportion import proportion_confint

        print("\nhybrid (babelir): 95% Wilson intervals (statsmodels) of the rates, from 117 / 179 test questions per language")
        for lang in list(langs) + ["all"]:
            row = results["hybrid"][0][lang]
            spans = []
            for rate, n in ((row["hallucination"], row["without_answer"]), (row["error"], row["with_answer"])):
                low, high = proportion_confint(round(rate * n), n, method="wilson")
                spans.append(f"{rate:.3f} [{low:.3f}, {high:.3f}]")
            print(f"  {lang:<5} hallucination {spans[0]}   error {spans[1]}")
    if pool:
        print("\npool (11 languages' sentences, hybrid), per query language: hallucination / error")
        for lang, row in pool.items():
            print(f"  {lang:<5} {cell(row)}   (smECE {row['smece']:.3f}, Brier {row['brier']:.3f})")


if __name__ == "__main__":
    sys.exit(main())
