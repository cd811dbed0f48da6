"""LLM backends for synth and sample: any OpenAI-compatible chat endpoint, or vLLM in-process.

`OpenAIBackend` talks to `vllm serve`, an OpenAI-compatible gateway, or the
replay server of the tests, through the `openai` package: a bounded number of
requests in flight, retries with exponential backoff, a timeout per request.
`VLLMBackend` runs `vllm.LLM` in this process (needs the `vllm` extra and a GPU);
it is imported only when asked for.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

Messages = list[dict[str, str]]


class Backend(Protocol):
    model: str

    def complete(
        self, prompts: Sequence[Messages], n: int = 1, temperature: float = 0.7, max_tokens: int = 1024
    ) -> list[list[str]]:
        """`n` completions for each prompt (chat messages), in prompt order."""
        ...


class BackendError(Exception):
    """The model endpoint failed a request after all retries."""


class OpenAIBackend:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "EMPTY",
        concurrency: int = 8,
        timeout_s: float = 300.0,
        retries: int = 4,
    ) -> None:
        import openai

        self.model = model
        self.retries = retries
        self.concurrency = concurrency
        self._errors = (
            openai.APIConnectionError,
            openai.APITimeoutError,
            openai.RateLimitError,
            openai.InternalServerError,
        )
        self._fatal = openai.APIError
        # Our own retries (with backoff across the whole call) replace the client's.
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0)

    def _one(self, messages: Messages, n: int, temperature: float, max_tokens: int) -> list[str]:
        for attempt in range(self.retries + 1):
            try:
                resp = self.client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    n=n,  # type: ignore[arg-type]
                    temperature=temperature,
                    max_tokens=max_tokens,
                )
                return [c.message.content or "" for c in sorted(resp.choices, key=lambda c: c.index)]
            except self._errors as exc:  # transient: back off and retry
                if attempt == self.retries:
                    raise BackendError(f"{type(exc).__name__}: {exc}") from exc
                time.sleep(min(30.0, 0.5 * 2**attempt) * (0.5 + random.random()))
            except self._fatal as exc:  # a bad request or model name: retrying will not help
                raise BackendError(f"{type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    def complete(
        self, prompts: Sequence[Messages], n: int = 1, temperature: float = 0.7, max_tokens: int = 1024
    ) -> list[list[str]]:
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(lambda m: self._one(m, n, temperature, max_tokens), prompts))


class VLLMBackend:
    """vLLM in-process (`pip install acefarm[vllm]`, GPU machines)."""

    def __init__(self, model: str, **llm_kwargs: Any) -> None:
        try:
            from vllm import LLM, SamplingParams
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise BackendError("vllm is not installed: pip install 'acefarm[vllm]' on a GPU machine") from exc
        self.model = model
        self._params = SamplingParams
        self.llm = LLM(model=model, **llm_kwargs)

    def complete(
        self, prompts: Sequence[Messages], n: int = 1, temperature: float = 0.7, max_tokens: int = 1024
    ) -> list[list[str]]:  # pragma: no cover - GPU only
        params = self._params(n=n, temperature=temperature, max_tokens=max_tokens)
        outputs = self.llm.chat(list(prompts), params)
        return [[o.text for o in out.outputs] for out in outputs]
