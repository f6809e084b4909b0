"""The nested if-then-else generator of chapter 9, part 1: seeded, answers that an independent
interpreter agrees with, balanced leaves, padding, C_i, bad inputs, the optional HF export."""

import numpy as np
import pytest
import torch

from emergence_lib.models import Transformer
from emergence_lib.tasks.conditionals import (
    PAD,
    QUERY,
    VOCAB_SIZE,
    conditional_programs,
    describe,
    max_length,
    run_program,
    to_hf_dataset,
)


@pytest.fixture(scope="module")
def programs():
    return conditional_programs(3000)


def test_same_seed_same_programs_and_another_seed_differs(programs):
    again = conditional_programs(3000)
    assert torch.equal(programs.tokens, again.tokens)
    assert torch.equal(programs.answers, again.answers)
    other = conditional_programs(3000, seed=7)
    assert not torch.equal(programs.tokens, other.tokens)


def test_shape_padding_and_vocabulary(programs):
    assert programs.tokens.shape == (3000, 128)
    assert int(programs.tokens.max()) < VOCAB_SIZE
    rows = torch.arange(len(programs))
    assert (programs.tokens[rows, programs.query_pos] == QUERY).all()
    assert torch.equal(programs.tokens[rows, programs.answer_pos], programs.answers)
    after = torch.arange(128)[None] > programs.answer_pos[:, None]
    assert (programs.tokens[after] == PAD).all()
    assert int(programs.answer_pos.max()) + 1 <= max_length()
    assert set(programs.depth.tolist()) == {3, 4, 5}


def test_an_interpreter_agrees_with_every_answer(programs):
    assert all(run_program(programs.tokens[i]) == int(programs.answers[i])
               for i in range(len(programs)))


def test_every_leaf_is_equally_likely(programs):
    for d in (3, 4, 5):
        slots = programs.slot[programs.depth == d]
        share = np.bincount(slots.numpy(), minlength=d + 1) / len(slots)
        assert np.abs(share - 1 / (d + 1)).max() < 0.06, (d, share)
    labels = np.bincount(programs.answers.numpy() - int(programs.answers.min()))
    assert labels.min() / labels.max() > 0.8


def test_operators_say_nothing_about_truth():
    # the truth of every condition, read off the program: P(true | operator) ~ 1/2
    p = conditional_programs(1500, seed=3)
    truth: dict[str, list[bool]] = {}
    for row in p.tokens:
        words = describe(row).split()
        env = {}
        i = 0
        while words[i] != "if":
            env[words[i]] = int(words[i + 2])
            i += 4
        for j, w in enumerate(words):
            if w == "if":
                x, op, y = words[j + 1:j + 4]
                vy = env[y] if y in env else int(y)
                ok = {"<": env[x] < vy, ">": env[x] > vy, "==": env[x] == vy,
                      "!=": env[x] != vy}[op]
                truth.setdefault(op, []).append(ok)
    for op, seen in truth.items():
        assert abs(np.mean(seen) - 0.5) < 0.06, (op, np.mean(seen))


def test_padded_keeps_programs_and_refuses_to_cut_them(programs):
    wide = programs.padded(160)
    assert wide.tokens.shape[1] == 160 and torch.equal(wide.tokens[:, :128], programs.tokens)
    narrow = programs.padded(80)
    assert torch.equal(narrow.tokens, programs.tokens[:, :80])
    with pytest.raises(ValueError, match="n_ctx must be >="):
        programs.padded(40)


def test_describe_reads_a_program():
    p = conditional_programs(1)
    text = describe(p.tokens[0])
    assert text.count("if") == int(p.depth[0]) and text.endswith(f"? {text.split()[-1]}")
    assert "_" not in text and "=" in text


def test_log2_C_i_follows_the_prompt_length(programs):
    model = Transformer(VOCAB_SIZE, 128, d_model=60, n_layers=3, n_heads=3, d_mlp=240,
                        layernorm=True, head_gates=True)
    c = programs.log2_C_i(model)
    assert c.shape == (len(programs),) and np.isfinite(c).all()
    longer = programs.prompt_length.numpy() > programs.prompt_length.numpy().min()
    assert c[longer].min() > c[~longer].max()       # C_i grows with the prompt, nothing else


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n": 0}, ValueError, "n must be >= 1"),
    ({"n": 2.5}, TypeError, "n must be an integer"),
    ({"n": 5, "min_depth": 4, "max_depth": 3}, ValueError, "max_depth must be >= 4"),
    ({"n": 5, "n_ctx": 64}, ValueError, "n_ctx must be >= 71"),
    ({"n": 5, "n_labels": 5}, ValueError, "n_labels must be >= max_depth \\+ 1 = 6"),
    ({"n": 5, "n_vars": 4}, ValueError, "n_vars must be >= max_depth=5"),
    ({"n": 5, "n_values": 1}, ValueError, "n_values must be >= 2"),
    ({"n": 5, "seed": -1}, ValueError, "seed must be >= 0"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    n = kwargs.pop("n")
    with pytest.raises(error, match=match):
        conditional_programs(n, **kwargs)


def test_bad_tokens_are_named():
    with pytest.raises(ValueError, match="ids in \\[0, 256\\)"):
        describe([1, 2, 999])
    with pytest.raises(TypeError, match="sequence of token ids"):
        describe("a = 1")
    with pytest.raises(ValueError, match="must contain the \\? token"):
        run_program([1, 32, 2, 16, 3])


def test_hf_export_names_the_missing_package():
    p = conditional_programs(4)
    try:
        import datasets  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="'datasets'"):
            to_hf_dataset(p)
    with pytest.raises(TypeError, match="programs must be ConditionalPrograms"):
        to_hf_dataset([1, 2])


def test_hf_export_round_trips():
    pytest.importorskip("datasets")
    p = conditional_programs(6)
    ds = to_hf_dataset(p)
    assert len(ds) == 6 and ds[2]["tokens"] == p.tokens[2].tolist()
    assert ds[2]["answer"] == int(p.answers[2]) and ds[2]["depth"] == int(p.depth[2])
