"""The Dagster definition, through Dagster's own utilities and without a cluster: it loads, its task graph
is the one orchestrate/README.md draws, its schedule asks for the job hourly, and a run executes every
shard, then dbt, then Looker (a failed shard stops dbt and Looker), Meltano swapped for a recording
resource."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pytest
from typing_extensions import override

from orchestrate import definitions as module
from orchestrate.definitions import JOB, Meltano, definitions, shard_count

README = Path(module.__file__).with_name("README.md")
CALLS: list[tuple[str, ...]] = []


class RecordingMeltano(Meltano):
    """Meltano without Meltano: records each command line; a shard listed in FAILING exits 1."""

    failing: str = ""

    @override
    def execute(self, context: dg.OpExecutionContext, argv: tuple[str, ...], env: dict[str, str]) -> None:
        CALLS.append((*argv, *(f"{k}={v}" for k, v in sorted(env.items()) if k.startswith("TAP_"))))
        if self.failing and self.failing in argv:
            raise dg.Failure(description=f"`{' '.join(argv)}` exited with 1: see its log.")


def edges(job: dg.JobDefinition) -> list[str]:
    """`upstream -> downstream`, one per dependency, as the loaded job reports them."""
    structure = job.graph.dependency_structure
    found = []
    for node in job.graph.nodes:
        for outputs in structure.input_to_upstream_outputs_for_node(node.name).values():
            found += [f"{output.node_name} -> {node.name}" for output in outputs]
    return sorted(found)


def readme_graph() -> list[str]:
    block = re.search(r"```text\n(.*?)```", README.read_text(), re.DOTALL)
    assert block is not None
    return sorted(line.strip() for line in block.group(1).splitlines() if "->" in line)


def test_the_definitions_load_with_their_job_schedule_and_resource() -> None:
    defs = definitions(4)
    dg.Definitions.validate_loadable(defs)
    assert defs.get_job_def(JOB).name == JOB
    assert defs.get_schedule_def("qbo_sharded_hourly").cron_schedule == "0 * * * *"
    assert isinstance(module.defs, dg.Definitions)  # what `dagster dev -f orchestrate/definitions.py` loads


def test_the_task_graph_is_the_one_the_readme_draws() -> None:
    assert edges(definitions(4).get_job_def(JOB)) == readme_graph()
    assert len(edges(definitions(16).get_job_def(JOB))) == 17  # 16 shards into dbt, dbt into Looker


def test_the_hourly_schedule_requests_a_run_of_the_job() -> None:
    schedule = definitions(2).get_schedule_def("qbo_sharded_hourly")
    result = schedule.evaluate_tick(dg.build_schedule_context())
    assert [r.job_name or schedule.job_name for r in result.run_requests or []] == [JOB]


def test_a_run_executes_every_shard_then_dbt_then_looker() -> None:
    CALLS.clear()
    job = definitions(3).get_job_def(JOB)
    result = job.execute_in_process(resources={"meltano": RecordingMeltano(executable="meltano")})
    assert result.success
    shards, rest = CALLS[:3], CALLS[3:]
    assert sorted(" ".join(c) for c in shards) == [
        f"meltano run --state-id-suffix shard-{k}-of-3 tap-quickbooks-cdc target-looker-stage "
        f"TAP_QUICKBOOKS_CDC_COMPANY_SHARD={k}/3"
        for k in (1, 2, 3)
    ]
    assert rest == [("meltano", "invoke", "dbt:build"), ("meltano", "invoke", "looker:refresh")]


def test_a_failed_shard_stops_dbt_and_looker_but_not_the_other_shards() -> None:
    CALLS.clear()
    job = definitions(3).get_job_def(JOB)
    failing = RecordingMeltano(executable="meltano", failing="shard-2-of-3")
    result = job.execute_in_process(resources={"meltano": failing}, raise_on_error=False)
    assert not result.success
    assert len(CALLS) == 3  # every shard ran
    assert not [c for c in CALLS if "invoke" in c]
    failed = {e.node_name for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE}
    assert failed == {"shard_2_of_3"}


@pytest.mark.parametrize("value", ["0", "257", "four", "-1"])
def test_a_bad_shard_count_is_one_line_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="QBO_SHARD_COUNT"):
        shard_count({"QBO_SHARD_COUNT": value})
