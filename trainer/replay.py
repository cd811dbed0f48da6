"""A local HTTP server that speaks the OpenAI chat-completions protocol and REPLAYS RECORDED
ANSWERS: it runs no model. Tests and the tutorial point the trainer at it instead of a real
`vllm serve`, so the whole pipeline runs on a CPU with no downloads.

Recordings are a list of {"match": substring of the last user message, "answers": [...]};
a request gets `n` answers from the first recording whose `match` appears (cycling), or
an HTTP 404 naming the prompt if none does. `fail_first` makes the first K requests
answer 503, to exercise clients' retries.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ReplayServer:
    def __init__(
        self, recordings: list[dict[str, Any]], host: str = "127.0.0.1", port: int = 0, fail_first: int = 0
    ) -> None:
        self.recordings = recordings
        self.requests: list[dict[str, Any]] = []
        self._fail = fail_first
        self._lock = threading.Lock()
        self._ids = itertools.count()
        handler = self._handler()
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(body)
            if self._fail > 0:
                self._fail -= 1
                return 503, {"error": {"message": "replay server: simulated overload", "type": "server_error"}}
        prompt = next((m.get("content", "") for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
        for rec in self.recordings:
            if rec["match"] in prompt:
                n = int(body.get("n") or 1)
                start = next(self._ids)
                answers = [rec["answers"][(start + i) % len(rec["answers"])] for i in range(n)]
                return 200, {
                    "id": f"replay-{start}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", "replay"),
                    "choices": [
                        {"index": i, "finish_reason": "stop", "message": {"role": "assistant", "content": a}}
                        for i, a in enumerate(answers)
                    ],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                }
        return 404, {"error": {"message": f"replay server: no recording matches {prompt[:80]!r}", "type": "not_found"}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "replay", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}})
                    return
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError:
                    self._send(400, {"error": {"message": "malformed JSON"}})
                    return
                self._send(*server.answer(body))

        return Handler


def main() -> None:  # python -m trainer.replay RECORDINGS.json [--port 8000]
    import argparse

    parser = argparse.ArgumentParser(description="Replay recorded chat-completions answers (no model).")
    parser.add_argument("recordings")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    with open(args.recordings) as fh, ReplayServer(json.load(fh), args.host, args.port) as server:
        print(f"replaying {args.recordings} at {server.url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
