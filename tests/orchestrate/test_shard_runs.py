"""Two shards of one company list, run as two `meltano run` processes of the prod environment with their own
`--state-id-suffix` against one S3 state backend and one S3 token store (moto): together they cover every
company exactly once, and each resumes from its own state (its second run is one CDC request per company of
its shard), also when both run at the same time.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrate.shard_runs import shard_run
from tap_quickbooks_cdc.shards import shard_of
from tests.fakes.qbo import QboSimulator, SimConfig
from tests.services import S3Server, run_s3_server
from tests.test_environments import BIN, BUCKET, ROOT, prod_env

SHARDS = 2
STATE_ID = "prod:tap-quickbooks-cdc-to-target-looker-stage:shard-{k}-of-{n}"


@pytest.fixture(scope="module")
def shard_s3() -> Iterator[S3Server]:
    with run_s3_server(BUCKET) as server:
        yield server


def start_shard(env: dict[str, str], k: int) -> subprocess.Popen[str]:
    """What the orchestrate/ job runs per shard: its company_shard, its state ID suffix, its .meltano."""
    run = shard_run(k, SHARDS, project_root=ROOT, meltano=str(BIN / "meltano"), environ=env)
    return subprocess.Popen(
        run.argv,
        cwd=run.cwd,
        env={**env, **run.env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> None:
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]


def shard_state_realms(s3: S3Server, k: int) -> set[str]:
    """The realms the shard's Meltano state (in the S3 state backend) holds bookmarks for."""
    client = s3.client()
    state_id = STATE_ID.format(k=k, n=SHARDS)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    (key,) = [key for key in keys if key.startswith("meltano-state/") and state_id in key]
    document = json.loads(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    bookmarks = document["completed"]["singer_state"]["bookmarks"]
    return {p["context"]["realm_id"] for stream in bookmarks.values() for p in stream.get("partitions", [])}


def stored_token_realms(s3: S3Server) -> set[str]:
    body = s3.client().get_object(Bucket=BUCKET, Key="secrets/qbo_tokens.json")["Body"].read()
    return set(json.loads(body)["realms"])


@pytest.mark.slow  # four `meltano run`s: about a minute
def test_two_shards_cover_every_company_once_and_each_resumes_from_its_own_state_on_s3(
    postgres_server: Any, shard_s3: S3Server
) -> None:
    with QboSimulator(SimConfig(companies=3, seed=5, records_per_company=30)) as sim:
        env = {
            **prod_env(sim, postgres_server, shard_s3),
            "TARGET_LOOKER_STAGE_DEFAULT_TARGET_SCHEMA": "shards",
        }
        realms = {k: {r for r in sim.realm_ids if shard_of(r, SHARDS) == k} for k in (1, 2)}
        assert all(realms.values()), f"the simulator's realm IDs fill both shards: {realms}"

        for k in (1, 2):  # the backfills one after the other (each creates the warehouse tables it loads)
            finish(start_shard(env, k))
            assert shard_state_realms(shard_s3, k) == realms[k]
        assert stored_token_realms(shard_s3) == set(sim.realm_ids), "both shards' tokens in one store"

        sim.reset_requests()
        both = [start_shard(env, k) for k in (1, 2)]  # the incremental runs at the same time
        for process in both:
            finish(process)
        assert {r: sim.data_requests(r) for r in sim.realm_ids} == dict.fromkeys(sim.realm_ids, 1), (
            "each shard resumed from its own state: one CDC request per company"
        )
        for k in (1, 2):
            assert shard_state_realms(shard_s3, k) == realms[k]
        assert stored_token_realms(shard_s3) == set(sim.realm_ids)
