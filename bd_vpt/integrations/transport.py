"""One HTTP exchange that trusts nothing it is answered (stdlib urllib; proxies kept).

- a deadline for the whole exchange (connect, send, headers, body): a watchdog shuts the
  socket down when it passes, so a server dripping one byte at a time cannot hold the caller;
- a body of at most MAX_BODY_BYTES, and a body cut short of its Content-Length is a dropped
  answer, not a short one;
- at most MAX_REDIRECTS redirects, and the Authorization header is sent again only to the
  origin (scheme, host, port) it was meant for: a redirect elsewhere is followed without it;
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

MAX_REDIRECTS = 5
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass
class Answer:
    status: int
    data: bytes
    headers: dict[str, str]

    @property
    def content_type(self) -> str:
        return (header(self, "content-type") or "no content type").split(";")[0].strip()

    @property
    def body(self) -> Any:
        """The JSON answer, or None when there is none or it is not JSON."""
        try:
            return json.loads(self.data) if self.data else None
        except (ValueError, UnicodeDecodeError):
            return None


def header(answer: Answer, name: str) -> str | None:
    for key, value in answer.headers.items():
        if key.lower() == name:
            return value
    return None


def origin(url: str) -> tuple[str, str, int]:
    parts = urllib.parse.urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Watch:
    """A deadline for one request: when it passes, every socket of the request is shut
    down, so a read blocked on a dripping server returns at once."""

    def __init__(self) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watched(base: type[http.client.HTTPConnection], watch: _Watch) -> Any:
    class Watched(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            super().connect()
            watch.attach(self.sock)

    return Watched


class _HTTP(urllib.request.HTTPHandler):
    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self.watch = watch

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, self.watch), req)


class _HTTPS(urllib.request.HTTPSHandler):
    def __init__(self, watch: _Watch) -> None:
        super().__init__()
        self.watch = watch

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            _watched(http.client.HTTPSConnection, self.watch),
            req,
            context=self._context,  # type: ignore[attr-defined]
        )


class _Redirect(urllib.request.HTTPRedirectHandler):
    """At most MAX_REDIRECTS hops; the token is sent again only to the API's own origin."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, home: tuple[str, str, int], authorization: str | None) -> None:
        super().__init__()
        self.home = home
        self.authorization = authorization
        self.dropped: list[str] = []

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            if origin(newurl) != self.home:
                self.dropped.append(newurl)
            elif self.authorization is not None:
                new.add_unredirected_header("Authorization", self.authorization)
        return new


class TooBig(Exception):
    """The answer is larger than MAX_BODY_BYTES."""


def _read_body(response: Any) -> bytes:
    """The whole body, at most MAX_BODY_BYTES; a body cut short of its Content-Length is
    an IncompleteRead (a dropped answer), as http.client would say when reading it whole."""
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(65536):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise TooBig
        chunks.append(chunk)
    data = b"".join(chunks)
    length = (response.headers.get("Content-Length") or "").strip()
    if length.isdigit() and size < int(length):
        raise http.client.IncompleteRead(data, int(length) - size)
    return data


class Dropped(Exception):
    """No complete answer: the connection failed, was cut, or the deadline passed."""

    def __init__(self, reason: str, expired: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


def exchange(
    request: urllib.request.Request, authorization: str | None, timeout: float
) -> tuple[Answer, list[str]]:
    """(the answer, whatever its status, and the URLs a redirect was followed to without
    the Authorization header). Raises Dropped or TooBig."""
    if authorization is not None:
        request.add_unredirected_header("Authorization", authorization)
    watch = _Watch()
    redirect = _Redirect(origin(request.full_url), authorization)
    opener = urllib.request.build_opener(_HTTP(watch), _HTTPS(watch), redirect)
    timer = threading.Timer(timeout, watch.expire)
    timer.daemon = True
    timer.start()
    try:
        try:
            with opener.open(request, timeout=timeout) as response:
                answer = Answer(response.status, _read_body(response), dict(response.headers))
        except urllib.error.HTTPError as exc:
            answer = Answer(exc.code, _read_body(exc), dict(exc.headers or {}))
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        if watch.expired:
            raise Dropped(f"no complete answer within {timeout:g}s", True) from None
        raise Dropped(f"connection failed: {getattr(exc, 'reason', None) or exc}", False) from None
    finally:
        timer.cancel()
    if watch.expired:
        raise Dropped(f"no complete answer within {timeout:g}s", True)
    return answer, redirect.dropped
