"""A TCP proxy on 127.0.0.1 that loses its server after a number of HTTP requests.

Tests put it between the runtime and moto (an S3 stage's ``ENDPOINT_URL`` is the proxy's
URL) to stop the S3 service in the middle of a statement, at a point chosen by request
count rather than by time: it forwards ``cut_after`` requests, then closes every
connection and its listening socket, so the next request finds nothing listening on
the port (a real ``ECONNREFUSED``, as when the server process dies). With ``cut_after``
None it only counts, which tells a test how many requests a statement makes.

`SilentEndpoint` is the other failure: a port that takes connections and never answers,
against which a request fails only by the engine's read timeout, once per attempt.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

#: How a request starts its first line's end (``GET /bucket/key HTTP/1.1``).
_REQUEST = b" HTTP/1.1\r\n"


class CuttingProxy:
    """Forward 127.0.0.1:<port> to ``upstream`` until ``cut_after`` requests have passed."""

    def __init__(self, upstream: tuple[str, int], cut_after: int | None = None) -> None:
        """Listen on a free port of 127.0.0.1 and start accepting."""
        self.upstream = upstream
        self.cut_after = cut_after
        self.requests = 0
        self.cut = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.cut.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, counting: bool) -> None:
        tail = b""
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                _close(sink)
                return
            if counting:
                seen = (tail + data).count(_REQUEST) - tail.count(_REQUEST)
                tail = data[-len(_REQUEST) :]
                if seen and self._count(seen):
                    return
            try:
                sink.sendall(data)
            except OSError:
                _close(source)
                return

    def _count(self, seen: int) -> bool:
        """Count requests; True when the proxy has just been cut (nothing more is sent)."""
        with self._lock:
            self.requests += seen
            over = self.cut_after is not None and self.requests > self.cut_after
        if over:
            self.close()
        return over

    def close(self) -> None:
        """Stop listening and close every connection (the server is gone)."""
        self.cut.set()
        _close(self._listener)
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _close(sock)


def _close(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class SilentEndpoint:
    """A port of 127.0.0.1 that takes connections, counts them (``held``), and never answers."""

    def __init__(self) -> None:
        """Listen on a free port of 127.0.0.1 and start accepting."""
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.held.append(self.listener.accept()[0])

    def close(self) -> None:
        """Stop listening and close every connection held."""
        _close(self.listener)
        for held in self.held:
            _close(held)
