"""Understanding multilingual models: :mod:`babelir.analysis.probes` (cross-lingual alignment)."""
