"""``python -m bench.compress``: a folder's headers (the first sync's summary fetch) and every
message read whole, over a link with COMPRESS=DEFLATE (RFC 4978) next to one without, against
the same Dovecot listener in the same run.

It prints what compression saves (the bytes the server sends, TLS records and all) and what it
costs where the link is no bottleneck (loopback: the time, with zlib's work at both ends), and
the time the bytes alone would take on a slower link, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from mailbag.protocols.imap import FromUid, ImapClient, ImapSettings
from tests.integration.proxy import Proxy

from bench.figures import Figure
from bench.report import table
from bench.server import BenchServer, default_cache_dir

#: Links the bytes are also timed on (megabits per second).
LINKS = (10, 50)


async def read_folder(settings: ImapSettings, bodies: int) -> tuple[float, int, int]:
    """Connect, fetch every summary of INBOX and the first ``bodies`` messages whole; (seconds,
    bytes the server sent, summaries)."""
    async with Proxy(settings.host, settings.port) as proxy:
        local = ImapSettings(**{**settings.__dict__, "host": "127.0.0.1", "port": proxy.port})
        started = time.perf_counter()
        client = ImapClient(local, "bench")
        await client.connect()
        assert client.compressed is settings.compress, "the listener does not offer COMPRESS"
        await client.select("INBOX")
        count = sum([len(batch) async for batch in client.fetch_summaries(FromUid(1))])
        for uid in range(1, bodies + 1):
            await client.fetch_body(uid)
        seconds = time.perf_counter() - started
        await client.logout()
        while proxy.open_links:  # the server hangs up after LOGOUT: the proxy is left with nothing
            await asyncio.sleep(0.01)
        return seconds, proxy.from_server, count


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compress", description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--bodies", type=int, default=500, help="messages read whole (default: 500)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    name = f"headers of {args.count:,} and {args.bodies} messages whole"
    seconds = Figure(args.count, f"{name}, loopback", "s", reference="without COMPRESS")
    sent = Figure(args.count, f"{name}, bytes sent by the server", "MB", reference="without COMPRESS")
    links = {mbit: Figure(args.count, f"{name}, the bytes alone at {mbit} Mbit/s", "s",
                          reference="without COMPRESS") for mbit in LINKS}
    cache = default_cache_dir()
    with BenchServer(cache) as server:
        filled = server.mailbox(args.count)
        d = server.dovecot
        for run in range(args.runs):
            measured: dict[bool, tuple[float, int, int]] = {}
            for compress in (False, True):
                settings = ImapSettings(host=d.compress_host, port=d.compress_imaps_port, security="tls",
                                        username=filled.user.name, password=filled.user.password,
                                        ca_file=str(d.ca_file), timeout=120, compress=compress)
                measured[compress] = asyncio.run(read_folder(settings, args.bodies))
                assert measured[compress][2] == args.count, measured[compress]
            (plain_s, plain_b, _), (deflate_s, deflate_b, _) = measured[False], measured[True]
            seconds.samples.append(deflate_s)
            seconds.reference_samples.append(plain_s)
            sent.samples.append(deflate_b / 1e6)
            sent.reference_samples.append(plain_b / 1e6)
            for mbit, figure in links.items():
                figure.samples.append(deflate_b * 8 / (mbit * 1e6))
                figure.reference_samples.append(plain_b * 8 / (mbit * 1e6))
            print(f"  run {run + 1}: compressed {deflate_s:.2f} s, {deflate_b / 1e6:.1f} MB; "
                  f"plain {plain_s:.2f} s, {plain_b / 1e6:.1f} MB", flush=True)
    print(table([seconds, sent, *links.values()]))


if __name__ == "__main__":
    main()
