"""babelir train --cross-encoder, on a tiny encoder built in the test session."""

import json

import numpy as np
import pytest

from tests.conftest import cli_in_process, write
from tests.tiny_models import build_tiny_bert

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tests.integration.test_train import PAIRS, WORDS as BI_ENCODER_WORDS  # noqa: E402

WORDS = BI_ENCODER_WORDS + ["of", "a", "an", "with", "and", "in", "from"]
JUNK = ["the sea and the city", "a drink from the earth", "an animal in the water", "rock and tea leaves",
        "the city of beans"]  # never relevant: each query's given negatives


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    folder = build_tiny_bert(tmp_path_factory.mktemp("tiny"), words=WORDS, hidden=32)
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    cls, sep = {"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}
    tokenizer["post_processor"]["pair"] = [cls, {"Sequence": {"id": "A", "type_id": 0}}, sep,
                                           {"Sequence": {"id": "B", "type_id": 0}}, sep]
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    config = json.loads((folder / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)  # fewer steps to fit
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture()
def pairs_file(tmp_path):
    return write(tmp_path / "pairs.jsonl", "".join(
        json.dumps({"query": q, "positive": p, "lang": "en", "negatives": [JUNK[(i + k) % 5] for k in range(2)]}) + "\n"
        for i, (q, p) in enumerate(PAIRS)))


def _config(model, output, data, **extra):
    from babelir.train.cross_encoder import ce_config

    return ce_config({"model": f"hf:{model}", "output": str(output), "data": str(data), "batch_size": 4, "lr": 2e-3,
                      "checkpoint_every": 1, "warmup": 0.0, "negatives": "bm25", "negatives_per_query": 3,
                      "freeze_embeddings": False, **extra})


def test_train_cross_encoder_command_writes_a_crossencoder_that_ranks_what_it_learnt(tiny_model, pairs_file,
                                                                                      tmp_path, capsys):
    out = tmp_path / "ce"
    code, stdout, stderr = cli_in_process(capsys, "train", "--cross-encoder", "--model", f"hf:{tiny_model}", "-o",
                                          out, "--data", pairs_file, "--negatives", "bm25,dense",
                                          "--negatives-per-query", "4", "--epochs", "15", "--batch-size", "4",
                                          "--lr", "2e-3", "--train-embeddings", "--quiet")
    assert code == 0, stderr
    assert "trained 30 steps on 8 query groups" in stdout and f"ce:{out}" in stdout
    assert "bm25 negatives up to 2" in stderr and "dense negatives up to 4" in stderr
    mined = [json.loads(line) for line in (out / "train-examples.jsonl").read_text().splitlines()]
    assert all(len(m["negatives"]) == 4 and m["positive"] not in m["negatives"] for m in mined)
    assert all(m["negatives"][:2] == [JUNK[i % 5], JUNK[(i + 1) % 5]] and len(set(m["negatives"])) == 4
               for i, m in enumerate(mined))  # the data's 2 kept, 2 more mined
    record = json.loads((out / "babelir_training.json").read_text())
    assert np.mean(record["losses"][-5:]) < 0.75 * np.mean(record["losses"][:5])
    assert not (out / "checkpoints").exists()

    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(out), device="cpu", local_files_only=True)
    assert model.tokenizer.model_max_length == 64  # --max-length 256, capped at the model's 64 positions
    scores = model.predict([(q, p) for q, p in PAIRS] + [(q, JUNK[(i + 3) % 5]) for i, (q, _) in enumerate(PAIRS)])
    relevant, random = scores[:8], scores[8:]
    assert np.all(relevant > random + 0.5)


def test_interrupted_cross_encoder_training_resumes_to_the_same_weights(tiny_model, pairs_file, tmp_path):
    from safetensors.numpy import load_file

    from babelir.train.ce_data import prepare_ce_examples
    from babelir.train.cross_encoder import train_cross_encoder

    examples = prepare_ce_examples(_config(tiny_model, tmp_path / "whole", pairs_file), log=lambda m: None)
    whole = train_cross_encoder(_config(tiny_model, tmp_path / "whole", pairs_file, epochs=2), examples, quiet=True)
    split = _config(tiny_model, tmp_path / "split", pairs_file, epochs=2)
    part = train_cross_encoder(split, examples, quiet=True, stop_after=2)  # the "kill": a checkpoint stays
    assert not part.finished and (tmp_path / "split" / "checkpoints" / "step-2.pt").exists()
    assert not (tmp_path / "split" / "model.safetensors").exists()
    rest = train_cross_encoder(split, examples, quiet=True, log=lambda m: None)
    assert rest.resumed_from == 2 and rest.finished and whole.steps == rest.steps == 4
    a, b = load_file(tmp_path / "whole" / "model.safetensors"), load_file(tmp_path / "split" / "model.safetensors")
    assert a.keys() == b.keys() and all(np.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert np.allclose(whole.losses, rest.losses, atol=1e-6)
    train_cross_encoder(_config(tiny_model, tmp_path / "other", pairs_file, epochs=2), examples, quiet=True,
                        stop_after=1)
    with pytest.raises(Exception, match="other settings"):
        train_cross_encoder(_config(tiny_model, tmp_path / "other", pairs_file, epochs=2, lr=5e-4), examples,
                            quiet=True)


def test_listwise_loss_and_distillation_terms():
    from babelir.train.cross_encoder import ce_config, group_loss
    from babelir.train.data import Example

    batch = [Example("q1", "p1", ["n1", "n2"], teacher_scores=[0.9, 0.1, 0.0]),
             Example("q2", "p2", ["n3"], teacher_scores=[0.2, 0.8])]
    scores = torch.tensor([[2.0, 0.0, 0.0], [1.0, 1.0, float("-inf")]])
    plain = ce_config({"model": "m", "output": "o", "data": "d"})
    expected = (-torch.log_softmax(scores[0], -1)[0] - torch.log_softmax(scores[1, :2], -1)[0]) / 2
    assert float(group_loss(scores, batch, plain)) == pytest.approx(float(expected), rel=1e-6)
    for kind in ("kl", "mse"):
        distilled = float(group_loss(scores, batch, ce_config({"model": "m", "output": "o", "data": "d",
                                                              "distill": kind})))
        assert distilled > float(expected) + 0.1  # the teacher disagrees on q2: the term adds loss


def test_bad_cross_encoder_input_is_one_line_exit_2(tiny_model, pairs_file, tmp_path, capsys):
    code, _, err = cli_in_process(capsys, "train", "--cross-encoder", "-o", tmp_path / "o", "--data", pairs_file)
    assert code == 2 and 'field "model": required' in err and len(err.strip().splitlines()) == 1
    bad = write(tmp_path / "bad.jsonl", '{"query": "q", "positive": "p"}\n{"query": "q2", "positive": 3}\n')
    code, _, err = cli_in_process(capsys, "train", "--cross-encoder", "--model", f"hf:{tiny_model}", "-o",
                                  tmp_path / "o", "--data", bad)
    assert code == 2 and 'bad.jsonl:2: field "positive"' in err and len(err.strip().splitlines()) == 1
    code, _, err = cli_in_process(capsys, "train", "--cross-encoder", "--model", f"hf:{tiny_model}", "-o",
                                  tmp_path / "o", "--data", pairs_file, "--negatives", "bm25,colbert")
    assert code == 2 and "colbert" in err and "Traceback" not in err
    code, _, err = cli_in_process(capsys, "train", "--cross-encoder", "--model", f"hf:{tiny_model}", "-o",
                                  tmp_path / "o", "--data", pairs_file, "--temperature", "0.1")
    assert code == 2 and "--temperature does not apply to --cross-encoder" in err
    code, _, err = cli_in_process(capsys, "train", "--model", f"hf:{tiny_model}", "-o", tmp_path / "o", "--data",
                                  pairs_file, "--negatives", "bm25")
    assert code == 2 and "for --cross-encoder" in err
