"""The semantic-token curve: effectiveness and size of a model compressed to several fractions of
its vocabulary, against the full model.

:func:`run_semantic_tokens` compresses the ``hf:`` (or ``static:``) model once per ratio
(:func:`babelir.analysis.semantic_tokens.compress_model`) into ``OUT/ratio-R``, evaluates the full
model and each compressed one on XQuAD-R (dense nDCG@10 per language, and MAP over the top 1,000 of
the multilingual pool with the default language-bias correction), and writes:

- ``OUT/semantic_tokens.json``: every measured value (kept after each model, so a re-run resumes);
- ``OUT/semantic_tokens.md``: the tables (absolute, share of the full model, sizes);
- ``OUT/semantic_tokens.png``: the curve, effectiveness kept against the fraction of the vocabulary.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from babelir.errors import InputError

FULL = "1.0"


def _ratio_key(ratio: float) -> str:
    return f"{ratio:g}"


def run_semantic_tokens(model: str, ratios: list[float], out: str | Path, xquadr: str | Path,
                        langs: tuple[str, ...], iterations: int = 10, seed: int = 0, pool: bool = True,
                        groups_from: str | Path | None = None, weighting: str = "auto", log=print,
                        quiet: bool = False) -> dict:
    """Compress ``model`` (``hf:DIR`` or ``static:DIR``) at each ratio, evaluate everything on XQuAD-R;
    returns the results dict. ``groups_from``: an earlier run's directory whose ``ratio-R/token_map.npy``
    groups are reused instead of clustering (a static table grouped as the model it came from).
    ``weighting``: ``auto``, ``none`` or ``frequency`` (see :func:`~babelir.analysis.semantic_tokens.compress_model`)."""
    from babelir.analysis.semantic_tokens import GROUPS_INFO, compress_model
    from babelir.encode.hf_encoder import hf_model_dir
    from babelir.evaluate.dense_eval import evaluate_dense, pool_map
    from babelir.io.atomic import atomic_write_json
    from babelir.io.xquadr import load_xquadr

    kind = "static" if str(model).startswith("static:") else "hf"
    source = (Path(str(model).split(":", 1)[1]).expanduser() if kind == "static" else hf_model_dir(model)).resolve()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "semantic_tokens.json"
    results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {}
    settings = {"model": str(source), "langs": list(langs), "iterations": iterations, "seed": seed, "pool": pool,
                "groups_from": str(Path(groups_from).resolve()) if groups_from else None, "weighting": weighting}
    for key, value in settings.items():
        if results.get(key, value) != value:
            raise InputError(str(results_file), None, key, "holds results made with other settings; "
                                                          "choose another output directory")
    results.update(settings)
    rows = results.setdefault("rows", {})
    per_lang, pool_collection = load_xquadr(xquadr, tuple(langs))
    models = [(FULL, source)] + [(_ratio_key(r), out / f"ratio-{_ratio_key(r)}") for r in sorted(ratios)]
    for key, directory in models:
        row = rows.setdefault(key, {})
        if key != FULL and not (directory / GROUPS_INFO).exists():
            log(f"grouping the vocabulary: ratio {key} -> {directory}")
            given = None
            if groups_from:
                map_file = Path(groups_from) / f"ratio-{key}" / "token_map.npy"
                if not map_file.exists():
                    raise InputError(str(map_file), None, None, "no such token map (--groups-from needs a run "
                                                                "with the same ratios)")
                given = np.load(map_file)
            compress_model(f"{kind}:{source}", directory, float(key), iterations=iterations, seed=seed,
                           quiet=quiet, token_map=given, weighting=weighting)
        if key != FULL:
            row["size"] = json.loads((directory / GROUPS_INFO).read_text(encoding="utf-8"))
        spec = f"{kind}:{directory}"
        scores = row.setdefault("nDCG@10", {})
        for lang in langs:
            if lang not in scores:
                scores[lang] = evaluate_dense(spec, per_lang[lang], out)
                log(f"ratio {key}: {lang} nDCG@10 {scores[lang]:.4f}")
                atomic_write_json(results_file, results)
        if pool and "pool MAP" not in row and len(langs) > 1:
            row["pool MAP"] = pool_map(spec, pool_collection, out)
            log(f"ratio {key}: pool MAP {row['pool MAP']:.4f}")
        atomic_write_json(results_file, results)
    write_report(results, out)
    return results


def _average(values: dict) -> float:
    return sum(values.values()) / len(values)


def _share(part: float, whole: float) -> float:
    """``part / whole``; NaN when the full model scores 0 (a share of nothing)."""
    return part / whole if whole else float("nan")


def format_or_dash(value: float | None, spec: str) -> str:
    """``value`` formatted with ``spec`` (e.g. ``.4f``), or ``-`` when it is unknown (None)."""
    return "-" if value is None else format(value, spec)


def summary_rows(results: dict) -> list[dict]:
    """One dict per model, fullest first: ratio, groups, sizes, average nDCG@10, kept shares."""
    full = results["rows"][FULL]
    full_avg = _average(full["nDCG@10"])
    # The full model's sizes are recorded beside each compressed one (its source).
    source = next((row["size"] for row in results["rows"].values() if row.get("size")), {})
    out = []
    for key in sorted(results["rows"], key=float, reverse=True):
        row = results["rows"][key]
        size = row.get("size", {})
        avg = _average(row["nDCG@10"])
        if key == FULL:
            groups, table, model = source.get("vocab"), source.get("embedding_bytes"), source.get("model_bytes")
        else:
            groups = size.get("groups")
            table, model = size.get("compressed_embedding_bytes"), size.get("compressed_model_bytes")
        out.append({"ratio": key, "groups": groups,
                    "embedding MB": table / 1e6 if table else None,
                    "model MB": model / 1e6 if model else None,
                    "nDCG@10": avg, "kept": _share(avg, full_avg),
                    "pool MAP": row.get("pool MAP"),
                    "pool kept": (_share(row["pool MAP"], full["pool MAP"])
                                  if "pool MAP" in row and "pool MAP" in full else None),
                    "multi-script groups": size.get("multi_script_share")})
    return out


def write_report(results: dict, out: Path) -> None:
    """``semantic_tokens.md`` and ``semantic_tokens.png`` from the results dict."""
    langs = results["langs"]
    keys = sorted(results["rows"], key=float, reverse=True)
    full = results["rows"][FULL]["nDCG@10"]
    lines = [f"# Semantic tokens of {results['model']}", "",
             "Dense nDCG@10 on XQuAD-R per language (vocabulary fraction 1 is the full model):", "",
             "| fraction | " + " | ".join(langs) + " | average |", "|---" * (len(langs) + 2) + "|"]
    for key in keys:
        scores = results["rows"][key]["nDCG@10"]
        lines.append(f"| {key} | " + " | ".join(f"{scores[lang]:.4f}" for lang in langs)
                     + f" | {_average(scores):.4f} |")
    lines += ["", "Share of the full model's nDCG@10 kept:", "",
              "| fraction | " + " | ".join(langs) + " | average |", "|---" * (len(langs) + 2) + "|"]
    for key in keys:
        scores = results["rows"][key]["nDCG@10"]
        lines.append(f"| {key} | " + " | ".join(f"{_share(scores[lang], full[lang]):.1%}" for lang in langs)
                     + f" | {_share(_average(scores), _average(full)):.1%} |")
    lines += ["", "| fraction | tokens | token table (float32) + map, MB | model on disk, MB | nDCG@10 avg "
              "| kept | pool MAP | pool kept | groups spanning several scripts |", "|---" * 9 + "|"]
    for row in summary_rows(results):
        lines.append(" | ".join([f"| {row['ratio']}", f"{row['groups']:,}" if row["groups"] else "all",
                                 format_or_dash(row["embedding MB"], ".1f"),
                                 format_or_dash(row["model MB"], ".1f"),
                                 f"{row['nDCG@10']:.4f}", f"{row['kept']:.1%}",
                                 format_or_dash(row["pool MAP"], ".4f"), format_or_dash(row["pool kept"], ".1%"),
                                 format_or_dash(row["multi-script groups"], ".1%")])
                     + " |")
    (out / "semantic_tokens.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _curve_png(results, out / "semantic_tokens.png")


def _curve_png(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted(results["rows"], key=float)
    fractions = [float(k) for k in keys]
    full = results["rows"][FULL]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for lang in results["langs"]:
        kept = [_share(results["rows"][k]["nDCG@10"][lang], full["nDCG@10"][lang]) for k in keys]
        ax.plot(fractions, kept, color="0.75", linewidth=0.8)
    average = [_share(_average(results["rows"][k]["nDCG@10"]), _average(full["nDCG@10"])) for k in keys]
    ax.plot(fractions, average, "o-", color="tab:blue", linewidth=2, label="nDCG@10, average (grey: each language)")
    if all("pool MAP" in results["rows"][k] for k in keys):
        pool = [_share(results["rows"][k]["pool MAP"], full["pool MAP"]) for k in keys]
        ax.plot(fractions, pool, "s--", color="tab:orange", label="pool MAP (cross-lingual)")
    ax.axhline(0.9, color="tab:red", linewidth=0.8, linestyle=":", label="90% of the full model")
    ax.set_xscale("log")
    ax.set_xticks(fractions)
    ax.set_xticklabels([f"{f:g}" for f in fractions])
    ax.set_xlabel("fraction of the vocabulary kept (semantic tokens)")
    ax.set_ylabel("share of the full model kept")
    ax.set_title("Semantic-token compression on XQuAD-R")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
