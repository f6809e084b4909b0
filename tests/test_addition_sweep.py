"""Chapter 1's family through sweep.run: the same models as one direct training per member, the
sweep cache reused by a second call (chapter 2's path), and loky workers chosen by
EMERGENCE_SWEEP_BACKEND or a Dask cluster chosen by EMERGENCE_DASK_SCHEDULER alone giving
bit-identical results to serial."""

import pytest
import torch

from emergence_lib import sweep
from emergence_lib.recipes import addition
from emergence_lib.tasks import addition_problems

WIDTHS, SEEDS, SPLITS, STEPS = (8, 16), (0, 1), (0,), 20  # a tiny version of the family


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """Serial in this process at 1 torch thread, like the 1-thread workers of loky and dask;
    no sweep backend chosen by the environment unless a test sets one."""
    monkeypatch.delenv(sweep.BACKEND_ENV, raising=False)
    monkeypatch.delenv(sweep.SCHEDULER_ENV, raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def family(**kwargs) -> list[addition.FamilyMember]:
    return addition.train_addition_family(WIDTHS, SEEDS, SPLITS, steps=STEPS, progress=False,
                                          **kwargs)


def assert_same(a: list[addition.FamilyMember], b: list[addition.FamilyMember]) -> None:
    """Bit-identical members: weights, history and test logits, in the same order."""
    assert [(m.width, m.seed, m.split) for m in a] == [(m.width, m.seed, m.split) for m in b]
    for x, y in zip(a, b, strict=True):
        wx, wy = x.result.model.state_dict(), y.result.model.state_dict()
        assert wx.keys() == wy.keys() and all(torch.equal(wx[k], wy[k]) for k in wx)
        assert x.result.history.to_dict() == y.result.history.to_dict()
        assert torch.equal(x.test_logits, y.test_logits) and x.scores == y.scores


def test_family_members_are_the_direct_trainings(tmp_path):
    members = family(backend="serial", cache_dir=tmp_path)
    assert [(m.width, m.seed) for m in members] == [(w, s) for s in SEEDS for w in WIDTHS]
    data = addition_problems(addition.N_DIGITS, addition.N_TRAIN, addition.N_TEST, seed=0)
    for member in members:
        direct = addition.train_addition_model(member.width, data, seed=member.seed,
                                               steps=STEPS, progress=False)
        ours, theirs = member.result.model.state_dict(), direct.model.state_dict()
        assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
        assert member.result.history.to_dict() == direct.history.to_dict()
        with torch.no_grad():
            assert torch.equal(member.test_logits, direct.model(data.x_test))


def test_second_call_reuses_the_cache_and_trains_nothing(tmp_path, monkeypatch):
    first = family(backend="serial", cache_dir=tmp_path)
    entries = sorted((tmp_path / "addition").glob("*.pt"))
    assert len(entries) == len(WIDTHS) * len(SEEDS)

    def no_training(*args, **kwargs):
        raise AssertionError("a cached member was trained again")

    monkeypatch.setattr(addition, "train", no_training)   # what train_member calls
    assert_same(family(cache_dir=tmp_path), first)
    monkeypatch.undo()
    other = family(backend="serial", cache_dir=tmp_path, log_steps=[0, 10, STEPS])
    assert len(list((tmp_path / "addition").glob("*.pt"))) == 2 * len(entries)  # new keys
    assert other[0].result.history["step"].tolist() == [0, 10, STEPS]


def test_loky_from_the_environment_is_bit_identical_to_serial(monkeypatch):
    serial = family(backend="serial")
    monkeypatch.setenv(sweep.BACKEND_ENV, "loky")   # no change to the caller
    monkeypatch.setattr(addition, "train", None)    # so nothing ran in this process
    assert_same(addition.train_addition_family(WIDTHS, SEEDS, SPLITS, steps=STEPS, n_jobs=2,
                                               progress=False), serial)


def test_cluster_from_the_environment_is_bit_identical_to_serial(tmp_path, monkeypatch):
    distributed = pytest.importorskip(
        "distributed", reason="dask's distributed is not installed: pip install "
                              "'emergence-lib[cluster]' to run the cluster test")
    serial = family(backend="serial")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        monkeypatch.setenv(sweep.SCHEDULER_ENV, cluster.scheduler_address)  # as in the README
        on_cluster = family(cache_dir=tmp_path)
    assert_same(on_cluster, serial)
    monkeypatch.delenv(sweep.SCHEDULER_ENV)
    monkeypatch.setattr(addition, "train", None)   # the cluster's results are the cache
    assert_same(family(cache_dir=tmp_path), serial)


def test_bad_member_settings_name_the_argument():
    with pytest.raises(ValueError, match="width must be >= 1"):
        addition.member_config(0)
    with pytest.raises(ValueError, match=r"log_steps\[i\] must be <= 20"):
        addition.member_config(8, steps=20, log_steps=[0, 30])
    with pytest.raises(TypeError, match="split must be an integer"):
        addition.member_config(8, split=0.5)
    with pytest.raises(ValueError, match="must be non-empty"):
        addition.train_addition_family((), progress=False)


def test_history_logs_argmax_metrics_and_scores_hold_every_metric(tmp_path):
    """The training-time history logs only exact match, per-token and per-position accuracy
    (the figures' curves); the final scores hold every metric, computed on the final test
    logits."""
    from emergence_lib.metrics import score_predictions

    member = family(backend="serial")[0]
    logged = set(member.result.history.values)
    assert {"test_exact_match", "test_token_accuracy", "test_pos0_accuracy"} <= logged
    assert not logged & {"test_brier", "test_log_prob", "test_edit_distance"}
    data = addition_problems(addition.N_DIGITS, addition.N_TRAIN, addition.N_TEST, seed=0)
    full = score_predictions(member.test_logits, data.y_test)
    assert {k: member.scores[k] for k in full} == full
    assert member.scores["exact_match"] == member.result.history["test_exact_match"][-1]


def test_a_smaller_task_through_the_same_sweep():
    members = addition.train_addition_family((4,), (0,), (0,), steps=5, n_digits=2,
                                             n_train=50, n_test=20, progress=False)
    assert members[0].test_logits.shape == (20, 3, 10)
    with pytest.raises(sweep.SweepError, match=r"n_train \+ n_test must be <= 100"):
        addition.train_addition_family((4,), (0,), (0,), steps=5, n_digits=1, n_train=99,
                                       n_test=20, progress=False)


def test_adder_request_encode_and_validate():
    assert addition.adder_request(4821, 3907) == [1, 2, 8, 4, 7, 0, 9, 3]
    assert addition.adder_encode(4)([8, 5, 7, 6]).tolist() == [[8, 5, 0, 0, 7, 6, 0, 0]]
    assert addition.adder_validate([1, 2]) is None
    assert "odd count" in addition.adder_validate([1, 2, 3])
    with pytest.raises(ValueError, match="a must be"):
        addition.adder_request(-1, 2)
