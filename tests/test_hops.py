"""The k-hop task of chapter 9 part 2: answers, decisive positions, shortcut baselines,
determinism and bad inputs."""

import pytest
import torch

from emergence_lib.tasks.hops import HopTask, chase, hop_task


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_layout_sizes():
    task = hop_task(8, 3)
    assert isinstance(task, HopTask)
    assert (task.n_pairs, task.query_offset, task.answer_offset) == (64, 64, 72)
    assert task.vocab == 64 + 8 + 3 * 8 and task.n_ctx == 9
    tokens, answers = task.sample(5, gen())
    assert tokens.shape == (5, 9) and answers.shape == (5, 3)
    assert tokens.dtype == torch.long and answers.dtype == torch.long
    assert int(tokens.max()) < task.vocab


def test_answers_follow_the_pairs():
    task = hop_task(8, 3)
    tokens, answers = task.sample(64, gen(1))
    for row, ans in zip(tokens.tolist(), answers.tolist(), strict=True):
        f = {t // 8: t % 8 for t in row[:-1]}
        node = row[-1] - task.query_offset
        for k in range(3):
            node = f[node]
            assert ans[k] == node


def test_every_graph_is_one_cycle_so_no_answer_is_the_query():
    task = hop_task(10, 4)
    f, query = task.decode(task.sample(200, gen(2))[0])
    for row in f.tolist():
        node, seen = 0, []
        for _ in range(10):
            seen.append(node)
            node = row[node]
        assert node == 0 and sorted(seen) == list(range(10))
    _, answers = task.sample(200, gen(2))
    assert not (answers == query[:, None]).any()


def test_sampling_is_deterministic_per_generator():
    task = hop_task(8, 3)
    a, b = task.sample(16, gen(7)), task.sample(16, gen(7))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    c = task.sample(16, gen(8))
    assert not torch.equal(a[0], c[0])
    sampler = task.sampler()
    assert torch.equal(sampler(16, gen(7))[0], a[0])


def test_decisive_positions_hold_the_pairs_each_hop_reads():
    task = hop_task(8, 3)
    tokens, answers = task.sample(50, gen(3))
    positions = task.decisive_positions(tokens)
    assert positions.shape == (50, 3)
    query = tokens[:, -1] - task.query_offset
    previous = torch.cat([query[:, None], answers[:, :-1]], 1)
    read = tokens.gather(1, positions)
    assert torch.equal(read // 8, previous) and torch.equal(read % 8, answers)


def test_readout_shapes():
    task = hop_task(8, 3)
    logits = torch.randn(4, 9, task.vocab)
    out = task.readout(logits)
    assert out.shape == (4, 3, 8)
    assert torch.equal(out[:, 1], logits[:, -1, 80:88])
    assert torch.equal(task.readout(logits[:, -1]), out)
    with pytest.raises(ValueError, match="logits must have shape"):
        task.readout(torch.randn(4, 7))


def test_shortcut_baselines():
    task = hop_task(8, 3)
    base = task.shortcut_baselines(n=20_000, seed=0)
    assert base["answer_is_query"] == [0.0, 0.0, 0.0]
    assert base["one_hop"] == [1.0, 0.0, 0.0]
    assert base["uniform"] == pytest.approx([1 / 7] * 3)
    assert base["exclusion"] == pytest.approx([1.0, 0.2, 0.2]) and task.chance == 0.2
    for acc in base["most_frequent"]:   # uniform answers: about 1/8 (+- 3 sigma)
        assert abs(acc - 1 / 8) < 3 * (0.125 * 0.875 / 20_000) ** 0.5 + 0.005
    assert base == task.shortcut_baselines(n=20_000, seed=0)


def test_chase():
    f = torch.tensor([[1, 2, 0]])
    assert chase(f, torch.tensor([0]), 4).tolist() == [[1, 2, 0, 1]]
    with pytest.raises(ValueError, match="hops"):
        chase(f, torch.tensor([0]), 0)


@pytest.mark.parametrize("args, error, words", [
    ((3, 1), ValueError, "n_nodes must be >= 4"),
    ((65, 1), ValueError, "n_nodes must be <= 64"),
    ((8, 4), ValueError, "hops must be < n_nodes / 2"),
    ((8, 0), ValueError, "hops must be >= 1"),
    ((8.0, 2), TypeError, "n_nodes must be an integer"),
    ((8, True), TypeError, "hops must be an integer"),
])
def test_bad_task_arguments(args, error, words):
    with pytest.raises(error, match=words):
        hop_task(*args)


def test_bad_sample_and_token_inputs():
    task = hop_task(8, 3)
    with pytest.raises(ValueError, match="batch must be >= 1"):
        task.sample(0, gen())
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        task.sample(4, None)
    with pytest.raises(ValueError, match="batch_size"):
        task.sampler()(None, gen())
    tokens, _ = task.sample(4, gen())
    with pytest.raises(ValueError, match="9 positions"):
        task.decode(tokens[:, 1:])
    with pytest.raises(TypeError, match="integer tensor"):
        task.decisive_positions(tokens.float())
    bad = tokens.clone()
    bad[0, -1] = 3                       # a pair id where the query must be
    with pytest.raises(ValueError, match="query id"):
        task.decode(bad)
