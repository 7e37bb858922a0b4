"""Reproduction matrices: conditions as data (``repro/<name>.yaml``), run and graded OK / FAIL.

A matrix names its dataset, its measures, a tolerance, the options of ``babelir index`` and, per
condition, its search as a pipeline spec (``pipeline: "hybrid(bm25,dense,fusion=linear) >> group"``,
:mod:`babelir.retrieve.pipeline`, the spec ``babelir search --pipeline`` and ``babelir tune`` take),
further options of ``babelir search`` (``search: [--k, "1000"]``; ``search: [--mode, …]`` without a
``pipeline`` is still read, as the shorthand it is on the command line), optionally its own measures,
and the expected numbers per language (or ``pool``). ``run_matrix``
prepares each language's collection and index once (under ``work``; reused when present), runs every
condition's search through the real command line, evaluates it with ir_measures, and compares each
number with the expected one.
"""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babelir.errors import BabelirError

COLLECTION_VERSION = 2  # bump when the collections written from the source data change


@dataclass
class Row:
    """One graded row: a condition on one language."""

    condition: str
    lang: str
    command: str
    measured: dict[str, float]
    expected: dict[str, float]
    tolerance: float

    @property
    def ok(self) -> bool:
        return all(abs(self.measured[m] - v) <= self.tolerance for m, v in self.expected.items())


def load_matrix(path: str | Path) -> dict[str, Any]:
    """Read and check a matrix file."""
    import yaml

    path = Path(path)
    try:
        matrix = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BabelirError(f"{path}: no such reproduction matrix") from None
    except yaml.YAMLError as exc:
        raise BabelirError(f"{path}: not valid YAML ({exc})") from None
    for key in ("dataset", "measures", "tolerance", "conditions"):
        if key not in matrix:
            raise BabelirError(f"{path}: the matrix has no {key!r}")
    for name, condition in matrix["conditions"].items():
        if not isinstance(condition, dict) or "expected" not in condition:
            raise BabelirError(f"{path}: condition {name!r} has no 'expected'")
        search_args(condition, f"{path}: condition {name!r}")
    return matrix


def search_args(condition: dict[str, Any], where: str = "a condition") -> list[str]:
    """The ``babelir search`` options of a condition: ``--pipeline SPEC`` from ``pipeline``, then its
    ``search`` options. Raises BabelirError (naming ``where``) for a pipeline that is not one line
    of text, ``search`` that is not a list, or both ``pipeline`` and ``--mode``."""
    extra = condition.get("search", [])
    if not isinstance(extra, list):
        raise BabelirError(f"{where}: 'search' is a list of babelir search options, not {extra!r}")
    extra = [str(option) for option in extra]
    if "pipeline" not in condition:
        return extra
    spec = condition["pipeline"]
    if not isinstance(spec, str) or not spec.strip() or "\n" in spec.strip():
        raise BabelirError(f"{where}: 'pipeline' is a pipeline spec on one line (e.g. bm25 >> group), not {spec!r}")
    if "--mode" in extra or "--pipeline" in extra:
        raise BabelirError(f"{where}: give the search as 'pipeline' or as '--mode' in 'search', not both")
    return ["--pipeline", spec.strip(), *extra]


def _prepare(matrix: dict[str, Any], data: Path, work: Path, lang: str, signature: str, echo=print) -> Path:
    """The language's collection written as BEIR + topics + qrels, and its index; reused when present
    and built with ``signature`` (:func:`_index_signature`)."""
    from babelir.cli import main as cli
    from babelir.io.xquadr import load_language, load_xquadr

    collection_dir = work / lang
    index, unfinished = work / f"{lang}.index", work / f"{lang}.index.unfinished"
    stamp = work / f"{lang}.index.built-with.json"
    if index.exists() and not unfinished.exists() and (not stamp.exists() or stamp.read_text() != signature):
        echo(f"{lang}: the cached index was built with other options or another analysis; rebuilding it")
        shutil.rmtree(index)
        shutil.rmtree(collection_dir, ignore_errors=True)  # written by an older reader, perhaps
    if not (collection_dir / "qrels.trec").exists():
        collection = load_xquadr(data)[1] if lang == "pool" else load_language(data, lang)[0]
        collection.write(collection_dir)
    if not (index / "manifest.json").exists() or unfinished.exists():
        unfinished.touch()  # `babelir index` resumes an interrupted build; the marker says to call it
        if cli(["index", str(collection_dir), "-o", str(index), "-q", *matrix.get("index", [])]) != 0:
            raise BabelirError(f"indexing {lang} failed")
        stamp.write_text(signature)
        unfinished.unlink()
    return collection_dir


def _index_signature(matrix: dict[str, Any]) -> str:
    """What a cached index must have been built with: the matrix's index options, the default
    analysis of this babelir (a newer analyzer version makes the cached indexes stale) and the
    version of the collection written from XQuAD-R (2: sentences carry their paragraph as group)."""
    from babelir.text.language_aware import LanguageAwareAnalyzer

    return json.dumps({"index": matrix.get("index", []), "analyzer": LanguageAwareAnalyzer(_notify=False).config(),
                       "collection": COLLECTION_VERSION}, sort_keys=True)


def run_matrix(matrix: dict[str, Any], data: str | Path, work: str | Path, langs: list[str] | None = None,
               conditions: list[str] | None = None, echo=print) -> list[Row]:
    """Run the chosen conditions and languages of ``matrix``; returns the graded rows."""
    from babelir.cli import main as cli
    from babelir.evaluate.metrics import evaluate
    from babelir.io.qrels import read_qrels
    from babelir.run import Run

    data, work = Path(data), Path(work)
    work.mkdir(parents=True, exist_ok=True)
    rows, signature = [], _index_signature(matrix)
    for name, condition in matrix["conditions"].items():
        if conditions and name not in conditions:
            continue
        for lang, expected in condition["expected"].items():
            if langs and lang not in langs:
                continue
            collection = _prepare(matrix, data, work, lang, signature, echo)
            run_path = work / f"{lang}.{name}.run"
            args = ["search", str(work / f"{lang}.index"), "--topics", str(collection / "topics.tsv"),
                    "-o", str(run_path), "-q", *search_args(condition, name)]
            if cli(args) != 0:
                raise BabelirError(f"{name} on {lang} failed: babelir {shlex.join(args)}")
            measures = condition.get("measures", matrix["measures"])
            result = evaluate(Run.from_trec(run_path), read_qrels(collection / "qrels.trec"), measures)
            row = Row(name, lang, "babelir " + shlex.join(args), result.all, expected, matrix["tolerance"])
            echo(f"{'OK  ' if row.ok else 'FAIL'} {name:14s} {lang:5s} " +
                 " ".join(f"{m} {row.measured[m]:.4f} (expected {v:.4f})" for m, v in expected.items()))
            rows.append(row)
    return rows
