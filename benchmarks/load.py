"""A small threaded HTTP load generator (standard library only): N threads request one address as fast
as the server answers for a fixed time; requests per second and latency percentiles."""

from __future__ import annotations

import http.client
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass

CSRF_PATTERN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class LoadStats:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _request(
    url: str, method: str = "GET", body: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


def wait_until_up(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if _request(url)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.2)


def _cookie(headers: dict[str, str]) -> str:
    return headers.get("set-cookie", "").split(";", 1)[0]


def login(base: str, email: str, password: str) -> str:
    """Log in through the form; returns the session cookie ("session=...")."""
    status, headers, page = _request(base + "/login")
    match = CSRF_PATTERN.search(page.decode())
    if status != 200 or not match:
        raise RuntimeError(f"no login form at {base}/login ({status})")
    form = urllib.parse.urlencode(
        {"email": email, "password": password, "csrf_token": match.group(1)}
    )
    status, answer, _ = _request(
        base + "/login",
        "POST",
        form,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": _cookie(headers)},
    )
    if status != 302:
        raise RuntimeError(f"login as {email} failed ({status})")
    return _cookie(answer)


def run_load(url: str, seconds: float, concurrency: int, cookie: str | None = None) -> LoadStats:
    headers = {"Cookie": cookie} if cookie else {}
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        mine: list[float] = []
        failed = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                status = _request(url, headers=headers)[0]
            except OSError:
                status = 0
            if status == 200:
                mine.append((time.perf_counter() - started) * 1000)
            else:
                failed += 1
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    ordered = sorted(latencies) or [0.0]

    def pick(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    return LoadStats(len(latencies), errors[0], elapsed, pick(0.5), pick(0.95), pick(0.99))
