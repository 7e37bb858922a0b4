"""Does tuning fusion weights per language help? ``babelir tune``'s procedure on XQuAD-R: weights
picked on half of each language's questions (split by a hash of the query id), measured on the
other half against equal weights.

    python -m benchmarks.xquadr_tune_split [--fusion linear zscore] [--step 0.1]

bm25 + dense + sparse runs to depth 100; weights on a grid of ``--step`` summing to 1.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from babelir.encode.base import get_encoder
from babelir.evaluate.table import format_table
from babelir.index.core import Index
from babelir.io.xquadr import XQUADR_LANGS, load_language
from babelir.retrieve.pipeline import from_mode
from babelir.tune import tune_weights
from benchmarks import XQUADR

MODES = ("bm25", "dense", "sparse")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--langs", nargs="*", default=list(XQUADR_LANGS))
    parser.add_argument("--fusion", nargs="*", default=["linear", "zscore"])
    parser.add_argument("--step", type=float, default=0.1)
    args = parser.parse_args(argv)
    encoder = get_encoder()
    rows, totals = [], {f: [0.0, 0.0] for f in args.fusion}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.langs:
            collection, _ = load_language(args.data, lang)
            index = Index.create(Path(tmp) / lang, encoder=encoder, sparse=True)
            index.add(collection.docs)
            runs = [from_mode(index, mode).retrieve(collection.queries, 100) for mode in MODES]
            index.close()
            row = [lang]
            for fusion in args.fusion:
                (outcome,) = tune_weights(runs, collection.queries, collection.qrels, fusion, step=args.step)
                totals[fusion][0] += outcome.held_out_tuned
                totals[fusion][1] += outcome.held_out_equal
                row += [",".join(f"{w:.1f}" for w in outcome.weights), f"{outcome.held_out_tuned:.4f}",
                        f"{outcome.held_out_equal:.4f}"]
            rows.append(row)
            print(" ".join(row), flush=True)
    rows.append(["avg", *[x for f in args.fusion for x in
                          ("", f"{totals[f][0] / len(args.langs):.4f}", f"{totals[f][1] / len(args.langs):.4f}")]])
    header = ["lang"] + [h for f in args.fusion for h in (f"{f} weights ({','.join(MODES)})",
                                                          f"{f} held-out tuned", f"{f} held-out equal")]
    print(format_table(header, rows))


if __name__ == "__main__":
    main()
