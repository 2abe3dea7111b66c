"""Real gunicorn with several worker processes, for tests of what must hold across workers (a
throttle, a session ended on the server) or behind gunicorn (the database outage page), and a small
HTTP client that sends requests to every worker at the same moment.

    with run_gunicorn(production_env(database_url, tmp_path), tmp_path) as server:
        page = server.get("/login")
        replies = server.send_together([server.prepare("POST", "/login", form=...), ...])
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from tests.mail_helpers import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GUNICORN = PROJECT_ROOT / ".venv" / "bin" / "gunicorn"
CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# Each worker leaves a file named after its pid once it has loaded the application, so the test
# starts only when every worker can answer.
READY_HOOK = """\
import os
from pathlib import Path


def post_worker_init(worker):
    Path(os.environ["LMS_TEST_GUNICORN_READY_DIR"], str(worker.pid)).touch()
"""


def production_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production web worker (config.py ProductionConfig) on the test's
    database, with every file the app writes under ``tmp_path``."""
    instance = tmp_path / "instance"
    return {
        "LMS_CONFIG": "production",
        "SECRET_KEY": "gunicorn-test-secret-key-" + "x" * 32,
        "DATABASE_URL": database_url,
        "LMS_INSTANCE_PATH": str(instance),
        "EVIDENCE_STORAGE_PATH": str(instance / "evidence"),
        "BADGE_KEY_DIR": str(instance / "badge-keys"),
        "BASE_URL": "https://lms.example.org",
        **extra,
    }


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def cookies(self) -> dict[str, str]:
        """name → value of every Set-Cookie (Secure or not: the test speaks plain HTTP)."""
        found = {}
        for name, value in self.headers:
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, cookie = pair.partition("=")
                found[key.strip()] = cookie.strip()
        return found

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (any case), or ``None``."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def csrf_token(self) -> str:
        match = CSRF_PATTERN.search(self.body)
        assert match, f"no CSRF token in the page (status {self.status})"
        return match.group(1)


@dataclass
class GunicornServer:
    host: str
    port: int
    workers: int
    log_path: Path
    timeout: float = 20.0

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def prepare(
        self,
        method: str,
        path: str,
        *,
        form: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """The bytes of one HTTP/1.1 request on its own connection (``Connection: close``)."""
        body = urlencode(form or {}).encode() if form is not None else b""
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Connection: close",
            f"Content-Length: {len(body)}",
        ]
        if form is not None:
            lines.append("Content-Type: application/x-www-form-urlencoded")
        if cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def send(self, request: bytes) -> Reply:
        return self.send_together([request])[0]

    def get(self, path: str, **kwargs: Mapping[str, str]) -> Reply:
        return self.send(self.prepare("GET", path, **kwargs))  # type: ignore[arg-type]

    def send_together(self, requests: list[bytes]) -> list[Reply]:
        """Send every request on its own connection, all but the last byte first, then the last
        bytes one after another. A sync worker reads a request to its end before it takes another
        connection, so the first connections are each held by a different worker: the requests are
        spread over every worker and handled at the same moment. Replies in the order given."""
        connections = []
        try:
            for request in requests:
                connection = socket.create_connection((self.host, self.port), timeout=self.timeout)
                connections.append(connection)
                connection.sendall(request[:-1])
            if len(connections) > 1:
                time.sleep(0.2)  # the workers take the first connections and wait for their end
            for connection, request in zip(connections, requests, strict=True):
                connection.sendall(request[-1:])
            # Read every reply at once: a worker waits for the client to close before it takes the
            # next connection.
            with ThreadPoolExecutor(max_workers=len(connections)) as pool:
                return list(pool.map(self._read_reply, connections))
        finally:
            for connection in connections:
                connection.close()

    @staticmethod
    def _read_reply(connection: socket.socket) -> Reply:
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
        connection.close()
        raw = b"".join(chunks)
        head, _, body = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = [tuple(part.strip() for part in line.split(":", 1)) for line in header_lines]
        if any(name.lower() == "transfer-encoding" for name, _ in headers):
            body = _unchunk(body)
        return Reply(
            status=int(status_line.split()[1]),
            headers=headers,  # type: ignore[arg-type]
            body=body.decode("utf-8", errors="replace"),
        )


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


@contextmanager
def run_gunicorn(
    env: Mapping[str, str],
    tmp_path: Path,
    *,
    workers: int = 3,
    app: str = "wsgi:app",
    start_timeout: float = 20.0,
    extra_args: Sequence[str] = (),
) -> Iterator[GunicornServer]:
    """Start ``gunicorn --workers N`` on a free port with ``env`` (on top of this process's
    environment, without its DATABASE_URL/LMS_* settings), wait until every worker has loaded the
    app, and stop it afterwards whatever happens. ``extra_args`` go on gunicorn's command line
    (``--max-requests 1``, say). Fails when it has not started in ``start_timeout`` seconds, with
    gunicorn's log in the message."""
    ready_dir = tmp_path / "gunicorn-ready"
    ready_dir.mkdir(parents=True, exist_ok=True)
    config_file = tmp_path / "gunicorn_test_conf.py"
    config_file.write_text(READY_HOOK, encoding="utf-8")
    log_path = tmp_path / "gunicorn.log"
    port = free_port()
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LMS_", "DATABASE_URL", "MAIL_", "RATELIMIT_"))
    }
    environment.update(env)
    environment["LMS_TEST_GUNICORN_READY_DIR"] = str(ready_dir)
    command = [
        str(GUNICORN),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--config",
        str(config_file),
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
        "--log-level",
        "info",
        *extra_args,
        app,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line built above
            command,
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = GunicornServer("127.0.0.1", port, workers, log_path)
    try:
        deadline = time.monotonic() + start_timeout
        while len(list(ready_dir.iterdir())) < workers:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped at start:\n{server.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start in {start_timeout} s:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to gunicorn's process group (master and workers), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass
