"""Looker refresh cost per run: calls, logins and wall time for N datagroups + N PDTs against the Looker
simulator at a realistic latency, next to the calls a per-call-login design would make for the same work.

    .venv/bin/python -m bench.looker_refresh [--sizes 1,5,20] [--latency 0.1] [--build-seconds 1.0]

Ours: one login per run (a batch of calls), one ``all_datagroups`` for every datagroup, all PDT builds
started first and polled together with a growing delay, one logout. The per-call-login column is what
Airflow's ``LookerHook`` does: ``get_looker_sdk()`` builds a new SDK, hence a new login, for every API call
(each start, each status poll), so it makes ``2 x`` our API calls; its wall time adds one login round trip
per call. It is counted from our own call log, not run.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass

from target_looker_stage.looker.refresh import run_refresh
from target_looker_stage.looker.settings import parse_looker_settings
from tests.fakes.looker import LookerSimConfig, LookerSimulator, PdtView

MODEL = "bench"
LOGIN_AND_LOGOUT = ("/login", "/logout")


@dataclass(frozen=True)
class Row:
    size: int
    calls: int
    logins: int
    seconds: float
    per_call_login_calls: int
    per_call_login_logins: int
    per_call_login_seconds: float
    ok: bool


def measure(size: int, latency: float, build_seconds: float) -> Row:
    models: dict[str, dict[str, object]] = {
        MODEL: {
            "datagroups": [f"dg_{i}" for i in range(size)],
            "views": {f"pdt_{i}": PdtView(build_seconds=build_seconds) for i in range(size)},
        }
    }
    with LookerSimulator(LookerSimConfig(latency_seconds=latency, models=models)) as sim:
        settings = parse_looker_settings(
            {
                "looker_base_url": sim.base_url,
                "looker_client_id": sim.client_id,
                "looker_client_secret": sim.client_secret,
                "looker_datagroups": [f"{MODEL}::dg_{i}" for i in range(size)],
                "looker_pdts": [{"model": MODEL, "view": f"pdt_{i}"} for i in range(size)],
            }
        )
        started = time.monotonic()
        report = run_refresh(settings, records=1, logger=logging.getLogger("bench.looker"))
        seconds = time.monotonic() - started
        api_calls = [c for c in sim.calls if not c.path.endswith(LOGIN_AND_LOGOUT)]
        return Row(
            size=size,
            calls=len(sim.calls),
            logins=sim.logins(),
            seconds=seconds,
            per_call_login_calls=2 * len(api_calls),
            per_call_login_logins=len(api_calls),
            per_call_login_seconds=seconds + (len(api_calls) - sim.logins()) * latency,
            ok=not report.failed,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,5,20", help="N datagroups and N PDTs per run, comma-separated")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every Looker call")
    parser.add_argument("--build-seconds", type=float, default=1.0, help="how long each PDT build takes")
    args = parser.parse_args(argv)
    print(
        f"Looker refresh, N datagroups + N PDTs ({args.build_seconds:g}s builds), "
        f"{args.latency * 1000:.0f} ms a call"
    )
    print(
        f"{'N':>4} | {'calls':>5} {'logins':>6} {'wall s':>7} | per-call login: {'calls':>5} {'logins':>6} "
        f"{'wall s':>7}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        row = measure(size, args.latency, args.build_seconds)
        flag = "" if row.ok else "  (refresh reported a failure)"
        print(
            f"{row.size:>4} | {row.calls:>5} {row.logins:>6} {row.seconds:>7.1f} | {'':15} "
            f"{row.per_call_login_calls:>5} {row.per_call_login_logins:>6} "
            f"{row.per_call_login_seconds:>7.1f}{flag}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
