"""Evaluation through ir_measures / pytrec_eval, per language, with significance tests."""
