"""Plain-text tables of evaluation results."""

from __future__ import annotations

from babelir.evaluate.metrics import Evaluation, Judged


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Align columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    def line(cells):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def evaluation_table(evaluation: Evaluation, digits: int = 4) -> str:
    """One row per language (when broken down) and a final ``all`` row."""
    headers = ["lang", "queries", *evaluation.measures]
    rows = [[lang, str(evaluation.counts[lang]), *(f"{values[m]:.{digits}f}" for m in evaluation.measures)]
            for lang, values in evaluation.by_lang.items()]
    rows.append(["all", str(evaluation.query_count), *(f"{evaluation.all[m]:.{digits}f}" for m in evaluation.measures)])
    return format_table(headers, rows)


def judged_line(judged: Judged, digits: int = 4) -> str:
    """``Judged@10: 0.8300 (share of the top 10 that the qrels judge)``, with the share per language
    when the evaluation was broken down by language."""
    text = f"{judged.measure}: {judged.all:.{digits}f} (share of the top {judged.depth} that the qrels judge"
    if judged.by_lang:
        text += "; " + ", ".join(f"{lang} {value:.{digits}f}" for lang, value in judged.by_lang.items())
    return text + ")"


def modes_table(evaluations: dict[str, Evaluation], measures: list[str], digits: int = 3) -> str:
    """One row per language, one column per (measure, mode): the modes of one query set side by side."""
    first = next(iter(evaluations.values()))
    headers = ["lang", "queries", *(f"{m} {mode}" for m in measures for mode in evaluations)]
    rows = [[lang, str(first.counts[lang]), *(f"{evaluations[mode].by_lang[lang][m]:.{digits}f}"
                                              for m in measures for mode in evaluations)]
            for lang in first.by_lang]
    rows.append(["all", str(first.query_count), *(f"{evaluations[mode].all[m]:.{digits}f}"
                                                  for m in measures for mode in evaluations)])
    return format_table(headers, rows)
