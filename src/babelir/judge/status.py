"""``babelir judge status``: progress per language, each assessor's pace and grades, agreement on the
overlapping pairs, and each model assessor against the people.

Agreement statistics come from :mod:`babelir.judge.agreement` (scikit-learn, statsmodels,
krippendorff); this module gathers the judgments and lays out the tables.
"""

from __future__ import annotations

from collections import Counter

from babelir.judge.assign import progress
from babelir.judge.project import Project


def status_report(project: Project) -> str:
    """The status as plain text: progress, assessors, agreement, models."""
    from babelir.evaluate.table import format_table
    from babelir.judge.agreement import agreement, format_agreement, model_vs_people

    grades = project.grades
    state = progress(project)
    parts = [f"project {project.directory}: {project.scale} scale ({', '.join(map(str, grades))}), "
             f"{100 * project.overlap:.0f}% of pairs for two assessors"]
    rows = []
    for lang, row in sorted(state["languages"].items()):
        share = 100.0 * row["complete"] / row["pairs"] if row["pairs"] else 0.0
        rows.append([lang, str(row["pairs"]), str(row["complete"]), f"{share:.1f}", str(row["judgments"])])
    parts += ["", "progress by passage language (pairs in the budget; complete: judged by as many people as "
                  "they need)",
              format_table(["lang", "pairs", "complete", "complete %", "judgments"], rows) if rows else "  no pairs"]

    judgments = project.live_judgments()
    people = {name for name, kind, _ in project.assessors() if kind == "person"}
    distribution: dict[str, Counter] = {}
    for row in judgments:
        if row[6] == "judged":
            distribution.setdefault(row[4], Counter())[row[5]] += 1
    rows = []
    for name, kind, langs in project.assessors():
        mine = state["assessors"].get(name, {"judged": sum(distribution.get(name, {}).values()), "skip": 0,
                                             "cant": 0, "seconds": 0.0})
        shares = distribution.get(name, Counter())
        total = sum(shares.values())
        rows.append([name, "model" if kind == "model" else ("all" if langs == "*" else langs), str(mine["judged"]),
                     str(mine["skip"]), str(mine["cant"]),
                     f"{mine['seconds']:.1f}" if kind == "person" and name in state["assessors"] else "-",
                     *(f"{100 * shares[g] / total:.0f}%" if total else "-" for g in grades)])
    parts += ["", "assessors (s/judgment: mean seconds spent; grade shares of their judgments)",
              format_table(["assessor", "langs", "judged", "skipped", "can't", "s/judgment",
                            *(f"grade {g}" for g in grades)], rows) if rows else
              "  no assessors yet: babelir judge assessor add PROJECT NAME --langs xx"]

    graded = [((r[1], r[2]), r[4], r[5], r[3]) for r in judgments if r[6] == "judged"]
    human = [j for j in graded if j[1] in people]
    parts += ["", "agreement between people on the pairs two of them judged"]
    parts.append(format_agreement(agreement(human, scale=project.scale)) if human else "  nothing judged yet")
    for model in sorted({j[1] for j in graded} - people):
        judged_by_both = {j[0] for j in human} & {j[0] for j in graded if j[1] == model}
        parts += ["", f"{model} against the people (their majority grade) on {len(judged_by_both)} pairs"]
        if not judged_by_both:
            parts.append("  no pair is judged by both yet")
            continue
        mine = [j for j in graded if j[1] == model or j[1] in people]
        parts.append(_model_table(model_vs_people(mine, model, scale=project.scale)))
    return "\n".join(parts)


def _model_table(result: dict) -> str:
    """Kappa per language, then the confusion matrix of all languages (rows: people, columns: model)."""
    from babelir.evaluate.table import format_table

    def shown(value):
        return "n/a" if value is None else f"{value:.3f}"

    rows = [[lang, str(entry.n), shown(entry.kappa), shown(entry.weighted_kappa)] for lang, entry in result.items()]
    text = format_table(["lang", "pairs", "Cohen κ", "weighted κ"], rows)
    overall = result.get("all")
    if overall is not None and overall.n:
        matrix = [[f"people {label}", *map(str, line)] for label, line in zip(overall.labels, overall.confusion)]
        text += "\n\n" + format_table(["confusion (all)", *(f"model {label}" for label in overall.labels)], matrix)
    return text
