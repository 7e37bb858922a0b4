"""Model pre-judgments: label a project's pairs with a model, stored as a marked model assessor.

``prejudge(project_dir, "llm:URL" | "e5" | "ce:DIR", …)`` grades the pairs in the budget (``needed >
0``; all, or the first ``limit`` by position) and stores the grades with
:func:`babelir.judge.assign.record_model` under ``model:<name>`` (default ``model:llm-<model>``,
``model:e5``, ``model:ce-<directory name>``). A model assessor has ``kind = 'model'``: it never
counts towards the people's need, and ``babelir judge export --assessor model:…`` exports it alone.
Labels are committed every ``batch_size`` pairs; a pair the model already labelled is not asked
again unless ``redo`` (an interrupted run resumes where it stopped).

Three labellers:

- **llm:URL** — an OpenAI-compatible endpoint (:class:`babelir.llm.client.LLMClient`), asked with
  the UMBRELA prompt (Upadhyay et al. 2024, "UMBRELA: UMbrela is the (Open-Source Reproduction of
  the) Bing RELevance Assessor", arXiv:2406.06519), which reproduces the 0–3 prompt of Thomas et
  al. 2024 ("Large language models can accurately predict searcher preferences", SIGIR): the
  descriptive scale, then ``##final score: N``. The grade is read by :func:`parse_grade`; a reply
  without one (or an unreadable reply) is a counted *failure*, reported at the end, and the pair
  stays unlabelled; only when every pair asked fails is it an error.
- **e5** — the cosine of the bundled multilingual-e5-small (``babelir.encode.base.get_encoder()``:
  query with ``query:``, title + text with ``passage:``), cut into grades by ``thresholds``.
- **ce:DIR** — a cross-encoder from a local directory (``sentence_transformers.CrossEncoder``, the
  ``hf`` extra), its score cut by ``thresholds`` (required: a cross-encoder's scale is its own).

Thresholds: three increasing values ``a,b,c`` on a graded project (score ≥ a → 1, ≥ b → 2, ≥ c → 3),
one value ``t`` on a binary one (≥ t → 1). On a binary project the LLM's 0–3 grade is mapped
0–1 → 0 and 2–3 → 1 (UMBRELA's own binarisation; TREC RAG counts 2 and 3 as relevant).

The e5 defaults (:data:`E5_THRESHOLDS`) were measured on the quickstart demo collection
(``babelir quickstart``; ``babelir pool bm25.run dense.run --depth 5``: 596 pooled pairs, 72
queries in 12 languages, 104 relevant by its binary qrels, the other 492 counted non-relevant).
Cosines of relevant pairs: 10th/25th/50th/75th percentile 0.841 / 0.856 / 0.894 / 0.913; of the
others: 50th/90th/99th 0.814 / 0.859 / 0.882. The binary cut with the best F1 (scanned 0.780–0.920
by 0.005, sklearn ``f1_score``) is 0.88: F1 0.743, Cohen's kappa 0.70, accuracy 0.924, 71 labelled
relevant (0.86: F1 0.664, kappa 0.585). The graded cuts keep 0.88 as the 1|2 border, so that the
graded labels collapsed to binary are the binary labels; 0.85 (about the 25th percentile of the
relevant, the 80th of the others) starts "related", 0.91 (about the 70th percentile of the relevant)
starts "perfectly relevant". These describe e5-small's cosine only, on short demo passages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from babelir.errors import BabelirError
from babelir.judge.project import Project

E5_THRESHOLDS = {"graded": (0.85, 0.88, 0.91), "binary": (0.88,)}
DEFAULT_BATCH = 32

UMBRELA_PROMPT = """\
Given a query and a passage, you must provide a score on an integer scale of 0 to 3 with the following meanings:
0 = represent that the passage has nothing to do with the query,
1 = represents that the passage seems related to the query but does not answer it,
2 = represents that the passage has some answer for the query, but the answer may be a bit unclear, or hidden \
amongst extraneous information and
3 = represents that the passage is dedicated to the query and contains the exact answer.

Important Instruction: Assign category 1 if the passage is somewhat related to the topic but not completely, \
category 2 if passage presents something very important related to the entire topic but also has some extra \
information and category 3 if the passage only and entirely refers to the topic. If none of the above satisfies \
give it category 0.

Query: {query}
Passage: {passage}

Split this problem into steps:
Consider the underlying intent of the search.
Measure how well the content matches a likely intent of the query (M).
Measure how trustworthy the passage is (T).
Consider the aspects above and the relative importance of each, and decide on a final score (O). \
Final score must be an integer value only.
Do not provide any code in result. Provide each score in the format of: ##final score: score without \
providing any reasoning."""

_FINAL = re.compile(r"#*\s*final\s+score\s*(?:\(O\))?\s*[:=]?\s*\**\s*(-?\d+(?:\.\d+)?)", re.I)
_ALONE = re.compile(r"^\W*(\d)\W*$")


def parse_grade(reply: str) -> int | None:
    """The 0–3 grade of an LLM reply: the last ``##final score: N`` (also ``Final score: **N**``,
    any case), else a reply that is a single digit; None when there is none or it is outside 0–3.

    >>> parse_grade("M: 2, T: 1\\n##final score: 2"), parse_grade(" 3."), parse_grade("##Final Score: 7")
    (2, 3, None)
    >>> parse_grade("I think it is relevant") is None
    True
    """
    found = _FINAL.findall(reply)
    if found:
        value = found[-1]
    else:
        alone = _ALONE.match(reply.strip())
        if not alone:
            return None
        value = alone.group(1)
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and 0 <= number <= 3 else None


def to_scale(grade: int, scale: str) -> int:
    """A 0–3 grade on the project's scale (binary: 0–1 → 0, 2–3 → 1)."""
    return grade if scale == "graded" else int(grade >= 2)


def cut(scores, thresholds: tuple[float, ...]) -> list[int]:
    """Grades from scores: the number of thresholds each score reaches (``>=``).

    >>> cut([0.1, 0.5, 0.7, 0.95], (0.5, 0.7, 0.9))
    [0, 1, 2, 3]
    """
    import numpy as np

    return [int(g) for g in np.searchsorted(np.asarray(thresholds, dtype=float), np.asarray(scores, dtype=float),
                                            side="right")]


def check_thresholds(thresholds, scale: str) -> tuple[float, ...]:
    """``thresholds`` as a tuple of the length the scale needs (3 graded, 1 binary), strictly increasing."""
    values = tuple(float(t) for t in thresholds)
    need = 3 if scale == "graded" else 1
    if len(values) != need:
        raise BabelirError(f"--thresholds: the project's {scale} scale needs {need} value"
                           f"{'s (a,b,c for grades 1, 2, 3)' if need == 3 else ' (the cut for grade 1)'}, "
                           f"not {len(values)}")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise BabelirError(f"--thresholds must increase: {','.join(f'{v:g}' for v in values)}")
    return values


@dataclass
class PrejudgeReport:
    """What a run did: ``assessor``; ``pairs`` in the selection; ``already`` labelled before (not
    asked); ``asked``; ``stored``; ``failures`` (asked, no grade) with up to 5 ``examples``
    (``"query/doc: reason"``); ``grades`` (grade -> count stored); ``note`` (e.g. the binary mapping)."""

    assessor: str
    scale: str
    pairs: int = 0
    already: int = 0
    asked: int = 0
    stored: int = 0
    failures: int = 0
    examples: list[str] = field(default_factory=list)
    grades: dict[int, int] = field(default_factory=dict)
    note: str = ""

    def summary(self) -> str:
        shown = ", ".join(f"{g}: {n}" for g, n in sorted(self.grades.items())) or "none"
        lines = [f"{self.assessor}: {self.stored} of {self.asked} pairs asked labelled ({shown}); "
                 f"{self.already} already labelled, not asked again; {self.pairs} pairs selected"]
        if self.note:
            lines.append(self.note)
        if self.failures:
            lines.append(f"{self.failures} pair(s) got no grade (left unlabelled; run again to retry them):")
            lines += [f"  {e}" for e in self.examples]
        return "\n".join(lines)


def default_name(model: str, llm_model: str | None = None) -> str:
    """``model:llm-<model name>``, ``model:e5`` or ``model:ce-<directory name>``."""
    if model.startswith("llm:"):
        return f"model:llm-{_safe(llm_model or 'default')}"
    if model == "e5":
        return "model:e5"
    if model.startswith("ce:"):
        return f"model:ce-{_safe(Path(model[3:]).resolve().name or 'model')}"
    raise BabelirError(f"unknown --model {model!r} (llm:URL, e5 or ce:DIR)")


def _safe(text: str) -> str:
    return re.sub(r"[^\w.@+-]+", "-", text).strip("-") or "model"


def select_pairs(project: Project, limit: int | None = None) -> list[dict]:
    """The pairs in the budget (``needed > 0``) by position, the first ``limit`` when given; each
    a dict of id, query_id, query, doc_id, passage (title and text)."""
    rows = project.db.execute(
        "SELECT p.id, p.qid, q.text, p.docno, d.title, d.text FROM pairs p JOIN queries q ON q.id = p.qid "
        "JOIN docs d ON d.id = p.docno WHERE p.needed > 0 ORDER BY p.position, p.id"
        + (" LIMIT ?" if limit is not None else ""), (limit,) if limit is not None else ()).fetchall()
    return [{"id": r[0], "query_id": r[1], "query": r[2], "doc_id": r[3],
             "passage": f"{r[4]}\n{r[5]}" if r[4] else r[5]} for r in rows]


def prejudge(project_dir: str | Path, model: str, *, llm_model: str | None = None,
             api_key_env: str | None = None, name: str | None = None, limit: int | None = None,
             batch_size: int = DEFAULT_BATCH, thresholds=None, redo: bool = False, quiet: bool = False,
             timeout: float = 120.0, retries: int = 3) -> PrejudgeReport:
    """Label the project's pairs with ``model`` (``llm:URL``, ``e5`` or ``ce:DIR``); see the module
    docstring. Returns a :class:`PrejudgeReport`. Raises a BabelirError for an unknown model spec,
    bad thresholds, an endpoint that cannot be used (after retries), or when every pair asked fails."""
    from babelir.judge.assign import record_model
    from babelir.progress import progress

    if batch_size < 1:
        raise BabelirError("--batch-size must be at least 1")
    if name is not None and not name.strip():
        raise BabelirError("--name is empty: give the model assessor a name, or leave it out for the default")
    full = name or default_name(model, llm_model)
    if not full.startswith("model:"):
        full = "model:" + full
    with Project.open(project_dir) as project:
        scale = project.scale
        labeller = _labeller(model, scale, llm_model=llm_model, api_key_env=api_key_env, thresholds=thresholds,
                             batch_size=batch_size, timeout=timeout, retries=retries)
        report = PrejudgeReport(full, scale, note=labeller.note)
        pairs = select_pairs(project, limit)
        report.pairs = len(pairs)
        done = set()
        if not redo:
            done = {r[0] for r in project.db.execute(
                "SELECT pair_id FROM judgments WHERE assessor = ? AND undone = 0 AND status = 'judged'", (full,))}
        todo = [p for p in pairs if p["id"] not in done]
        report.already = len(pairs) - len(todo)
        bar = progress(total=len(todo), desc=f"prejudge {full}", unit="pair", quiet=quiet)
        try:
            for start in range(0, len(todo), batch_size):
                batch = todo[start:start + batch_size]
                labels = []
                try:
                    for pair, (grade, why) in zip(batch, labeller.label(batch)):
                        report.asked += 1
                        if grade is None:
                            report.failures += 1
                            if len(report.examples) < 5:
                                report.examples.append(f"{pair['query_id']}/{pair['doc_id']}: {why}")
                        else:
                            labels.append((pair["id"], grade))
                            report.grades[grade] = report.grades.get(grade, 0) + 1
                finally:  # an endpoint that fails mid-batch, or Ctrl-C: what was labelled is kept
                    if labels:
                        report.stored += record_model(project, full, labels)
                    bar.update(len(batch))
        except BabelirError as exc:
            raise BabelirError(f"{exc} ({report.stored} pairs labelled and stored before it; run again to "
                               "continue)") from None
        finally:
            bar.close()
            labeller.close()
    if report.asked and report.stored == 0:
        raise BabelirError(f"{full}: no pair got a grade ({report.failures} asked); first: {report.examples[0]}")
    return report


def _labeller(model: str, scale: str, **options):
    if model.startswith("llm:") and options["thresholds"] is not None:
        raise BabelirError("--thresholds apply to e5 and ce:DIR scores; an LLM gives grades itself")
    if not model.startswith("llm:") and (options["llm_model"] or options["api_key_env"]):
        raise BabelirError("--llm-model and --api-key-env go with --model llm:URL")
    if model.startswith("llm:"):
        return _LLMLabeller(model[4:], scale, options["llm_model"], options["api_key_env"],
                            options["timeout"], options["retries"])
    if model == "e5":
        cuts = check_thresholds(options["thresholds"] or E5_THRESHOLDS[scale], scale)
        return _ScoreLabeller(_E5Scores(), cuts, options["batch_size"])
    if model.startswith("ce:"):
        if options["thresholds"] is None:
            raise BabelirError("ce:DIR needs --thresholds (a cross-encoder's scores are on its own scale): "
                               + ("a,b,c for a graded project" if scale == "graded"
                                  else "one value for a binary project"))
        cuts = check_thresholds(options["thresholds"], scale)
        return _ScoreLabeller(_CrossEncoderScores(model[3:]), cuts, options["batch_size"])
    raise BabelirError(f"unknown --model {model!r} (llm:URL, e5 or ce:DIR)")


class _LLMLabeller:
    def __init__(self, url: str, scale: str, llm_model: str | None, api_key_env: str | None,
                 timeout: float, retries: int):
        from babelir.llm.client import DEFAULT_API_KEY_ENV, LLMClient

        self.scale = scale
        self.client = LLMClient(url, llm_model or "default", api_key_env=api_key_env or DEFAULT_API_KEY_ENV,
                                timeout=timeout, retries=retries)
        self.note = ("binary project: the LLM's 0-3 grades are stored as 0-1 -> 0, 2-3 -> 1"
                     if scale == "binary" else "")

    def label(self, batch: list[dict]):
        from babelir.llm.client import LLMReplyError

        for pair in batch:
            prompt = UMBRELA_PROMPT.format(query=pair["query"], passage=pair["passage"])
            try:
                reply = self.client.chat([{"role": "user", "content": prompt}], max_tokens=100)
            except LLMReplyError as exc:
                yield None, str(exc)
                continue
            grade = parse_grade(reply.text)
            if grade is None:
                yield None, f"no grade in the reply {' '.join(reply.text.split())[:80]!r}"
            else:
                yield to_scale(grade, self.scale), ""

    def close(self) -> None:
        self.client.close()


class _ScoreLabeller:
    def __init__(self, scorer, thresholds: tuple[float, ...], batch_size: int):
        self.scorer, self.thresholds, self.batch_size, self.note = scorer, thresholds, batch_size, ""

    def label(self, batch: list[dict]):
        scores = self.scorer([p["query"] for p in batch], [p["passage"] for p in batch], self.batch_size)
        return [(g, "") for g in cut(scores, self.thresholds)]

    def close(self) -> None:
        pass


class _E5Scores:
    def __init__(self):
        from babelir.encode.base import get_encoder

        self.encoder = get_encoder()

    def __call__(self, queries: list[str], passages: list[str], batch_size: int):
        """Cosines (the encoder's rows are unit length); each distinct text is encoded once."""
        unique_q, unique_p = list(dict.fromkeys(queries)), list(dict.fromkeys(passages))
        qv, pv = self.encoder.encode_queries(unique_q), self.encoder.encode_passages(unique_p)
        qi, pi = {t: i for i, t in enumerate(unique_q)}, {t: i for i, t in enumerate(unique_p)}
        return (qv[[qi[t] for t in queries]] * pv[[pi[t] for t in passages]]).sum(axis=1)


class _CrossEncoderScores:
    def __init__(self, directory: str):
        path = Path(directory)
        if not path.is_dir():
            raise BabelirError(f"ce:{directory}: not a directory (give a local cross-encoder model directory)")
        try:
            from sentence_transformers import CrossEncoder
        except ImportError:
            raise BabelirError(f"ce:{directory} needs torch and sentence-transformers: pip install torch==2.13.0 "
                               "'babelir[hf]'") from None
        try:
            self.model = CrossEncoder(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            reason = " ".join(str(exc).split())[:160]
            raise BabelirError(f"ce:{directory}: cannot load a cross-encoder ({reason})") from None

    def __call__(self, queries: list[str], passages: list[str], batch_size: int):
        import numpy as np

        scores = np.asarray(self.model.predict(list(zip(queries, passages)), batch_size=batch_size,
                                               show_progress_bar=False), dtype=float)
        return scores if scores.ndim == 1 else scores[:, -1]
