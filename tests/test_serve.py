"""emergence_lib.serve: a real uvicorn server on a free 127.0.0.1 port, a bounded number of good
and bad requests through httpx, answers equal to the model's own forward, error codes and
messages, and the server still up afterwards."""

import asyncio
import sys
import threading

import pytest
import torch
import torch.nn as nn

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from emergence_lib.models.transformer import Transformer  # noqa: E402
from emergence_lib.serve import (  # noqa: E402
    LocalServer,
    latency_by_model,
    make_app,
    measure_latency,
)

VOCAB, N_CTX, MAX_CONTEXT = 20, 16, 12


def small_model(seed: int = 0) -> Transformer:
    torch.manual_seed(seed)
    return Transformer(vocab=VOCAB, n_ctx=N_CTX, d_model=32, n_layers=2, n_heads=2, d_mlp=32,
                       layernorm=True).eval()


@pytest.fixture(scope="module")
def model():
    return small_model()


@pytest.fixture(scope="module")
def server(model):
    with LocalServer(make_app(model, max_context=MAX_CONTEXT, name="test-model")) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def expected(model, tokens):
    """The model's own next-token probabilities for ``tokens``: (V,)."""
    with torch.no_grad():
        return torch.softmax(model(torch.tensor([tokens]))[0, -1].double(), -1)


def test_answers_equal_the_models_forward(model, client):
    generator = torch.Generator().manual_seed(1)
    for _ in range(8):
        length = int(torch.randint(1, MAX_CONTEXT + 1, (1,), generator=generator))
        tokens = torch.randint(0, VOCAB, (length,), generator=generator).tolist()
        reply = client.post("/predict", json={"tokens": tokens})
        assert reply.status_code == 200, reply.text
        body, probs = reply.json(), expected(model, tokens)
        assert body["answer"] == int(probs.argmax()) and body["context"] == length
        assert body["probability"] == pytest.approx(float(probs.max()), rel=1e-5)
        top = body["top"]
        assert len(top) == 5 and top[0]["token"] == body["answer"]
        assert [t["probability"] for t in top] == sorted((t["probability"] for t in top),
                                                         reverse=True)
        for entry in top:
            assert entry["probability"] == pytest.approx(float(probs[entry["token"]]), rel=1e-5)


def test_over_budget_is_413_naming_limit_and_length(client):
    reply = client.post("/predict", json={"tokens": [1] * (MAX_CONTEXT + 3)})
    assert reply.status_code == 413
    body = reply.json()
    assert body["error"] == "context_too_long"
    assert body["limit"] == MAX_CONTEXT and body["length"] == MAX_CONTEXT + 3
    assert f"max_context={MAX_CONTEXT}" in body["message"]
    assert f"{MAX_CONTEXT + 3} tokens" in body["message"]
    # exactly at the budget is served
    assert client.post("/predict", json={"tokens": [1] * MAX_CONTEXT}).status_code == 200


@pytest.mark.parametrize("body, words", [
    ({"tokens": []}, "tokens is empty"),
    ({"tokens": [1, "a"]}, 'whole numbers, got "a" at index 1'),
    ({"tokens": [1, 2.5]}, "whole numbers, got 2.5 at index 1"),
    ({"tokens": [3, True]}, "whole numbers, got true at index 1"),
    ({"tokens": [1, None]}, "whole numbers, got null at index 1"),
    ({"tokens": [[1, 2]]}, "whole numbers, got [1, 2] at index 0"),
    ({"tokens": [4, VOCAB]}, f"token {VOCAB} at index 1 is outside the vocabulary"),
    ({"tokens": [-1]}, "token -1 at index 0 is outside the vocabulary"),
    ({"tokens": "1 2 3"}, 'must be a list of whole numbers, got "1 2 3" (a JSON string)'),
    ({"tokens": 7}, "must be a list of whole numbers, got 7 (a JSON number)"),
    ({"words": [1, 2]}, "got an object with keys ['words']"),
    ([1, 2, 3], 'must be a JSON object {"tokens": [int, ...]}, got [1, 2, 3]'),
])
def test_malformed_input_is_422_in_plain_words(client, body, words):
    reply = client.post("/predict", json=body)
    assert reply.status_code == 422, reply.text
    assert reply.json()["error"] == "invalid_input"
    assert words in reply.json()["message"]


def test_not_json_is_422(client):
    reply = client.post("/predict", content=b'{"tokens": [1, 2',
                        headers={"content-type": "application/json"})
    assert reply.status_code == 422 and "not valid JSON" in reply.json()["message"]


def test_a_body_too_large_is_413_unread(client):
    reply = client.post("/predict", json={"tokens": [1], "padding": "x" * 100_000})
    assert reply.status_code == 413 and reply.json()["error"] == "body_too_large"
    assert "max_body_bytes=" in reply.json()["message"]

    def chunks():  # no Content-Length: the server counts while it reads
        yield b'{"tokens": [1], "padding": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    reply = client.post("/predict", content=chunks())
    assert reply.status_code == 413 and reply.json()["error"] == "body_too_large"


def test_deeply_nested_json_is_422():
    """Nesting deeper than Python's recursion limit, within the body budget of a long
    context."""
    torch.manual_seed(0)
    model = Transformer(vocab=VOCAB, n_ctx=1024, d_model=8, n_layers=1, n_heads=1)
    with LocalServer(make_app(model, max_context=1024)) as server:
        reply = httpx.post(server.url + "/predict", content=b"[" * 3000 + b"]" * 3000)
        assert reply.status_code == 422 and "not valid JSON" in reply.json()["message"]
        assert httpx.get(server.url + "/health").status_code == 200


def test_health_and_limits_after_bad_requests(model, client):
    for body in ({"tokens": []}, {"tokens": [99]}, {"tokens": [1] * 100}, "junk"):
        assert client.post("/predict", json=body).status_code in (413, 422)
    assert client.get("/health").json() == {"status": "ok", "name": "test-model"}
    limits = client.get("/limits").json()
    assert limits == {"max_context": MAX_CONTEXT, "vocab": VOCAB, "max_in_flight": None,
                      "top_k": 5, "n_ctx": N_CTX, "max_body_bytes": limits["max_body_bytes"]}
    assert limits["max_body_bytes"] > len(str([VOCAB - 1] * MAX_CONTEXT))
    reply = client.post("/predict", json={"tokens": [3, 1, 4]}).json()
    assert reply["answer"] == int(expected(model, [3, 1, 4]).argmax())


class Fragile(nn.Module):
    """A model that raises on token 7 and returns NaN logits on token 8."""

    vocab, n_ctx = VOCAB, N_CTX

    def __init__(self):
        super().__init__()
        self.inner = small_model()

    def forward(self, tokens):
        if (tokens == 7).any():
            raise RuntimeError("token 7 breaks me")
        logits = self.inner(tokens)
        return logits * float("nan") if (tokens == 8).any() else logits


def test_a_failing_model_gives_500_json_and_the_server_stays_up():
    with LocalServer(make_app(Fragile(), max_context=MAX_CONTEXT)) as server:
        with httpx.Client(base_url=server.url) as c:
            reply = c.post("/predict", json={"tokens": [1, 7]})
            assert reply.status_code == 500
            assert reply.json() == {"error": "model_error", "message": "the model failed on "
                                    "this input: RuntimeError: token 7 breaks me"}
            reply = c.post("/predict", json={"tokens": [8]})
            assert reply.status_code == 500 and "non-finite logits" in reply.json()["message"]
            assert c.get("/health").status_code == 200
            assert c.post("/predict", json={"tokens": [1, 2]}).status_code == 200


class Blocking(nn.Module):
    """A model whose forward waits until released: holds a request in flight."""

    vocab, n_ctx = VOCAB, N_CTX

    def __init__(self):
        super().__init__()
        self.inner, self.entered, self.release = small_model(), threading.Event(), \
            threading.Event()

    def forward(self, tokens):
        self.entered.set()
        assert self.release.wait(5)
        return self.inner(tokens)


def test_compute_budget_max_in_flight_gives_503():
    model = Blocking()
    with LocalServer(make_app(model, max_context=MAX_CONTEXT, max_in_flight=1)) as server:
        first = {}
        worker = threading.Thread(target=lambda: first.update(
            reply=httpx.post(server.url + "/predict", json={"tokens": [1, 2]}, timeout=10)))
        worker.start()
        assert model.entered.wait(5)
        busy = httpx.post(server.url + "/predict", json={"tokens": [3]})
        assert httpx.get(server.url + "/health").status_code == 200  # not blocked by the model
        model.release.set()
        worker.join(10)
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert busy.json()["error"] == "busy" and "max_in_flight=1" in busy.json()["message"]
    assert first["reply"].status_code == 200


def test_describe_encode_and_readout_hooks():
    model = small_model()
    app = make_app(model, max_context=4, name="padded", top_k=2,
                   encode=lambda t: torch.tensor([[0] * (N_CTX - len(t)) + t]),
                   describe=lambda t: " ".join(f"t{x}" for x in t))
    with LocalServer(app) as server:
        body = httpx.post(server.url + "/predict", json={"tokens": [5, 6]}).json()
    padded = [0] * (N_CTX - 2) + [5, 6]
    assert body["prompt"] == "t5 t6" and body["context"] == 2 and len(body["top"]) == 2
    assert body["answer"] == int(expected(model, padded).argmax())


def test_an_answer_of_several_positions():
    """A readout of (P, V) logits (e.g. chapter 1's digits): one answer token per position,
    the probability of the whole answer."""
    model = small_model()
    app = make_app(model, max_context=8, top_k=3, readout=lambda out: out[0, -3:])
    with LocalServer(app) as server:
        body = httpx.post(server.url + "/predict", json={"tokens": [4, 2, 9, 1]}).json()
    with torch.no_grad():
        probs = torch.softmax(model(torch.tensor([[4, 2, 9, 1]]))[0, -3:].double(), -1)
    assert body["answer"] == probs.argmax(-1).tolist()
    assert body["probability"] == pytest.approx(float(probs.max(-1).values.prod()), rel=1e-5)
    assert [len(t) for t in body["top"]] == [3, 3, 3]


def test_local_server_exits_cleanly():
    before = set(threading.enumerate())
    server = LocalServer(make_app(small_model(), max_context=4))
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    with server:
        url = server.url
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/health").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/health", timeout=1)
    assert set(threading.enumerate()) - before == set()
    with server:  # the same object starts again
        assert httpx.get(server.url + "/health").status_code == 200


def test_local_server_refuses_what_it_cannot_serve():
    from fastapi import FastAPI

    with pytest.raises(TypeError, match="app must be an ASGI application"):
        LocalServer(object())
    with pytest.raises(RuntimeError, match="GET /health answered 404"):
        with LocalServer(FastAPI()):
            pass
    app = make_app(small_model(), max_context=4)
    with LocalServer(app) as first:
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            with LocalServer(app, port=first.port):
                pass
        assert httpx.get(first.url + "/health").status_code == 200


def test_concurrent_requests_get_their_own_answers(model, server):
    generator = torch.Generator().manual_seed(2)
    prompts = torch.randint(0, VOCAB, (8, 6), generator=generator).tolist()
    replies = [None] * len(prompts)

    def ask(i):
        replies[i] = httpx.post(server.url + "/predict", json={"tokens": prompts[i]}).json()

    workers = [threading.Thread(target=ask, args=(i,)) for i in range(len(prompts))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    for prompt, reply in zip(prompts, replies, strict=True):
        assert reply["answer"] == int(expected(model, prompt).argmax())


def test_local_server_inside_a_running_event_loop():
    """As in a Jupyter or papermill cell: the calling thread already runs an event loop."""

    async def cell():
        with LocalServer(make_app(small_model(), max_context=4)) as server:
            return httpx.post(server.url + "/predict", json={"tokens": [1]}).status_code

    assert asyncio.run(cell()) == 200


def test_measure_latency_counts_answers_and_errors(server):
    stats = measure_latency(server.url, [[1, 2, 3], {"tokens": [1] * 50}], repeats=3)
    assert stats["n"] == 6 and stats["errors"] == 3 and stats["statuses"] == {200: 3, 413: 3}
    assert len(stats["latencies_ms"]) == 3
    assert 0 < stats["p50_ms"] <= stats["p95_ms"] and stats["mean_ms"] > 0
    refused = measure_latency(server.url, [{"tokens": [1] * 50}], repeats=2, expect=413)
    assert refused["errors"] == 0 and len(refused["latencies_ms"]) == 2
    with pytest.raises(ValueError, match="url must start with http"):
        measure_latency("127.0.0.1:80", [[1]], repeats=1)
    with pytest.raises(ValueError, match="payloads must be a non-empty list"):
        measure_latency(server.url, [], repeats=1)
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        measure_latency(server.url, [[1]], repeats=0)


def test_latency_by_model_serves_each_in_turn():
    models = {"below": small_model(0), "above": small_model(1)}
    stats = latency_by_model(models, [[1, 2], [3, 4, 5]], max_context=8, repeats=2)
    assert list(stats) == ["below", "above"]
    assert all(s["n"] == 4 and s["errors"] == 0 for s in stats.values())
    with pytest.raises(ValueError, match="models must be a non-empty dict"):
        latency_by_model({}, [[1]], max_context=8)


def test_make_app_rejects_bad_arguments(model):
    with pytest.raises(ValueError, match="max_context must be <= the model's n_ctx=16"):
        make_app(model, max_context=17)
    with pytest.raises(ValueError, match="max_context must be >= 1"):
        make_app(model, max_context=0)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        make_app(lambda x: x, max_context=4)
    with pytest.raises(ValueError, match="vocab must be given"):
        make_app(nn.Linear(2, 2), max_context=4)
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        make_app(model, max_context=4, top_k=0)
    with pytest.raises(TypeError, match="describe must be callable"):
        make_app(model, max_context=4, describe="yes")


def test_importing_serve_needs_none_of_the_extra(monkeypatch):
    """The module imports without fastapi, uvicorn and httpx (they are loaded when used)."""
    import importlib.util

    import emergence_lib.serve as serve

    for name in ("fastapi", "uvicorn", "httpx", "starlette"):
        monkeypatch.setitem(sys.modules, name, None)
    spec = importlib.util.spec_from_file_location("emergence_lib._serve_copy", serve.__file__)
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    assert callable(copy.make_app)


def test_missing_fastapi_names_the_extra(model, monkeypatch):
    monkeypatch.setitem(sys.modules, "fastapi", None)  # makes `import fastapi` fail
    with pytest.raises(ImportError, match=r"pip install 'emergence-lib\[serve\]'"):
        make_app(model, max_context=4)


def test_serve_benchmark_runs_on_tiny_sizes(capsys):
    """benchmarks/serve.py end to end in process, one model, one short context (no timing
    asserted)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "serve.py"
    spec = importlib.util.spec_from_file_location("bench_serve", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = bench.bench(["small"], [4], repeats=2)
    assert [(r["context"], r["status"], r["errors"]) for r in rows] == \
        [(4, 200, 0), (bench.N_CTX + 1, 413, 0)]
    bench.print_table(rows, ceiling=100.0)
    assert "matmul ceiling: 100.0 GFLOP/s" in capsys.readouterr().out


def test_chapter_1s_adder_behind_a_digit_count_guard():
    """The served adder (recipes.addition's encode/readout/validate): answers equal the model's
    own digits, shorter operands are padded, more digits than the budget get a 413 naming the
    limit in digits, an odd digit count a 422 (validate), and the server stays up."""
    from emergence_lib.recipes import addition
    from emergence_lib.tasks import from_digits

    n = addition.N_DIGITS
    model = addition.addition_model(16, seed=0).eval()
    options = {"vocab": 10, "encode": addition.adder_encode(n), "readout": addition.adder_readout,
               "validate": addition.adder_validate, "unit": "digits"}
    with LocalServer(make_app(model, max_context=2 * n, **options)) as server:
        with httpx.Client(base_url=server.url) as c:
            tokens = addition.adder_request(4821, 3907)
            reply = c.post("/predict", json={"tokens": tokens}).json()
            with torch.no_grad():
                want = model(torch.tensor([tokens])).argmax(-1)[0].tolist()
            assert reply["answer"] == want and len(reply["top"]) == n + 1
            short = c.post("/predict", json={"tokens": addition.adder_request(58, 67, 2)}).json()
            with torch.no_grad():
                padded = model(torch.tensor([addition.adder_request(58, 67)])).argmax(-1)[0]
            assert short["answer"] == padded.tolist()
            too_long = c.post("/predict", json={"tokens": addition.adder_request(1, 2, n + 1)})
            assert too_long.status_code == 413
            assert too_long.json()["message"].startswith(
                f"the context has {2 * n + 2} digits, more than this server's budget of "
                f"max_context={2 * n} digits")
            odd = c.post("/predict", json={"tokens": [1, 2, 3]})
            assert odd.status_code == 422 and "odd count" in odd.json()["message"]
            assert c.get("/health").status_code == 200
    assert int(from_digits(addition.adder_request(4821, 3907)[:n])) == 4821
    with pytest.raises(TypeError, match="validate must be callable"):
        make_app(model, max_context=8, validate="odd", **{k: v for k, v in options.items()
                                                          if k != "validate"})
    with pytest.raises(ValueError, match="unit must be a non-empty string"):
        make_app(model, max_context=8, vocab=10, unit="")
