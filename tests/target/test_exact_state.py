"""STATE round-trips exactly through the target: a tap's fractional bookmark (an epoch-float ``ts``) is
relayed with the same number text it came in with, after the batch it covers is committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.target.singer_streams import encode, record_message, run_target, schema_message

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}}}
#: Numbers a reader decodes as Decimal (fractions, huge values) or int, written compactly as a tap would.
STATES = [
    '{"bookmarks":{"s":{"ts":1700000000.123,"cents":0.10,"zero":-0.0,"tiny":1.5E-7}}}',
    '{"bookmarks":{"s":{"ts":1700000060.5,"huge":123456789012345678901234567890.000001,"n":18446744073709551616}}}',
]


def test_a_fractional_state_value_is_relayed_with_the_same_number_text(
    tmp_path: Path, config: dict[str, Any]
) -> None:
    lines = [encode(schema_message("s", SCHEMA, ["id"]))]
    for number, state in enumerate(STATES):
        lines += [encode(record_message("s", {"id": number})), f'{{"type":"STATE","value":{state}}}\n']

    run = run_target({**config, "batch_size_rows": 1}, lines, workdir=tmp_path)

    assert run.returncode == 0, run.stderr[-2000:]
    assert list(dict.fromkeys(run.stdout.splitlines())) == STATES  # end of input repeats the last STATE
