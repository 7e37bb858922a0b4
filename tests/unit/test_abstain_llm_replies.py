"""Reading an LLM's NoMIRACL replies: log-probabilities that say nothing, replies that say both."""

from __future__ import annotations

import math

import pytest

from babelir.abstain.llm import parse_verdict, yes_probability


def reply(alternatives: dict[str, float]) -> dict:
    first, logprob = next(iter(alternatives.items()))
    return {"choices": [{"logprobs": {"content": [{"token": first, "logprob": logprob, "top_logprobs": [
        {"token": t, "logprob": lp} for t, lp in alternatives.items()]}]}}]}


def test_yes_probability_from_the_first_token():
    assert yes_probability(reply({"Yes": math.log(0.6), "I": math.log(0.2)})) == pytest.approx(0.75)
    assert yes_probability({"choices": [{"message": {"content": "Yes"}}]}) is None


def test_nan_or_minus_infinite_log_probabilities_give_no_probability():
    # a server that sends NaN (or -inf for both) says nothing: the caller falls back to the reply's words
    assert yes_probability(reply({"Yes": float("nan"), "I": float("nan")})) is None
    p = yes_probability(reply({"Yes": float("-inf"), "I": float("-inf")}))
    assert p is None or math.isfinite(p)


def test_a_reply_with_both_answers_is_malformed():
    assert parse_verdict("Yes, answer is present. I don't know.") is None
    assert parse_verdict("Yes, answer is present.") is True and parse_verdict("I don't know") is False
