"""Dagster definition of the sharded production sync: N shard runs in parallel, then dbt, then Looker.

`dagster dev -f orchestrate/definitions.py` (or a workspace entry pointing at this file) loads job
`qbo_sharded_sync` and schedule `qbo_sharded_hourly`. Each shard is one op running `meltano run` for its
shard (`shard_runs.shard_run`); `dbt_build` waits for every shard and `looker_refresh` for dbt, so the marts
are rebuilt once per sync, not once per shard, and Looker is refreshed once, on the rebuilt marts. A shard
that fails fails its op; dbt and Looker then do not run (the other shards still finish and keep their state).

Dagster is the scheduler and the run history; Meltano stays what runs a shard, with its state backend and
its guard against running one state ID twice. Why Dagster: it installs into the project's environment
without moving a pin (meltano 4.4, dbt 1.11, singer-sdk 0.54), and its executors run the same ops in one
process pool or one container per op (dagster-docker, dagster-k8s) without changing this file.

Settings (environment variables, read when the definition loads): QBO_SHARD_COUNT (default 4),
QBO_MELTANO (the meltano executable, default `meltano` on PATH), MELTANO_ENVIRONMENT for the runs.
"""

# No `from __future__ import annotations`: Dagster reads the ops' annotations (context, resources) at
# definition time.
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from dagster import OpExecutionContext

from orchestrate.shard_runs import PROJECT_ROOT, shard_run

JOB = "qbo_sharded_sync"
DEFAULT_SHARDS = 4


def shard_count(environ: Mapping[str, str] = os.environ) -> int:
    """QBO_SHARD_COUNT as a whole number from 1 to 256 (one line naming the variable otherwise)."""
    text = environ.get("QBO_SHARD_COUNT", "").strip() or str(DEFAULT_SHARDS)
    if not text.isdigit() or not 1 <= int(text) <= 256:
        raise ValueError(f"QBO_SHARD_COUNT is {text[:20]!r}: use a whole number of shards from 1 to 256.")
    return int(text)


class Meltano(dg.ConfigurableResource):  # type: ignore[type-arg]  # generic only in its stubs: the value is itself
    """Runs Meltano commands in the project folder; the tests swap it for a recording stub."""

    project_root: str = str(PROJECT_ROOT)
    executable: str = os.environ.get("QBO_MELTANO", "meltano")

    def run_shard(self, context: OpExecutionContext, index: int, count: int) -> None:
        run = shard_run(index, count, project_root=Path(self.project_root), meltano=self.executable)
        self.execute(context, run.argv, run.env)

    def invoke(self, context: OpExecutionContext, command: str) -> None:
        """`meltano invoke <command>` once, e.g. dbt:build or looker:refresh."""
        self.execute(context, (self.executable, "invoke", command), {})

    def execute(self, context: OpExecutionContext, argv: tuple[str, ...], env: dict[str, str]) -> None:
        """Run `argv` with `env` added; its log goes to the op's captured output, a non-zero exit fails
        the op with one line (Meltano's own lines above it name the problem and the fix)."""
        context.log.info("running %s", " ".join(argv))
        done = subprocess.run(argv, cwd=self.project_root, env={**os.environ, **env}, check=False)
        if done.returncode != 0:
            raise dg.Failure(description=f"`{' '.join(argv)}` exited with {done.returncode}: see its log.")


def shard_op(index: int, count: int) -> dg.OpDefinition:
    """The op of shard `index` of `count`: its own company_shard, state ID suffix and `.meltano`."""

    @dg.op(name=f"shard_{index}_of_{count}", out=dg.Out(dg.Nothing), tags={"kind": "meltano"})
    def _shard(context: OpExecutionContext, meltano: Meltano) -> None:
        meltano.run_shard(context, index, count)

    return _shard


@dg.op(ins={"after_shards": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing), tags={"kind": "dbt"})
def dbt_build(context: OpExecutionContext, meltano: Meltano) -> None:
    """The dbt models and tests, once every shard has loaded."""
    meltano.invoke(context, "dbt:build")


@dg.op(ins={"after_dbt": dg.In(dg.Nothing)}, out=dg.Out(dg.Nothing), tags={"kind": "looker"})
def looker_refresh(context: OpExecutionContext, meltano: Meltano) -> None:
    """The Looker refresh on the rebuilt marts (says "off" and succeeds where no Looker is configured)."""
    meltano.invoke(context, "looker:refresh")


def sharded_job(count: int) -> dg.JobDefinition:
    """`count` shard ops in parallel (the multiprocess executor runs them all at once), then dbt, then
    Looker."""
    shards = [shard_op(index, count) for index in range(1, count + 1)]

    @dg.job(
        name=JOB,
        description=f"QuickBooks CDC sync in {count} shards, then dbt:build, then looker:refresh.",
        executor_def=dg.multiprocess_executor.configured({"max_concurrent": count}),
    )
    def _job() -> None:
        looker_refresh(after_dbt=dbt_build(after_shards=[shard() for shard in shards]))

    return _job


def definitions(count: int | None = None) -> dg.Definitions:
    job = sharded_job(shard_count() if count is None else count)
    hourly = dg.ScheduleDefinition(name="qbo_sharded_hourly", job=job, cron_schedule="0 * * * *")
    return dg.Definitions(jobs=[job], schedules=[hourly], resources={"meltano": Meltano()})


defs = definitions()
