"""A TCP proxy on one link that injects faults: delays, cut connections, silent stalls.

It sits on a role instance's configured port (where every caller connects) and passes bytes to the port
the instance's processes really listen on. TLS runs end to end through it: the proxy sees only ciphertext and
can only delay, cut or stall, as a failing network or a crashed peer would.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.process
import random
from collections import Counter
from multiprocessing.connection import Connection

from yakuba.torture._profiles import FaultProfile

__all__ = ["FaultProxy", "ProxyHost", "ProxySpec"]

CHUNK = 65536


class FaultProxy:
    """Listens on 127.0.0.1:LISTEN_PORT, forwards to 127.0.0.1:TARGET_PORT, injecting PROFILE's link faults."""

    def __init__(self, *, name: str, listen_port: int, target_port: int, profile: FaultProfile, seed: int) -> None:
        self.name = name
        self._listen_port = listen_port
        self._target_port = target_port
        self._profile = profile
        self._rng = random.Random(seed)  # noqa: S311 - fault injection, not a secret
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._open = 0
        self.counts: Counter[str] = Counter()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self._listen_port, backlog=1024)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        # Cut what is still open by cancelling the pumps (never the connection handlers: asyncio's stream
        # server reports a cancelled handler as an error), then let the handlers close their sockets.
        for pump in list(self._pumps):
            pump.cancel()
        for _ in range(100):
            if not self._open:
                break
            await asyncio.sleep(0.02)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open += 1
        self.counts["connections"] += 1
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
            except OSError:
                self.counts["upstream_refused"] += 1  # e.g. every worker of the instance down at once
                return
            cut = asyncio.Event()
            pumps = [
                asyncio.create_task(self._pump(reader, up_writer, cut)),
                asyncio.create_task(self._pump(up_reader, writer, cut)),
            ]
            self._pumps.update(pumps)
            waiter = asyncio.create_task(cut.wait())
            try:
                await asyncio.wait([*pumps, waiter], return_when=asyncio.FIRST_COMPLETED)
                if cut.is_set():
                    for pump in pumps:
                        pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
            finally:
                waiter.cancel()
                self._pumps.difference_update(pumps)
                up_writer.close()
        finally:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
            self._open -= 1

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, cut: asyncio.Event) -> None:
        profile = self._profile
        try:
            while data := await reader.read(CHUNK):
                roll = self._rng.random()
                if roll < profile.drop_probability:
                    self.counts["dropped"] += 1
                    cut.set()
                    return
                roll -= profile.drop_probability
                if roll < profile.stall_probability:
                    self.counts["stalled"] += 1
                    await asyncio.sleep(profile.stall_s)
                    cut.set()
                    return
                roll -= profile.stall_probability
                if roll < profile.delay_probability:
                    self.counts["delayed"] += 1
                    await asyncio.sleep(self._rng.uniform(0, profile.delay_max_s))
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.write_eof()
            # The other direction may still be carrying the answer: a half-close is passed on, not a cut.


ProxySpec = tuple[str, int, int]
"""(name, listen port, target port) of one proxy."""

PROXY_START_TIMEOUT_S = 120.0


def _serve(specs: list[ProxySpec], profile: FaultProfile, seed: int, conn: Connection) -> None:
    """The proxy process: every proxy in one event loop of its own, until the parent asks for the counts."""

    async def main() -> None:
        proxies = [
            FaultProxy(name=name, listen_port=listen, target_port=target, profile=profile, seed=seed + n)
            for n, (name, listen, target) in enumerate(specs)
        ]
        for proxy in proxies:
            await proxy.start()
        conn.send("ready")
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        total: Counter[str] = Counter()
        for proxy in proxies:
            await proxy.stop()
            total.update(proxy.counts)
        conn.send(dict(total))

    asyncio.run(main())


class ProxyHost:
    """The fault proxies of every link in a process of their own.

    In the driver's process they shared its event loop with the kiosks' synchronous crypto (card signatures,
    document checks): with 64 kiosks the loop stalled and every link timed out, a fault of the test rig and
    not of the chain. Here they pass bytes whatever the kiosks do.
    """

    def __init__(self, specs: list[ProxySpec], *, profile: FaultProfile, seed: int) -> None:
        self._specs = specs
        self._profile = profile
        self._seed = seed
        self._conn: Connection | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_serve, args=(self._specs, self._profile, self._seed, child), name="torture-proxies", daemon=True
        )
        self._process.start()
        self._conn = parent
        if not parent.poll(PROXY_START_TIMEOUT_S) or parent.recv() != "ready":
            self.stop()
            raise RuntimeError("the fault proxies did not start")

    def stop(self) -> Counter[str]:
        """Stop every proxy; what they injected."""
        counts: Counter[str] = Counter()
        if self._conn is not None and self._process is not None and self._process.is_alive():
            self._conn.send("stop")
            if self._conn.poll(30):
                counts.update(self._conn.recv())
        if self._process is not None:
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        if self._conn is not None:
            self._conn.close()
        self._conn = self._process = None
        return counts
