"""babelir: multilingual and cross-lingual search.

Importing this package is cheap: it loads no index engine, no ICU, no model.
The main entry points live in submodules:

- :mod:`babelir.types`   records (``Doc``, ``Query``, ``Qrel``) and language codes
- :mod:`babelir.run`     the ``Run`` type (TREC run files)
- :mod:`babelir.io`      corpus, topics, qrels and dataset readers/writers
- :mod:`babelir.index`   the self-describing index directory
- :mod:`babelir.retrieve` retrievers (BM25)
- :mod:`babelir.evaluate` per-language evaluation through ir_measures
"""

__version__ = "0.1.0"

from babelir.errors import BabelirError, InputError  # noqa: E402  (both are tiny)

__all__ = ["BabelirError", "InputError", "__version__"]
