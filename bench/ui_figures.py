"""The UI figures of one mailbox size, each next to its reference from the same run:
first paint, warm start, peak RSS scrolled end to end, key to screen (in-process, and through
tmux during a first sync next to idle), bytes per cursor move, local search and new mail.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import inprocess, tmux_keys, tui
from bench.figures import Figure
from bench.mailbag_run import Account, run_sync
from bench.server import BenchServer

SMALL = 100
NEW_MAIL_RUNS = 10
NEW_MAIL_TIMEOUT = 10.0
#: NeoMutt may drop keys typed the instant its prompt appears.
PROMPT_SETTLE = 0.3


@dataclass(frozen=True)
class Options:
    runs: int
    aerc: bool
    neomutt: bool
    body_share: int
    key_moves: int


def _account(server: BenchServer, count: int) -> Account:
    d = server.dovecot
    user = server.mailbox(count).user
    return Account(d.host, d.imaps_port, user.name, user.password, d.ca_file)


def _pair(count: int, name: str, unit: str, refs: list[str], goal: str, digits: int = 2) -> list[Figure]:
    """One row per reference, sharing mailbag's samples (the first row owns the list)."""
    first = Figure(count, name, unit, reference=refs[0], goal=goal, digits=digits)
    rows = [first] + [Figure(count, name, unit, samples=first.samples, reference=r, goal=goal,
                             digits=digits) for r in refs[1:]]
    return rows


def measure_ui(server: BenchServer, count: int, opts: Options) -> list[Figure]:
    """Every UI figure for the ``count``-message folder."""
    account = _account(server, count)
    refs = (["aerc"] if opts.aerc else []) + (["NeoMutt"] if opts.neomutt else [])
    cold = _pair(count, "first paint, never opened (tmux 80x24)", "s",
                 [f"{r}, no cache" for r in refs] or [""], "< every reference")
    warm = _pair(count, "warm start to painted list", "s",
                 [{"aerc": "aerc, cache-headers", "NeoMutt": "NeoMutt, header cache"}[r] for r in refs]
                 or [""], "< every reference")
    rss = _pair(count, "peak RSS, open + G + g", "MB", [f"{r} (VmHWM)" for r in refs] or [""],
                "<= 100 MB, < 0.5x NeoMutt", digits=0)
    by_ref = {r: i for i, r in enumerate(refs)}
    for run in range(opts.runs):
        with tempfile.TemporaryDirectory(prefix="mailbag-bench-ui-") as tmp:
            home = Path(tmp)
            mine = home / "mailbag"
            cold[0].samples.append(tui.open_folder(tui.mailbag(mine, account)).seconds)
            run_sync(mine, account)  # complete the cache the first start began
            opened = tui.open_folder(tui.mailbag(mine, account), scroll=True)
            warm[0].samples.append(opened.seconds)
            rss[0].samples.append(opened.peak_rss_mb or float("nan"))
            for ref in refs:
                i = by_ref[ref]
                first = _client(ref, home / f"{ref}-cold", account, cache=False)
                cold[i].reference_samples.append(tui.open_folder(first).seconds)
                cached = home / f"{ref}-warm"
                tui.open_folder(_client(ref, cached, account, cache=True))  # fills its cache
                again = tui.open_folder(_client(ref, cached, account, cache=True), scroll=True)
                warm[i].reference_samples.append(again.seconds)
                rss[i].reference_samples.append(again.peak_rss_mb or float("nan"))
        print(f"  {count:,} UI run {run + 1}/{opts.runs}: first paint {cold[0].samples[-1]:.2f} s, "
              f"warm {warm[0].samples[-1]:.2f} s, RSS {rss[0].samples[-1]:.0f} MB"
              + "".join(f"; {r} {cold[by_ref[r]].reference_samples[-1]:.2f} / "
                        f"{warm[by_ref[r]].reference_samples[-1]:.2f} s, "
                        f"{rss[by_ref[r]].reference_samples[-1]:.0f} MB" for r in refs), flush=True)
    figures = cold + warm + rss
    figures += _keys(server, count, account, opts)
    figures += _keys_during_first_sync(count, account, opts)
    figures += _search(server, count, account, opts)
    figures += _new_mail(server, count, account)
    return [f for f in figures if f.samples]


def _client(name: str, home: Path, account: Account, cache: bool) -> tui.Client:
    if name == "aerc":
        return tui.aerc(home, account, cache_headers=cache)
    return tui.neomutt(home, account, header_cache=cache)


def _keys(server: BenchServer, count: int, account: Account, opts: Options) -> list[Figure]:
    """Key to screen in the big folder vs a 100-message one, and bytes written per move."""
    small = _account(server, SMALL)
    p50 = Figure(count, "key to screen (j), p50", "ms", reference=f"same in a {SMALL}-message folder",
                 goal="<= 1.2x small", digits=1)
    p95 = Figure(count, "key to screen (j), p95", "ms", reference=f"same in a {SMALL}-message folder",
                 goal="< 16 ms, <= 1.2x small", digits=1)
    held = Figure(count, "bytes written per j, key held (30/s)", "B", goal="<= 2048 B", digits=0)
    rested = Figure(count, "bytes written per j, cursor rests (reader repaints)", "B", digits=0)
    for _ in range(opts.runs):
        for acc, n, big in ((account, count, True), (small, SMALL, False)):
            with tempfile.TemporaryDirectory(prefix="mailbag-bench-keys-") as tmp:
                home = Path(tmp)
                run_sync(home, acc)
                got = inprocess.key_run(home, acc, n, moves=opts.key_moves)
            ms = [s * 1000 for s in got.latencies]
            if big:
                p50.samples.append(inprocess.percentile(ms, 0.5))
                p95.samples.append(inprocess.percentile(ms, 0.95))
                held.samples += [float(b) for b in got.held_bytes]
                rested.samples += [float(b) for b in got.rested_bytes]
            else:
                p50.reference_samples.append(inprocess.percentile(ms, 0.5))
                p95.reference_samples.append(inprocess.percentile(ms, 0.95))
    print(f"  {count:,} keys: p50 {p50.samples[-1]:.1f} ms, p95 {p95.samples[-1]:.1f} ms "
          f"(small folder {p50.reference_samples[-1]:.1f} / {p95.reference_samples[-1]:.1f} ms)", flush=True)
    return [p50, p95, held, rested]


def _keys_during_first_sync(count: int, account: Account, opts: Options) -> list[Figure]:
    """Key to screen through tmux while mailbag's first start syncs the folder, next to the same
    once the sync is over (the search index built too), in the same process."""
    rows = {}
    for q, label in ((0.5, "p50"), (0.95, "p95")):
        rows[q] = Figure(count, f"key to screen (j) through tmux during the first sync, {label}", "ms",
                         reference="same once idle", goal="< 16 ms" if q == 0.95 else "", digits=1)
    lost = 0
    for _ in range(opts.runs):
        with tempfile.TemporaryDirectory(prefix="mailbag-bench-sync-keys-") as tmp:
            got = tmux_keys.first_sync_keys(Path(tmp), account, idle_presses=opts.key_moves // 3)
        lost += got.lost
        if not got.during_sync or not got.idle:
            continue
        during = [s * 1000 for s in got.during_sync]
        idle = [s * 1000 for s in got.idle]
        for q, figure in rows.items():
            figure.samples.append(inprocess.percentile(during, q))
            figure.reference_samples.append(inprocess.percentile(idle, q))
        print(f"  {count:,} keys through tmux: during the first sync p50 {rows[0.5].samples[-1]:.1f} / "
              f"p95 {rows[0.95].samples[-1]:.1f} ms ({len(during)} keys); idle "
              f"{rows[0.5].reference_samples[-1]:.1f} / {rows[0.95].reference_samples[-1]:.1f} ms "
              f"({len(idle)} keys)", flush=True)
    if lost:
        for figure in rows.values():
            figure.name += f" ({lost} keys lost)"
    return list(rows.values())


def _search(server: BenchServer, count: int, account: Account, opts: Options) -> list[Figure]:
    """Local search for a subject word and a body word vs NeoMutt's ``~s`` and ``=b`` limits."""
    share = min(opts.body_share, count)
    subject = Figure(count, f"local search, subject word ({inprocess.SUBJECT_WORD})", "s",
                     reference="NeoMutt limit ~s (header cache)" if opts.neomutt else "",
                     goal="<= 0.1 s, < NeoMutt", digits=3)
    body = Figure(count, f"local search, body word ({share:,} bodies cached)", "s",
                  reference="NeoMutt limit =b (server-side)" if opts.neomutt else "",
                  goal="<= 0.1 s, < NeoMutt", digits=3)
    index = Figure(count, "search index of a first sync, built in the background", "s", digits=2)
    with tempfile.TemporaryDirectory(prefix="mailbag-bench-search-") as tmp:
        home = Path(tmp)
        run_sync(home / "mailbag", account)
        fill = inprocess.cache_bodies(home / "mailbag", account, count, share)
        index.samples.append(inprocess.build_index(home / "mailbag", account))
        for figure, query in ((subject, f"subject:{inprocess.SUBJECT_WORD}"),
                              (body, f"body:{inprocess.BODY_WORD}")):
            samples, found = inprocess.search_seconds(home / "mailbag", account, query, max(3, opts.runs))
            figure.samples += samples
        if opts.neomutt:
            rc_home = home / "neomutt"
            tui.open_folder(tui.neomutt(rc_home, account, header_cache=True))  # fill its header cache
            for _ in range(opts.runs):
                subject.reference_samples.append(
                    _neomutt_limit(rc_home, account, count, f"~s {inprocess.SUBJECT_WORD}"))
                body.reference_samples.append(
                    _neomutt_limit(rc_home, account, count, f"=b {inprocess.BODY_WORD}"))
    print(f"  {count:,} search: subject {subject.samples[-1] * 1000:.1f} ms, body "
          f"{body.samples[-1] * 1000:.1f} ms ({share:,} bodies cached in {fill:.0f} s, headers "
          f"indexed in {index.samples[-1]:.1f} s)", flush=True)
    return [index, subject, body]


def _neomutt_limit(home: Path, account: Account, count: int, pattern: str) -> float:
    """Seconds from Enter on NeoMutt's limit prompt until it has redrawn the index with the limited
    count in its status line (the bench's words match some messages, never all: a screen without
    the prompt but with the old count is NeoMutt still searching, e.g. waiting for the server)."""
    client = tui.neomutt(home, account, header_cache=True)
    limited = re.compile(rf"Msgs:\d+/{count}\b")

    def done(screen: str) -> bool:
        return bool(limited.search(screen))

    with client.pane() as pane:
        pane.wait_for(tui.rows_shown, 600, "NeoMutt rows")
        pane.send("l")
        pane.wait_for(lambda s: "Limit to messages" in s, 30, "the limit prompt")
        time.sleep(PROMPT_SETTLE)
        pane.send(pattern)
        time.sleep(PROMPT_SETTLE)
        pane.mark()
        pane.send("Enter")
        return pane.wait_for(done, 300, f"NeoMutt limit {pattern}")


def _new_mail(server: BenchServer, count: int, account: Account) -> list[Figure]:
    """LMTP delivery into the open folder until its row shows in mailbag's list (tmux)."""
    figure = Figure(count, "new mail: LMTP delivery to row on screen", "s", goal="<= 1 s median")
    d = server.dovecot
    before = int(d.doveadm("mailbox", "status", "-u", account.username, "uidnext", "INBOX")
                 .strip().partition("=")[2])
    try:
        with tempfile.TemporaryDirectory(prefix="mailbag-bench-new-") as tmp:
            home = Path(tmp)
            run_sync(home, account)
            client = tui.mailbag(home, account)
            missed = 0
            with client.pane() as pane:
                pane.wait_for(tui.rows_shown, 600, "mailbag rows")
                time.sleep(2.0)  # the watcher is up and idling
                for i in range(NEW_MAIL_RUNS):
                    subject = f"Fresh {i:02d} {time.monotonic_ns() % 10**6}"
                    pane.mark()
                    d.deliver(account.username, _new_message(subject))
                    try:
                        figure.samples.append(
                            pane.wait_for(lambda screen: subject in screen, NEW_MAIL_TIMEOUT, subject))
                    except TimeoutError:
                        missed += 1
                    time.sleep(0.3)
    finally:
        d.doveadm("expunge", "-u", account.username, "mailbox", "INBOX", "uid", f"{before}:*",
                  allowed_codes=(0, 68))
    if missed:
        figure.name += f" ({missed} of {NEW_MAIL_RUNS} not shown within {NEW_MAIL_TIMEOUT:g} s)"
    print(f"  {count:,} new mail: {figure.name}, samples {[round(x, 2) for x in figure.samples]}", flush=True)
    return [figure]


def _new_message(subject: str) -> bytes:
    return (f"From: Alice Martin <alice@example.test>\r\nTo: user@example.test\r\n"
            f"Subject: {subject}\r\nDate: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\r\n"
            f"Message-ID: <{subject.replace(' ', '.')}@example.test>\r\n\r\nHello.\r\n").encode()
