"""A small HTTP load generator (asyncio streams), shared by the stress test and bench/serve_stress.py."""
from __future__ import annotations

import asyncio
import time


async def _get(port: int, path: str, timeout: float) -> int:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else 0


async def burst(port: int, paths: list[str], timeout: float = 30.0) -> list[int | str]:
    """All requests at once: each one's status, or the error it met."""
    async def one(path):
        try:
            return await _get(port, path, timeout)
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            return f"{type(exc).__name__}: {exc}"
    return await asyncio.gather(*(one(p) for p in paths))


async def sustained(port: int, paths: list[str], seconds: float, concurrency: int = 32) -> tuple[int, list]:
    """Keep `concurrency` requests in flight for `seconds`: (requests answered, failures)."""
    deadline = time.monotonic() + seconds
    done, failures = 0, []

    async def worker(k: int):
        nonlocal done
        i = k
        while time.monotonic() < deadline:
            path = paths[i % len(paths)]
            i += concurrency
            try:
                status = await _get(port, path, 30.0)
                if status not in (200, 301, 404):
                    failures.append((path, status))
            except Exception as exc:  # noqa: BLE001
                failures.append((path, f"{type(exc).__name__}: {exc}"))
            done += 1

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return done, failures


def run(coro):
    return asyncio.run(coro)
