"""Calibrated abstention: "is anything relevant in the top k?", per query language.

- :mod:`~babelir.abstain.features`: features of a query's score lists (the final run's and each
  first stage's): top score, gaps, standardised top score, how many documents matched.
- :mod:`~babelir.abstain.calibration`: a logistic regression per language (scikit-learn) of
  P(a relevant document is in the top k), fitted on topics with qrels, saved as JSON.
- :mod:`~babelir.abstain.decide`: a search's decisions (probability, answerable or not) and the
  ``RUN.abstain.json`` file beside a run.

The rates it is judged by are NoMIRACL's (Thakur et al., 2024, "NoMIRACL: Knowing When You Don't
Know", Findings of EMNLP): the hallucination rate (queries without a relevant passage, answered)
and the error rate (queries with one, refused); see :mod:`babelir.evaluate.abstention`.
"""
