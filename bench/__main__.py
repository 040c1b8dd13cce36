"""``python -m bench``: mailbag's sync figures against references measured in the same run.

Starts a private Dovecot (mail cached between runs), then per mailbox size measures:
first full sync vs a raw-socket UID FETCH of the same items, resync vs a raw FLAGS fetch,
peak RSS of the sync process, and NeoMutt opening the folder with no header cache (if installed).
On the largest size it then measures the UI (bench/ui_figures.py): first paint and warm start in
tmux at 80x24 vs aerc and NeoMutt, peak RSS scrolled end to end, key to screen and bytes per
cursor move vs a 100-message folder, key to screen through tmux during a first sync vs idle,
local search vs NeoMutt's limit, and new mail.
"""

from __future__ import annotations

import argparse
import compileall
import sys
import tempfile
import time
from pathlib import Path

from mailbag.protocols.imap.client import SUMMARY_ITEMS
from bench import neomutt, profile, tui
from bench.figures import Figure
from bench.mailbag_run import REPO, Account, run_sync, startup_seconds
from bench.rawclient import timed_fetch
from bench.report import table, write_json
from bench.server import BenchServer, default_cache_dir
from bench.ui_figures import Options, measure_ui

FOLDER = "INBOX"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="mailbox sizes (default: 10000,100000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default: 3)")
    parser.add_argument("--quick", action="store_true", help="10,000 messages, one run, no profile")
    parser.add_argument("--profile", action="store_true",
                        help="also profile one sync of the largest size with py-spy")
    parser.add_argument("--no-neomutt", action="store_true", help="skip the NeoMutt reference")
    parser.add_argument("--no-aerc", action="store_true", help="skip the aerc reference")
    parser.add_argument("--no-ui", action="store_true", help="sync figures only")
    parser.add_argument("--no-sync", action="store_true", help="UI figures only")
    parser.add_argument("--body-share", type=int, default=10_000,
                        help="bodies cached before the local body search (default: 10000)")
    parser.add_argument("--install-refs", action="store_true",
                        help="apt-get install neomutt, aerc and tmux first (root only)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the generated mailboxes are kept (default: $MAILBAG_BENCH_CACHE "
                             "or mailbag-bench-<uid> in the temp dir)")
    return parser


def measure_size(server: BenchServer, count: int, runs: int, use_neomutt: bool) -> tuple[list[Figure], dict]:
    """Every figure for one mailbox size; mailbag and its reference alternate within each run."""
    filled = server.mailbox(count)
    d = server.dovecot
    account = Account(d.host, d.imaps_port, filled.user.name, filled.user.password, d.ca_file)
    ca = str(d.ca_file)

    def raw(items: str):
        return timed_fetch(d.host, d.imaps_port, ca, filled.user.name, filled.user.password, FOLDER, items)

    # Dovecot is 3-4x slower on the first fetch of a new set of fields: warm its cache once, untimed.
    warm = raw(SUMMARY_ITEMS)
    first = Figure(count, "first full sync", "s", reference="raw UID FETCH 1:* (summary items)",
                   goal="<= 2x raw")
    resync = Figure(count, "resync, unchanged", "s", reference="raw SELECT + UID FETCH 1:* (FLAGS)",
                    goal="<= 1x raw")
    rss = Figure(count, "peak RSS, first sync", "MB", reference="NeoMutt open (VmHWM)" if use_neomutt else "",
                 goal="<= 100 MB, < 0.5x NeoMutt", digits=0)
    rss_resync = Figure(count, "peak RSS, resync", "MB", digits=0)
    in_process = Figure(count, "first sync as printed by mailbag", "s",
                        reference="raw UID FETCH 1:* (summary items)", goal="<= 2x raw")
    resync_in_process = Figure(count, "resync as printed by mailbag", "s",
                               reference="raw SELECT + UID FETCH 1:* (FLAGS)", goal="<= 1x raw")
    opened = Figure(count, "first full sync", "s", reference="NeoMutt open, no header cache",
                    goal="< 1x NeoMutt")
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="mailbag-bench-home-") as tmp:
            home = Path(tmp)
            got = run_sync(home, account)
            if got.messages != count:
                raise RuntimeError(f"mailbag cached {got.messages} messages, expected {count}")
            first.samples.append(got.seconds)
            opened.samples.append(got.seconds)
            in_process.samples.append(got.reported_seconds)
            rss.samples.append(got.peak_rss_mb)
            first.reference_samples.append(raw(SUMMARY_ITEMS).seconds)
            in_process.reference_samples.append(first.reference_samples[-1])
            again = run_sync(home, account)
            resync.samples.append(again.seconds)
            resync_in_process.samples.append(again.reported_seconds)
            rss_resync.samples.append(again.peak_rss_mb)
            resync.reference_samples.append(raw("FLAGS").seconds)
            resync_in_process.reference_samples.append(resync.reference_samples[-1])
        if use_neomutt:
            nm = neomutt.open_folder(d.host, d.imaps_port, filled.user.name, filled.user.password,
                                     d.ca_file, count)
            opened.reference_samples.append(nm.seconds)
            rss.reference_samples.append(nm.peak_rss_mb)
        print(f"  {count:,} run {run + 1}/{runs}: sync {first.samples[-1]:.2f} s "
              f"(raw {first.reference_samples[-1]:.2f} s), resync {resync.samples[-1]:.2f} s "
              f"(raw {resync.reference_samples[-1]:.2f} s), RSS {rss.samples[-1]:.0f} MB"
              + (f", NeoMutt {opened.reference_samples[-1]:.2f} s" if use_neomutt else ""), flush=True)
    # Wall figures include Python's start-up and imports; "as printed" is the sync itself.
    figures = [first, in_process, resync, resync_in_process, rss, rss_resync]
    if use_neomutt:
        figures.insert(1, opened)
    context = {"fill_seconds": round(filled.fill_seconds, 1), "fill_cached": filled.cached,
               "summary_fetch_bytes": warm.fetch_bytes}
    return figures, context


def run_profile(cache_dir: Path, count: int) -> dict | None:
    """Profile one first sync of ``count`` messages; print the summary and return it for the JSON."""
    if not profile.available():
        print("py-spy not found (pip install py-spy): no profile")
        return None
    with BenchServer(cache_dir) as server:
        d = server.dovecot
        user = server.mailbox(count).user
        try:
            profiled = profile.profile_sync(Account(d.host, d.imaps_port, user.name, user.password, d.ca_file))
        except (OSError, RuntimeError) as exc:
            print(f"profile failed: {exc}")
            return None
    print("\n" + profile.format_profile(profiled))
    return {"size": count, "samples": profiled.total, "sync_seconds": round(profiled.run.seconds, 2),
            "layers": profiled.layers, "top_self": profiled.top_self,
            "top_inclusive": profiled.top_inclusive}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    runs = 1 if args.quick else max(1, args.runs)
    if args.install_refs:
        neomutt.install()
    use_aerc = not args.no_aerc and tui.aerc_available()
    if not args.no_aerc and not use_aerc:
        print("aerc not found: skipping that reference (apt-get install aerc)")
    use_neomutt = not args.no_neomutt and neomutt.available()
    if not args.no_neomutt and not use_neomutt:
        print("NeoMutt or tmux not found: skipping that reference (--install-refs installs them)")
    cache_dir = args.cache_dir or default_cache_dir()
    # As installed by pip: the app's modules compiled to bytecode once, not at every start
    # (PYTHONDONTWRITEBYTECODE in the environment would otherwise make every run compile them).
    compileall.compile_dir(str(REPO / "app"), quiet=1)
    print(f"mailbag benchmark: sizes {sizes}, {runs} run(s); mailboxes cached in {cache_dir}")
    figures: list[Figure] = []
    context: dict = {"python_startup_seconds": round(startup_seconds(), 3), "sizes": {}}
    with BenchServer(cache_dir) as server:
        for count in [] if args.no_sync else sizes:
            started = time.monotonic()
            got, ctx = measure_size(server, count, runs, use_neomutt)
            figures += got
            context["sizes"][str(count)] = ctx
            print(f"  {count:,}: done in {time.monotonic() - started:.0f} s"
                  f" (mailbox fill {ctx['fill_seconds']} s{', cached' if ctx['fill_cached'] else ''})")
        if not args.no_ui:
            started = time.monotonic()
            opts = Options(runs=runs, aerc=use_aerc, neomutt=use_neomutt,
                           body_share=min(args.body_share, 2_000) if args.quick else args.body_share,
                           key_moves=100 if args.quick else 300)
            figures += measure_ui(server, max(sizes), opts)
            print(f"  UI figures: done in {time.monotonic() - started:.0f} s")
    print()
    print(table(figures))
    print(f"\nPython start-up + imports (python -m mailbag --version): {context['python_startup_seconds']:.2f} s, "
          "included in every mailbag figure")
    if args.profile and not args.quick:
        context["profile"] = run_profile(cache_dir, max(sizes))
    options = {"sizes": sizes, "runs": runs, "neomutt": use_neomutt, "aerc": use_aerc,
               "ui": not args.no_ui, "sync": not args.no_sync, "profile": context.get("profile") is not None}
    path = write_json(figures, options, context)
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
