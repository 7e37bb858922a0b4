"""``import babelir`` stays cheap: no torch, tantivy, ICU or evaluation stack at import time."""

import subprocess
import sys

HEAVY = ["torch", "tantivy", "icu4py", "ir_measures", "pytrec_eval", "numpy", "scipy", "py3langid", "tqdm",
         "Stemmer", "stopwordsiso", "jieba", "sudachipy", "kiwipiepy", "iso639"]


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_babelir_loads_no_heavy_module():
    modules = loaded_after("import babelir, babelir.types, babelir.run, babelir.errors")
    assert not {m for m in modules if m.split(".")[0] in HEAVY}


def test_cli_parser_loads_no_heavy_module():
    modules = loaded_after("from babelir.cli import build_parser; build_parser()")
    assert not {m for m in modules if m.split(".")[0] in HEAVY}
