"""``babelir repro xquad-r [--langs en th] [--conditions bm25 dense]``"""

from __future__ import annotations

from pathlib import Path

REPRO_DIR = Path(__file__).resolve().parents[3] / "repro"


def register(p) -> None:
    p.add_argument("matrix", help="a matrix name in repro/ (e.g. xquad-r) or a path to a .yaml file")
    p.add_argument("--data", default=None, help="the dataset's source directory (default: the matrix's data)")
    p.add_argument("--work", default=None,
                   help="where collections, indexes and runs go (default ~/.cache/babelir/repro/NAME; reused)")
    p.add_argument("--langs", nargs="*", help="only these languages (and/or 'pool')")
    p.add_argument("--conditions", nargs="*", help="only these conditions")


def run(args) -> int:
    from babelir.encode.cache import cache_dir
    from babelir.evaluate.table import format_table
    from babelir.repro import load_matrix, run_matrix

    path = Path(args.matrix) if args.matrix.endswith((".yaml", ".yml")) else REPRO_DIR / f"{args.matrix}.yaml"
    matrix = load_matrix(path)
    data = Path(args.data) if args.data else (path.parent / matrix["data"]).resolve()
    work = Path(args.work) if args.work else cache_dir() / "repro" / matrix["dataset"]
    rows = run_matrix(matrix, data, work, args.langs, args.conditions)
    print()
    print(format_table(["condition", "lang", "measured", "expected", "grade"],
                       [[r.condition, r.lang, " ".join(f"{m} {r.measured[m]:.4f}" for m in r.expected),
                         " ".join(f"{v:.4f}" for v in r.expected.values()), "OK" if r.ok else "FAIL"] for r in rows]))
    failed = sum(not r.ok for r in rows)
    print(f"\n{len(rows) - failed} OK, {failed} FAIL (tolerance ±{matrix['tolerance']})")
    return 1 if failed else 0
