"""emergence_lib.export: torch.export and TorchScript round trips give the model's outputs
exactly, at other batch sizes and lengths, and bad inputs are refused."""

import pytest
import torch

from emergence_lib.export import (
    check_roundtrip,
    export_model,
    load_exported,
    load_torchscript,
    save_exported,
    save_torchscript,
    trace_torchscript,
)
from emergence_lib.models.mlp import DigitMLP
from emergence_lib.models.transformer import Transformer

VOCAB, N_CTX = 20, 12


def small_model(seed: int = 0, **kwargs) -> Transformer:
    torch.manual_seed(seed)
    return Transformer(vocab=VOCAB, n_ctx=N_CTX, d_model=32, n_layers=2, n_heads=2,
                       **kwargs).eval()


def tokens(batch: int, length: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))


SHAPES = [(1, 1), (1, N_CTX), (3, 5), (7, 9)]


@pytest.fixture(scope="module")
def model():
    return small_model(d_mlp=48, layernorm=True)


@pytest.fixture(scope="module")
def saved(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "model.pt2"
    return save_exported(export_model(model, tokens(1, 4)), path)


def test_exported_program_reloads_with_identical_outputs(model, saved):
    reloaded = load_exported(saved)
    for batch, length in SHAPES:
        assert check_roundtrip(model, reloaded, tokens(batch, length)) == 0.0


def test_the_exported_program_checks_ids_and_length(saved):
    run = load_exported(saved).module()
    with pytest.raises(RuntimeError, match="Runtime assertion failed"):
        run(torch.tensor([[1, VOCAB]]))
    with pytest.raises(RuntimeError, match="Runtime assertion failed"):
        run(torch.tensor([[-1, 2]]))
    with pytest.raises(AssertionError, match=f"<= {N_CTX}"):
        run(tokens(1, N_CTX + 1))


def test_transformer_with_gates_exports_as_it_is():
    model = small_model(seed=3, head_gates=True)
    x = tokens(4, 6)
    program = export_model(model, x, dynamic=False)
    assert check_roundtrip(model, program, x) == 0.0


def test_torchscript_trace_roundtrip(model, tmp_path):
    traced = trace_torchscript(model, tokens(2, 4))
    reloaded = load_torchscript(save_torchscript(traced, tmp_path / "model.ts"))
    for batch, length in SHAPES:
        assert check_roundtrip(model, reloaded, tokens(batch, length)) == 0.0


def test_other_modules_export_as_they_are(tmp_path):
    torch.manual_seed(0)
    mlp = DigitMLP(n_inputs=4, n_outputs=3, width=16).eval()
    x = torch.randint(0, 10, (5, 4), generator=torch.Generator().manual_seed(0))
    path = save_exported(export_model(mlp, x[:1]), tmp_path / "mlp.pt2")
    assert check_roundtrip(mlp, load_exported(path), x) == 0.0


def test_bad_inputs(model, tmp_path):
    with pytest.raises(TypeError, match="example_tokens must be a torch.Tensor"):
        export_model(model, [[1, 2]])
    with pytest.raises(TypeError, match="example_tokens must hold integer token ids"):
        export_model(model, torch.zeros(1, 3))
    with pytest.raises(ValueError, match=f"at most n_ctx={N_CTX} positions, got {N_CTX + 1}"):
        export_model(model, tokens(1, N_CTX + 1))
    with pytest.raises(ValueError, match=rf"ids in \[0, {VOCAB}\), got values from 0 to 99"):
        export_model(model, torch.tensor([[0, 99]]))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        export_model("model", tokens(1, 2))
    with pytest.raises(TypeError, match="program must be a torch.export.ExportedProgram"):
        save_exported(model, tmp_path / "x.pt2")
    with pytest.raises(FileNotFoundError, match="no exported program at"):
        load_exported(tmp_path / "missing.pt2")
    with pytest.raises(TypeError, match="module must be a torch.jit.ScriptModule"):
        save_torchscript(model, tmp_path / "x.ts")
    with pytest.raises(FileNotFoundError, match="no TorchScript module at"):
        load_torchscript(tmp_path / "missing.ts")


def test_the_reloaded_program_can_be_served(model, saved):
    """export -> save -> load -> serve: the service answers what the original model says."""
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("fastapi")
    from emergence_lib.serve import LocalServer, make_app

    app = make_app(load_exported(saved).module(), max_context=N_CTX, vocab=VOCAB)
    x = tokens(1, 7)
    with LocalServer(app) as server:
        answer = httpx.post(server.url + "/predict", json={"tokens": x[0].tolist()}).json()
    with torch.no_grad():
        assert answer["answer"] == int(model(x)[0, -1].argmax())
