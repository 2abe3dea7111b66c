"""A database that stops, the way it does in production, for the outage tests.

PostgreSQL: a small TCP proxy in front of the real server; the application connects through it, and
``stop()`` closes the listening socket and cuts every open connection, so pooled connections break and
new ones are refused. SQLite: the database file's folder is moved away and the pool emptied, so the
next connection cannot open the file.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

import sqlalchemy as sa


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target`` until stopped."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.port = 0
        self.start()

    def start(self) -> None:
        """Listen (again, on the same port after ``stop``): the database is back."""
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.port = self.listener.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _address = self.listener.accept()
            except OSError:  # the listener was closed
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                if not self.running:
                    client.close()
                    upstream.close()
                    return
                self.connections += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """The database goes away: no new connections, and the open ones are cut."""
        with self.lock:
            self.running = False
            self.listener.close()
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.connections.clear()


def proxied_url(database_url: str, proxy: TcpProxy) -> str:
    url = sa.engine.make_url(database_url)
    return url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def proxy_for(database_url: str) -> TcpProxy:
    url = sa.engine.make_url(database_url)
    return TcpProxy(url.host or "127.0.0.1", url.port or 5432)


def make_sqlite_unreachable(folder: Path, engine: sa.Engine) -> None:
    """The disk holding the SQLite file is gone: its folder moves away and the pooled connections
    (which still hold the old file open) are closed."""
    folder.rename(folder.with_name(folder.name + "-gone"))
    engine.dispose()


def make_sqlite_reachable(folder: Path) -> None:
    """The disk is back."""
    folder.with_name(folder.name + "-gone").rename(folder)
