"""Run the Looker simulator standalone until killed.

    python -m tests.fakes.looker --port 8766 [--token-lifetime S] [--latency S] [--run-once-per-second N]
                                 [--sql-database PATH] [--credentials-file PATH]

Prints the credentials as one JSON line on stdout (base_url, client_id, client_secret) and writes them to
--credentials-file if given. Then, for example:

    curl -s -d client_id=$CLIENT_ID -d client_secret=$CLIENT_SECRET $BASE_URL/api/4.0/login  # access_token
    curl -s -H "Authorization: Bearer $TOKEN" $BASE_URL/api/4.0/datagroups
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from tests.fakes.looker.config import LookerSimConfig
from tests.fakes.looker.simulator import LookerSimulator


def _parser() -> argparse.ArgumentParser:
    defaults = LookerSimConfig()
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.looker", description="Looker API simulator")
    parser.add_argument("--port", type=int, default=8766, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument(
        "--token-lifetime", type=float, default=defaults.token_lifetime_seconds, help="access token seconds"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every call")
    parser.add_argument(
        "--run-once-per-second", type=int, default=defaults.run_once_per_second, help="run_once rate limit"
    )
    parser.add_argument(
        "--sql-database", help="SQLite file behind the SQL connections (default: a temp file)"
    )
    parser.add_argument("--credentials-file", type=Path, help="also write the credentials JSON here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = LookerSimConfig(
        token_lifetime_seconds=args.token_lifetime,
        latency_seconds=args.latency,
        run_once_per_second=args.run_once_per_second,
        sql_database_path=args.sql_database,
    )
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)  # before the server threads, which inherit it
    sim = LookerSimulator(config)
    sim.start(args.port)
    credentials = json.dumps(sim.credentials())
    if args.credentials_file is not None:
        args.credentials_file.write_text(credentials + "\n")
    sys.stdout.write(credentials + "\n")
    sys.stdout.flush()
    signal.sigwait(stop_signals)
    sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
