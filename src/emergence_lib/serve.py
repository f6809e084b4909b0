"""A trained model behind HTTP: a FastAPI app with a context-length budget guard, a local
uvicorn server for tests and notebooks, and latency measured with a real HTTP client.

    app = make_app(model, max_context=32)          # POST /predict, GET /health, GET /limits
    with LocalServer(app) as server:                # uvicorn on a free 127.0.0.1 port
        stats = measure_latency(server.url, [{"tokens": [1, 2, 3]}], repeats=20)
    both = latency_by_model({"below": small, "above": large}, payloads, max_context=32)

POST /predict takes ``{"tokens": [int, ...]}`` and answers the model's distribution over the
next token (the last position's logits): ``{"answer", "probability", "top", "context"}``.
Errors are JSON ``{"error": kind, "message": plain words, ...}``:

- 413 ``context_too_long``: more tokens than ``max_context`` (the message names the limit and the
  length sent). 413 rather than 422 because the request is well formed, only larger than this
  server is willing to process (RFC 9110's "Content Too Large"): a client can tell "shorten it"
  from "fix it" by the code alone.
  A body too large to hold ``max_context`` ids is refused (413 ``body_too_large``) unread.
- 422 ``invalid_input``: not JSON, no ``tokens`` list, a token that is not a whole number, a token
  outside the vocabulary, an empty list.
- 503 ``busy``: ``max_in_flight`` requests are already being computed (the compute budget), with
  a ``Retry-After`` header.
- 500 ``model_error``: the model raised or returned non-finite logits; the server stays up.

FastAPI, uvicorn and httpx are the optional extra ``[serve]``; they are imported only when used.
"""

# no `from __future__ import annotations`: FastAPI reads the route handlers' annotations
# (fastapi.Request) at run time, from inside make_app
import importlib
import json
import math
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from ._validate import check_float, check_int

INSTALL_HINT = "pip install 'emergence-lib[serve]'"


def _require(module: str) -> ModuleType:
    """Import an optional dependency of the ``[serve]`` extra, or raise saying how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"emergence_lib.serve needs {module} (FastAPI, uvicorn and httpx are "
                          f"the optional extra [serve]): {INSTALL_HINT}") from err


class _Rejected(Exception):
    """A request refused with an HTTP status and a plain-words message (becomes the JSON body)."""

    def __init__(self, status: int, error: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.body = status, {"error": error, "message": message, **extra}


_JSON_TYPES = {dict: "object", list: "array", str: "string", int: "number", float: "number",
               bool: "boolean", type(None): "null"}


def _show(value: object) -> str:
    """A short JSON (else Python) rendering of a value for an error message."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_tokens(body: object, *, max_context: int, vocab: int,
                  unit: str = "tokens") -> list[int]:
    """The ``tokens`` of a request body, checked against the budget and the vocabulary, or a
    ``_Rejected`` (413 over budget, 422 malformed) whose message says what is wrong."""
    if not isinstance(body, dict) or "tokens" not in body:
        got = f"an object with keys {sorted(body)}" if isinstance(body, dict) else _show(body)
        raise _Rejected(422, "invalid_input", f'the request body must be a JSON object '
                        f'{{"tokens": [int, ...]}}, got {got}')
    tokens = body["tokens"]
    if not isinstance(tokens, list):
        raise _Rejected(422, "invalid_input", f"tokens must be a list of whole numbers, got "
                        f"{_show(tokens)} (a JSON {_JSON_TYPES.get(type(tokens), 'value')})")
    if not tokens:
        raise _Rejected(422, "invalid_input", "tokens is empty: send at least one token")
    if len(tokens) > max_context:  # before looking at every token: the guard is cheap
        raise _Rejected(413, "context_too_long",
                        f"the context has {len(tokens)} {unit}, more than this server's budget "
                        f"of max_context={max_context} {unit}: send at most {max_context}",
                        limit=max_context, length=len(tokens))
    for i, token in enumerate(tokens):
        if isinstance(token, bool) or not isinstance(token, int):
            raise _Rejected(422, "invalid_input", f"tokens must be whole numbers, got "
                            f"{_show(token)} at index {i}")
        if not 0 <= token < vocab:
            raise _Rejected(422, "invalid_input", f"token {token} at index {i} is outside the "
                            f"vocabulary: ids must lie in [0, {vocab})", vocab=vocab)
    return tokens


def _default_encode(tokens: list[int]) -> torch.Tensor:
    """tokens (T,) -> a batch of one (1, T) int64."""
    return torch.tensor([tokens], dtype=torch.long)


def _default_readout(output: torch.Tensor) -> torch.Tensor:
    """Model output (1, T, V) or (1, V) -> the next-token logits (V,)."""
    return output[0, -1] if output.ndim == 3 else output[0]


def _distribution(logits: torch.Tensor, top_k: int) -> dict:
    """logits (V,) -> answer (argmax), its probability and the ``top_k`` most probable tokens;
    logits (P, V) of an answer of P positions (e.g. chapter 1's digits) -> answer a list of P
    tokens, probability their product (the model's probability of that whole answer), top one
    list per position."""
    probs = torch.softmax(logits.double(), dim=-1)
    values, ids = probs.topk(min(top_k, probs.shape[-1]), dim=-1)  # (top_k,) or (P, top_k)
    if logits.ndim == 1:
        values, ids = values[None], ids[None]
    top = [[{"token": t, "probability": p} for t, p in zip(i, v, strict=True)]
           for i, v in zip(ids.tolist(), values.tolist(), strict=True)]
    answer = ids[:, 0].tolist()
    probability = float(values[:, 0].prod())
    if logits.ndim == 1:
        return {"answer": answer[0], "probability": probability, "top": top[0]}
    return {"answer": answer, "probability": probability, "top": top}


Encode = Callable[[list[int]], torch.Tensor]
Readout = Callable[[torch.Tensor], torch.Tensor]


def make_app(model: nn.Module, *, max_context: int, vocab: int | None = None,
             name: str = "emergence-model", encode: Encode | None = None,
             describe: Callable[[list[int]], str] | None = None, top_k: int = 5,
             max_in_flight: int | None = None, readout: Readout | None = None,
             unit: str = "tokens", validate: Callable[[list[int]], str | None] | None = None):
    """A FastAPI app serving ``model``'s next-token distribution: POST /predict, GET /health,
    GET /limits.

    max_context: the context-length budget (more tokens get a 413); at most the model's
    ``n_ctx`` unless ``encode`` is given. vocab: token ids allowed, [0, vocab) (default
    ``model.vocab``). encode: request tokens (T,) -> model input (1, T') (default: the tokens as a
    batch of one). describe: tokens -> a readable prompt, returned as ``"prompt"``. readout: model
    output -> next-token logits (V,) (default: the last position of (1, T, V), or (1, V)), or
    (P, V) for an answer of P tokens (then "answer" is a list, "top" one list per position).
    max_in_flight: the compute budget, requests computed at once (more get a 503; None: no cap).
    unit: what a token is called in the budget's 413 message (e.g. "digits"). validate: tokens
    -> None when the request is well formed, else a plain-words message (a 422), for a model
    whose input has a structure beyond a list of ids (e.g. two operands of equal length).
    """
    fastapi = _require("fastapi")
    responses = _require("fastapi.responses")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    max_context = check_int("max_context", max_context, minimum=1)
    if vocab is None:
        vocab = getattr(model, "vocab", None)
        if vocab is None:
            raise ValueError(f"vocab must be given: {type(model).__name__} has no .vocab "
                             f"attribute to read it from")
    vocab = check_int("vocab", vocab, minimum=1)
    n_ctx = getattr(model, "n_ctx", None)
    if encode is None and n_ctx is not None and max_context > n_ctx:
        raise ValueError(f"max_context must be <= the model's n_ctx={n_ctx} (a longer request "
                         f"would crash the model), got {max_context}")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not isinstance(unit, str) or not unit:
        raise ValueError(f"unit must be a non-empty string, got {unit!r}")
    for arg, fn in (("encode", encode), ("describe", describe), ("readout", readout),
                    ("validate", validate)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{arg} must be callable or None, got {type(fn).__name__}")
    top_k = check_int("top_k", top_k, minimum=1)
    if max_in_flight is not None:
        max_in_flight = check_int("max_in_flight", max_in_flight, minimum=1)
    encode, readout = encode or _default_encode, readout or _default_readout
    try:
        model.eval()
    except NotImplementedError:  # an exported program's module has no train/eval switch
        pass
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    # a body this large cannot hold max_context ids: refused before it is read and parsed
    max_body = 1024 + (len(str(vocab)) + 8) * max_context
    limits = {"max_context": max_context, "vocab": vocab, "max_in_flight": max_in_flight,
              "top_k": min(top_k, vocab), "n_ctx": n_ctx, "max_body_bytes": max_body}
    in_flight, lock = [0], threading.Lock()

    def answer(tokens: list[int]) -> dict:
        """Run the model (in a worker thread) and read out the next-token distribution."""
        try:
            with torch.inference_mode():
                logits = readout(model(encode(tokens).to(device)))
            if logits.ndim not in (1, 2):
                raise ValueError(f"readout must give logits of shape (vocab,) or (positions, "
                                 f"vocab), got {tuple(logits.shape)}")
            if not torch.isfinite(logits).all():
                raise ValueError("the model returned non-finite logits (NaN or infinity)")
            reply = _distribution(logits.float().cpu(), top_k)
            if describe is not None:
                reply["prompt"] = describe(tokens)
        except Exception as err:  # any failure of the model is this request's 500, not a crash
            raise _Rejected(500, "model_error",
                            f"the model failed on this input: {type(err).__name__}: {err}") \
                from err
        return {**reply, "context": len(tokens)}

    app = fastapi.FastAPI(title=name, description="Next-token distribution of a trained model, "
                          "with a context-length budget guard (emergence_lib.serve).")

    @app.exception_handler(_Rejected)
    async def rejected(request, exc: _Rejected):
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return responses.JSONResponse(exc.body, status_code=exc.status, headers=headers)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "name": name}

    @app.get("/limits")
    def get_limits() -> dict:
        return limits

    body_schema = {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"type": "object", "required": ["tokens"], "properties": {"tokens": {
            "type": "array", "items": {"type": "integer", "minimum": 0, "maximum": vocab - 1},
            "minItems": 1, "maxItems": max_context}}}}}}}

    @app.post("/predict", openapi_extra=body_schema)
    async def predict(request: fastapi.Request) -> dict:
        size = request.headers.get("content-length", "0")
        if not size.isdigit() or int(size) > max_body:
            raise _Rejected(413, "body_too_large", f"the request body has {size} bytes, more "
                            f"than this server reads (max_body_bytes={max_body}, room for "
                            f"max_context={max_context} tokens)", limit=max_body)
        raw = b""
        async for chunk in request.stream():  # a body sent without (or with a false) length
            raw += chunk
            if len(raw) > max_body:
                raise _Rejected(413, "body_too_large", f"the request body has more than "
                                f"{max_body} bytes, more than this server reads "
                                f"(max_body_bytes={max_body})", limit=max_body)
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
            raise _Rejected(422, "invalid_input",
                            f'the request body is not valid JSON ({err}): send '
                            f'{{"tokens": [int, ...]}}') from err
        tokens = _parse_tokens(body, max_context=max_context, vocab=vocab, unit=unit)
        problem = None if validate is None else validate(tokens)
        if problem is not None:
            raise _Rejected(422, "invalid_input", str(problem))
        with lock:
            if max_in_flight is not None and in_flight[0] >= max_in_flight:
                raise _Rejected(503, "busy", f"the server is computing {in_flight[0]} requests, "
                                f"its budget of max_in_flight={max_in_flight}: retry shortly",
                                limit=max_in_flight)
            in_flight[0] += 1
        try:
            return await _run_in_threadpool(answer, tokens)
        finally:
            with lock:
                in_flight[0] -= 1

    return app


async def _run_in_threadpool(fn: Callable, *args: Any) -> Any:
    """Run a blocking call off the event loop, so /health answers while the model computes."""
    concurrency = _require("starlette.concurrency")
    return await concurrency.run_in_threadpool(fn, *args)


class LocalServer:
    """Context manager: ``app`` served by uvicorn on ``host`` (a free port unless ``port``) in a
    background thread; entering waits until GET /health answers, exiting shuts it down and
    joins the thread. Works where an event loop is already running (Jupyter, papermill)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int | None = None, *,
                 startup_timeout: float = 10.0, log_level: str = "warning"):
        if not callable(app):
            raise TypeError(f"app must be an ASGI application (e.g. from make_app), "
                            f"got {type(app).__name__}")
        self.app, self.host = app, host
        self._requested = None if port is None else check_int("port", port, minimum=1,
                                                              maximum=65535)
        self.port = self._requested  # the port in use while running
        self.startup_timeout = check_float("startup_timeout", startup_timeout, minimum=0,
                                           strict_min=True)
        self.log_level = log_level
        self._server = self._thread = self._socket = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (only while the server runs)."""
        if self._server is None:
            raise RuntimeError("the server is not running: use it inside `with LocalServer(app) "
                               "as server:`")
        host = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address
        return f"http://{host}:{self.port}"

    def __enter__(self) -> "LocalServer":
        uvicorn, httpx = _require("uvicorn"), _require("httpx")
        if self._server is not None:
            raise RuntimeError("this LocalServer is already running")
        # proto=IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY on the accepted
        # connections only then, and without it every keep-alive answer waits ~40 ms (Nagle's
        # algorithm against the client's delayed ACK)
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET,
                             socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:  # bind here, so the port is ours before uvicorn starts (no race for a free port)
            sock.bind((self.host, self._requested or 0))
        except OSError as err:
            sock.close()
            raise OSError(f"cannot listen on {self.host}:{self._requested or 0}: {err}") from err
        self._socket, self.port = sock, sock.getsockname()[1]
        config = uvicorn.Config(self.app, host=self.host, port=self.port,
                                log_level=self.log_level, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name=f"uvicorn-{self.port}", daemon=True)
        self._thread.start()
        deadline, last, status = time.monotonic() + self.startup_timeout, None, None
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                break
            try:
                status = httpx.get(self.url + "/health", timeout=1.0).status_code
            except httpx.HTTPError as err:  # not listening yet
                last = err
                time.sleep(0.01)
                continue
            if status == 200:
                return self
            break
        died = not self._thread.is_alive()
        self.__exit__(None, None, None)
        if not died and status is not None:
            raise RuntimeError(f"the server runs but GET /health answered {status}: "
                               f"LocalServer needs an app with a /health route (make_app's has "
                               f"one)")
        if died:
            raise RuntimeError("the uvicorn server stopped before answering GET /health (its "
                               "log above says why; is app an ASGI app, e.g. from make_app?)")
        raise RuntimeError(f"the server did not answer GET /health within "
                           f"{self.startup_timeout} s (last error: {last!r})")

    def __exit__(self, *exc: object) -> None:
        server, thread, sock = self._server, self._thread, self._socket
        if server is None:
            return
        server.should_exit = True
        thread.join(timeout=5.0)
        if thread.is_alive():  # a request still running after 5 s: stop without waiting for it
            server.force_exit = True
            thread.join(timeout=5.0)
        sock.close()
        self._server = self._thread = self._socket = None


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def measure_latency(url: str, payloads: Sequence[dict | list[int]], *, repeats: int = 10,
                    warmup: int = 1, endpoint: str = "/predict", timeout: float = 10.0,
                    expect: int = 200) -> dict:
    """Wall-clock latency of POST ``url + endpoint`` with a real HTTP client (httpx, one
    keep-alive connection): every payload sent ``repeats`` times after ``warmup`` rounds.

    payloads: JSON bodies, or token lists sent as ``{"tokens": [...]}``. expect: the status the
    requests should get (e.g. 413 to time the budget guard's refusals). Returns p50_ms, p95_ms,
    mean_ms over the requests answered with ``expect`` (NaN if none), n (requests timed),
    errors (other answers or failed connections), statuses {code: count}, latencies_ms (those
    timed, in order).
    """
    httpx = _require("httpx")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, got {url!r}")
    if isinstance(payloads, (str, bytes, dict)) or not isinstance(payloads, Sequence) \
            or not payloads:
        raise ValueError(f"payloads must be a non-empty list of JSON bodies or token lists, "
                         f"got {_show(payloads)}")
    bodies = [p if isinstance(p, dict) else {"tokens": list(p)} for p in payloads]
    repeats = check_int("repeats", repeats, minimum=1)
    warmup = check_int("warmup", warmup, minimum=0)
    timeout = check_float("timeout", timeout, minimum=0, strict_min=True)
    expect = check_int("expect", expect, minimum=100, maximum=599)
    latencies, statuses, errors = [], {}, 0
    # TCP_NODELAY, as urllib3 sets by default: httpx writes a request's headers and body
    # separately, and Nagle's algorithm may hold the body back until the headers are ACKed
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    with httpx.Client(base_url=url.rstrip("/"), timeout=timeout, transport=transport) as client:
        for round_ in range(warmup + repeats):
            for body in bodies:
                start = time.perf_counter()
                try:
                    status = client.post(endpoint, json=body).status_code
                except httpx.HTTPError:
                    status = None
                elapsed_ms = (time.perf_counter() - start) * 1e3
                if round_ < warmup:
                    continue
                statuses[status] = statuses.get(status, 0) + 1
                if status == expect:
                    latencies.append(elapsed_ms)
                else:
                    errors += 1
    return {"p50_ms": _percentile(latencies, 50), "p95_ms": _percentile(latencies, 95),
            "mean_ms": float(np.mean(latencies)) if latencies else math.nan,
            "n": repeats * len(bodies), "errors": errors, "statuses": statuses,
            "latencies_ms": latencies}


def latency_by_model(models: Mapping[str, nn.Module], payloads: Sequence[dict | list[int]], *,
                     max_context: int, repeats: int = 10, **app_options: Any) -> dict[str, dict]:
    """Each model served in turn (``make_app(model, max_context=..., **app_options)`` behind a
    ``LocalServer``) and timed by ``measure_latency`` on the same payloads: {name: stats}, e.g.
    a model below and one above a threshold setting."""
    if not isinstance(models, Mapping) or not models:
        raise ValueError(f"models must be a non-empty dict {{name: model}}, got {_show(models)}")
    results = {}
    for name, model in models.items():
        app = make_app(model, max_context=max_context, name=str(name), **app_options)
        with LocalServer(app) as server:
            results[name] = measure_latency(server.url, payloads, repeats=repeats)
    return results
