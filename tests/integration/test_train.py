"""babelir train and babelir experiment transfer, on a tiny model built in the test session."""

import json
import numpy as np
import pytest

from tests.conftest import run_cli, write
from tests.tiny_models import build_tiny_bert

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

WORDS = ["the", "moon", "ocean", "tides", "capital", "china", "elephant", "volcano", "magma", "coffee", "beans",
         "lava", "earth", "orbit", "water", "tea", "leaves", "beijing", "city", "trunk", "what", "is", "query",
         "passage", ":", "does", "drink", "animal", "rock", "sea"]
PAIRS = [("what is the moon", "the moon is in orbit of the earth"),
         ("what is magma", "magma is volcano rock and lava"),
         ("what does the elephant", "the elephant is an animal with a trunk"),
         ("what is coffee", "coffee is a drink of beans"),
         ("what is the capital of china", "beijing is the capital city of china"),
         ("what is the ocean", "the ocean is water and sea with tides"),
         ("what is tea", "tea is a drink of leaves"),
         ("what is lava", "lava is rock from the volcano")]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_bert(tmp_path_factory.mktemp("tiny"), words=WORDS, hidden=32)


@pytest.fixture()
def examples_file(tmp_path):
    return write(tmp_path / "train.jsonl", "".join(json.dumps({"query": q, "positive": p, "lang": "en"}) + "\n"
                                                   for q, p in PAIRS))


def _config(model, output, data, **extra):
    from babelir.train.config import load_config

    return load_config(None, {"model": f"hf:{model}", "output": str(output), "data": str(data), "batch_size": 4,
                              "lr": 1e-3, "temperature": 0.05, "checkpoint_every": 1, "warmup": 0.0, **extra})


def test_train_command_writes_a_usable_hf_model(tiny_model, examples_file, tmp_path):
    out = tmp_path / "tuned"
    result = run_cli("train", "--model", f"hf:{tiny_model}", "-o", str(out), "--data", str(examples_file),
                     "--epochs", "2", "--batch-size", "4", "--negatives", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "trained 4 steps on 8 examples" in result.stdout and "mining 1 hard negative" in result.stderr
    record = json.loads((out / "babelir_training.json").read_text())
    assert record["steps"] == 4 and len(record["losses"]) == 4 and record["settings"]["negatives"] == 1
    assert not (out / "checkpoints").exists()  # removed once the model is written
    mined = [json.loads(line) for line in (out / "train-examples.jsonl").read_text().splitlines()]
    assert all(len(m["negatives"]) == 1 and m["negatives"][0] != m["positive"] for m in mined)
    from babelir.encode.base import get_encoder

    vectors = get_encoder(f"hf:{out}", cache=False).encode_queries(["what is magma"])
    assert vectors.shape == (1, 32) and abs(float(np.linalg.norm(vectors)) - 1) < 1e-5


def test_training_lowers_the_loss_and_ranks_positives_first(tiny_model, examples_file, tmp_path):
    from babelir.encode.base import get_encoder
    from babelir.train.data import read_examples
    from babelir.train.loop import train

    def accuracy(model_dir):
        encoder = get_encoder(f"hf:{model_dir}", cache=False)
        q = encoder.encode_queries([q for q, _ in PAIRS])
        p = encoder.encode_passages([p for _, p in PAIRS])
        return float(np.mean(np.argmax(q @ p.T, axis=1) == np.arange(len(PAIRS))))

    before = accuracy(tiny_model)
    result = train(_config(tiny_model, tmp_path / "out", examples_file, epochs=15, freeze_embeddings=False),
                   read_examples(examples_file), quiet=True)
    assert np.mean(result.losses[-4:]) < 0.5 * np.mean(result.losses[:4])
    assert accuracy(tmp_path / "out") > max(before, 0.7)


def test_interrupted_training_resumes_to_the_same_weights(tiny_model, examples_file, tmp_path):
    from safetensors.numpy import load_file

    from babelir.train.data import read_examples
    from babelir.train.loop import train

    examples = read_examples(examples_file)
    whole = train(_config(tiny_model, tmp_path / "whole", examples_file, epochs=2), examples, quiet=True)
    part = train(_config(tiny_model, tmp_path / "split", examples_file, epochs=2), examples, quiet=True, stop_after=2)
    assert not part.finished and (tmp_path / "split" / "checkpoints" / "step-2.pt").exists()
    assert not (tmp_path / "split" / "model.safetensors").exists()
    rest = train(_config(tiny_model, tmp_path / "split", examples_file, epochs=2), examples, quiet=True)
    assert rest.resumed_from == 2 and rest.finished and whole.steps == rest.steps == 4
    a, b = load_file(tmp_path / "whole" / "model.safetensors"), load_file(tmp_path / "split" / "model.safetensors")
    assert all(np.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert np.allclose(whole.losses, rest.losses, atol=1e-6)
    # another setting with the same output: refused, not silently mixed
    train(_config(tiny_model, tmp_path / "other", examples_file, epochs=2), examples, quiet=True, stop_after=1)
    with pytest.raises(Exception, match="other settings"):
        train(_config(tiny_model, tmp_path / "other", examples_file, epochs=2, lr=5e-4), examples, quiet=True)


def test_distillation_adds_a_kl_term_towards_the_teacher(tiny_model, tmp_path):
    from babelir.encode.base import get_encoder
    from babelir.train.data import Example
    from babelir.train.loop import _Encoder, batch_loss
    from babelir.train.negatives import add_teacher_scores

    config = _config(tiny_model, tmp_path / "o", tmp_path / "x", teacher=f"hf:{tiny_model}", distill_weight=1.0)
    examples = [Example(q, p, [PAIRS[(i + 1) % len(PAIRS)][1]]) for i, (q, p) in enumerate(PAIRS[:4])]
    scored = add_teacher_scores(examples, get_encoder(f"hf:{tiny_model}", cache=False))
    assert all(len(ex.teacher_scores) == 2 for ex in scored)
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(tiny_model).eval()
    encode = _Encoder(model, AutoTokenizer.from_pretrained(tiny_model), {"query_prefix": "query: "}, 64, "cpu")
    with torch.no_grad():
        plain = float(batch_loss(encode, examples, config))
        # a teacher that disagrees with the student raises the loss
        flipped = [Example(ex.query, ex.positive, ex.negatives, None, [-1.0, 1.0]) for ex in examples]
        distilled = float(batch_loss(encode, flipped, config))
    assert distilled > plain


def test_duplicate_positives_in_a_batch_are_not_negatives(tiny_model, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    from babelir.train.data import Example
    from babelir.train.loop import _Encoder, batch_loss

    config = _config(tiny_model, tmp_path / "o", tmp_path / "x")
    model = AutoModel.from_pretrained(tiny_model).eval()
    encode = _Encoder(model, AutoTokenizer.from_pretrained(tiny_model), {}, 64, "cpu")
    same = [Example("what is lava", "lava is rock"), Example("what is magma", "lava is rock")]
    with torch.no_grad():
        loss = float(batch_loss(encode, same, config))
    assert loss < 1e-6  # each query's only other candidate is its own answer again: masked, so no loss


def test_bad_training_input_is_a_clear_error(tiny_model, tmp_path):
    bad = write(tmp_path / "bad.jsonl", '{"query": "q", "positive": "p"}\n{"query": "q2"}\n')
    result = run_cli("train", "--model", f"hf:{tiny_model}", "-o", str(tmp_path / "o"), "--data", str(bad))
    assert result.returncode == 2 and 'bad.jsonl:2: field "positive"' in result.stderr
    result = run_cli("train", "--model", f"hf:{tiny_model}", "-o", str(tmp_path / "o"), "--data", str(bad),
                     "--distill-weight", "0.5")
    assert result.returncode == 2 and "teacher" in result.stderr
    config = write(tmp_path / "c.yaml", f"model: hf:{tiny_model}\noutput: {tmp_path / 'o'}\ndata: x\nlearning_rate: 1\n")
    result = run_cli("train", "--config", str(config))
    assert result.returncode == 2 and 'field "learning_rate": unknown setting' in result.stderr
    assert "Traceback" not in result.stderr


def test_xquadr_split_keeps_test_articles_out_of_training(xquadr_dir):
    from babelir.train.data import XQUADR_TEST_ARTICLES, xquadr_part

    assert len(XQUADR_TEST_ARTICLES) == 12
    paragraphs = {}
    for lang in ("en", "th"):
        train, test = xquadr_part(xquadr_dir, lang, "train"), xquadr_part(xquadr_dir, lang, "test")
        assert not {d.id for d in train.docs} & {d.id for d in test.docs}
        assert not {q.id for q in train.queries} & {q.id for q in test.queries}
        assert len(train.queries) + len(test.queries) == 1190
        paragraphs[lang] = {d.id.split("-")[1] for d in test.docs}
        assert {q.doc_id for q in test.qrels} <= {d.id for d in test.docs}
    assert paragraphs["en"] == paragraphs["th"]  # the same articles in every language
    assert len(paragraphs["en"]) == 60  # 12 articles of 5 paragraphs


def test_transfer_experiment_writes_matrix_and_heatmap(tiny_model, tmp_path, xquadr_dir):
    config = write(tmp_path / "transfer.yaml", f"model: hf:{tiny_model}\nxquadr: {xquadr_dir}\nlangs: [en, th]\n"
                                               f"output: {tmp_path / 'runs'}\ntrain:\n  epochs: 0.05\n"
                                               "  batch_size: 8\n  max_length: 32\n")
    result = run_cli("experiment", "transfer", "--config", str(config), "--quiet")
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "runs" / "transfer.json").read_text())
    assert set(results["scores"]) == {"before", "en", "th"}
    assert all(0 <= v <= 1 for row in results["scores"].values() for v in row.values())
    assert (tmp_path / "runs" / "transfer.png").read_bytes()[:4] == b"\x89PNG"
    assert "| en |" in result.stdout and "relative to the in-language model" in result.stdout
    # a second run finds every model and cell done and trains nothing
    again = run_cli("experiment", "transfer", "--config", str(config), "--quiet")
    assert again.returncode == 0 and "fine-tuning" not in again.stderr
    # other training settings into the same output: refused instead of mixing old cells in
    config.write_text(config.read_text().replace("epochs: 0.05", "epochs: 0.1"))
    other = run_cli("experiment", "transfer", "--config", str(config), "--quiet")
    assert other.returncode == 2 and "other settings" in other.stderr
