"""``babelir judge prejudge PROJECT --model llm:URL [--llm-model NAME] [--api-key-env VAR] | e5 | ce:DIR
[--name NAME] [--thresholds a,b,c] [--limit N] [--batch-size B] [--redo]``"""

from __future__ import annotations

from babelir.cli.argtypes import positive_float, positive_int


def _thresholds(text: str) -> tuple[float, ...]:
    import argparse
    import math

    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not comma-separated numbers: {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(f"thresholds must be finite numbers: {text!r}")
    return values


def register(p) -> None:
    p.add_argument("project", help="the judging project directory")
    p.add_argument("--model", required=True,
                   help="llm:URL (an OpenAI-compatible endpoint, e.g. llm:http://localhost:8000/v1), "
                        "e5 (multilingual-e5-small similarity) or ce:DIR (a local cross-encoder)")
    p.add_argument("--llm-model", default=None,
                   help="with llm:URL, the endpoint's model name (default 'default': llama.cpp's server takes "
                        "any name; vLLM needs the served model's)")
    p.add_argument("--api-key-env", default=None,
                   help="with llm:URL, the environment variable holding the API key (default BABELIR_LLM_API_KEY)")
    p.add_argument("--name", default=None,
                   help="the model assessor's name (default model:llm-<model>, model:e5, model:ce-<dir name>)")
    p.add_argument("--thresholds", type=_thresholds, default=None,
                   help="e5/ce: score cuts for grades 1,2,3 (graded) or the cut for 1 (binary); "
                        "e5 default 0.85,0.88,0.91 / 0.88, required for ce")
    p.add_argument("--limit", type=positive_int, default=None, help="label only the first N pairs by position")
    p.add_argument("--batch-size", type=positive_int, default=32, help="pairs per encoder batch and per commit")
    p.add_argument("--timeout", type=positive_float, default=120.0,
                   help="with llm:URL, seconds per request (default 120)")
    p.add_argument("--redo", action="store_true", help="ask again about pairs this model has labelled already")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    from babelir.judge.prejudge import prejudge

    report = prejudge(args.project, args.model, llm_model=args.llm_model, api_key_env=args.api_key_env,
                      name=args.name, limit=args.limit, batch_size=args.batch_size, thresholds=args.thresholds,
                      redo=args.redo, quiet=args.quiet, timeout=args.timeout)
    print(report.summary())
    print(f"next: babelir judge export {args.project} --assessor {report.assessor} -o model.qrels")
    return 0
