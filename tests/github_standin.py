"""A local stand-in for the part of GitHub's REST API that `bd-vpt github comment` uses.

It listens on 127.0.0.1 (a free port), keeps issue comments in memory, checks the bearer
token, paginates like GitHub (per_page, page) and can be told to misbehave on the next
requests: fail with given statuses (502, 403, a rate limit), answer raw bytes (an HTML page, a
list where an object belongs, a body shorter than its Content-Length), redirect elsewhere,
drip its answer a byte at a time, or say nothing. With `endless` every page of comments is
full, forever. Every hostile loop is bounded, so a client that does not give up still ends.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit


class Act(Protocol):
    def act(self, standin: StandIn, http: BaseHTTPRequestHandler) -> None: ...


@dataclass
class Failure:
    status: int
    message: str = "Server Error"
    headers: dict[str, str] = field(default_factory=dict)

    def act(self, standin: StandIn, http: BaseHTTPRequestHandler) -> None:
        standin.send(http, self.status, {"message": self.message}, self.headers)


@dataclass
class Raw:
    """Any bytes, with a status and a content type; length overrides Content-Length (a lie
    when it is longer than the body: the connection is then closed)."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    length: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def act(self, standin: StandIn, http: BaseHTTPRequestHandler) -> None:
        http.send_response(self.status)
        http.send_header("Content-Type", self.content_type)
        http.send_header("Content-Length", str(self.length or len(self.body)))
        for key, value in self.headers.items():
            http.send_header(key, value)
        http.end_headers()
        http.wfile.write(self.body)
        http.close_connection = True


@dataclass
class Redirect:
    location: str
    status: int = 302

    def act(self, standin: StandIn, http: BaseHTTPRequestHandler) -> None:
        standin.send(http, self.status, {"message": "Moved"}, {"Location": self.location})


@dataclass
class Drip:
    """A 200 whose body (or, with headers=True, whose status line and headers) arrives one
    byte every interval seconds: at most limit bytes, then the connection is closed."""

    interval: float = 0.1
    limit: int = 300
    headers: bool = False

    def act(self, standin: StandIn, http: BaseHTTPRequestHandler) -> None:
        body = b"[" + b" " * 10_000 + b"]"
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        if self.headers:
            payload = head.encode() + body
        else:
            http.wfile.write(head.encode())
            http.wfile.flush()
            payload = body
        try:
            for byte in payload[: self.limit]:
                http.wfile.write(bytes([byte]))
                http.wfile.flush()
                time.sleep(self.interval)
        except OSError:
            pass  # the client hung up: what it should do
        http.close_connection = True


@dataclass
class Silent:
    """Read the request, say nothing for up to seconds, then hang up."""

    seconds: float = 5.0

    def act(self, standin: StandIn, http: BaseHTTPRequestHandler) -> None:
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            time.sleep(0.05)
        http.close_connection = True


@dataclass
class StandIn:
    token: str
    repo: str = "acme/app"
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    failures: list[Act] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    endless: bool = False
    next_id: int = 1000
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def start(self) -> StandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                standin.handle(self, "GET")

            def do_POST(self) -> None:
                standin.handle(self, "POST")

            def do_PATCH(self) -> None:
                standin.handle(self, "PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve = self.server.serve_forever
        threading.Thread(target=serve, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    def add(self, pr: int, body: str, user: str = "someone") -> dict[str, Any]:
        with self.lock:
            comment = {
                "id": self.next_id,
                "body": body,
                "user": {"login": user},
                "html_url": f"https://github.example/{self.repo}/pull/{pr}#issuecomment-{self.next_id}",
            }
            self.next_id += 1
            self.comments.setdefault(pr, []).append(comment)
            return comment

    def handle(self, http: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        with self.lock:
            self.requests.append((method, parts.path))
            self.authorizations.append(http.headers.get("Authorization", ""))
            failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            return failure.act(self, http)
        payload = json.loads(raw) if raw else None
        if http.headers.get("Authorization") != f"Bearer {self.token}":
            return self.send(http, 401, {"message": "Bad credentials"})
        prefix = f"/repos/{self.repo}/issues"
        listing = re.fullmatch(rf"{prefix}/(\d+)/comments", parts.path)
        single = re.fullmatch(rf"{prefix}/comments/(\d+)", parts.path)
        if listing and method == "GET":
            query = parse_qs(parts.query)
            per_page = int(query.get("per_page", ["30"])[0])
            page = int(query.get("page", ["1"])[0])
            if self.endless:
                filler = [{"id": page * per_page + i, "body": "chatter"} for i in range(per_page)]
                return self.send(http, 200, filler)
            items = self.comments.get(int(listing.group(1)), [])
            return self.send(http, 200, items[(page - 1) * per_page : page * per_page])
        if listing and method == "POST" and payload:
            return self.send(http, 201, self.add(int(listing.group(1)), payload["body"], "bot"))
        if single and method == "PATCH" and payload:
            for items in self.comments.values():
                for comment in items:
                    if comment["id"] == int(single.group(1)):
                        comment["body"] = payload["body"]
                        return self.send(http, 200, comment)
        return self.send(http, 404, {"message": "Not Found"})

    @staticmethod
    def send(
        http: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/json")
        http.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            http.send_header(key, value)
        http.end_headers()
        http.wfile.write(data)
