"""Run the simulator standalone until killed.

    python -m tests.fakes.qbo --port 8765 --companies 2 --seed 1 [--records N] [--token-ttl S]
                              [--credentials-file PATH]

Prints the credentials as one JSON line on stdout (and writes them to --credentials-file if given).
Then, for example:

    curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=refresh_token -d refresh_token=$RT $TOKEN_URL
    curl -s -H "Authorization: Bearer $AT" -H 'Accept: application/json' \
        "$BASE_URL/v3/company/$REALM/query?query=select%20*%20from%20Customer&minorversion=75"
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tests.fakes.qbo.config import SimConfig
from tests.fakes.qbo.simulator import QboSimulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.qbo", description="QuickBooks Online simulator"
    )
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--companies", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--records", type=int, default=SimConfig.records_per_company, help="records per company"
    )
    parser.add_argument(
        "--token-ttl", type=float, default=SimConfig.access_token_ttl, help="access token seconds"
    )
    parser.add_argument(
        "--rpm", type=int, default=SimConfig.requests_per_minute, help="requests/minute/company"
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every data request")
    parser.add_argument("--no-prefetch", action="store_true", help="do not render the next page ahead")
    parser.add_argument("--credentials-file", type=Path, help="also write the credentials JSON here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = SimConfig(
        companies=args.companies,
        seed=args.seed,
        records_per_company=args.records,
        access_token_ttl=args.token_ttl,
        requests_per_minute=args.rpm,
        latency=args.latency,
        prefetch=not args.no_prefetch,
    )
    sim = QboSimulator(config)
    sim.start(args.port)
    credentials = json.dumps(sim.credentials())
    if args.credentials_file is not None:
        args.credentials_file.write_text(credentials + "\n")
    sys.stdout.write(credentials + "\n")
    sys.stdout.flush()
    stopped = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    stopped.wait()
    sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
