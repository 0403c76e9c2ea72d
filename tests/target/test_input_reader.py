"""The input line reader: any bytes in give either the decoded Singer message or one clean, data-free line.

The bulk is fuzzed in-process with hypothesis (arbitrary bytes, and JSON-ish text built from Singer-shaped
messages then damaged); a few generated-garbage runs go through the CLI (exit 1, one line, no traceback).
"""

from __future__ import annotations

import io
import json
import random
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from singer_sdk.singerlib.exceptions import InvalidInputLine

from target_looker_stage.reader import _ENVELOPES, MAX_NESTING, LineReader
from tests.target.singer_streams import (
    INVOICE_KEYS,
    INVOICE_SCHEMA,
    encode,
    invoice,
    record_message,
    run_in_process,
    schema_message,
    state_message,
    target_command,
    warehouse_rows,
    write_config,
)

#: Planted in generated values: it must never reach an error message.
MARKER = "CUSTOMER-VALUE-7781"
SCHEMA = encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS)).encode()


def run_raw(config: dict[str, Any], payload: bytes, workdir: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        target_command(write_config(workdir, config)),
        input=payload,
        capture_output=True,
        cwd=workdir,
        timeout=120,
        check=False,
    )


def the_error(completed: subprocess.CompletedProcess[bytes]) -> str:
    stderr = completed.stderr.decode(errors="replace")
    assert completed.returncode == 1, stderr[-2000:]
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("target-looker-stage: error:")]
    assert len(errors) == 1, stderr[-2000:]
    assert completed.stdout == b""  # no STATE
    return errors[0]


def deep_line(message: dict[str, Any], depth: int) -> bytes:
    """``message`` encoded with its "DEEP" placeholder replaced by ``depth`` levels of arrays (as text:
    encoders refuse to build it)."""
    return encode(message).replace('"DEEP"', "[" * depth + f'"{MARKER}"' + "]" * depth).encode()


def nested(depth: int) -> Any:
    value: Any = MARKER
    for level in range(depth):
        value = [value] if level % 2 else {"x": value}
    return value


# ----------------------------------------------------------------------------------------- CLI, fixed cases


def test_invalid_utf8_names_the_line_and_byte(config: dict[str, Any], tmp_path: Path) -> None:
    good = encode(record_message("invoices", invoice(1, 0))).encode()
    bad = encode(record_message("invoices", invoice(2, 0, DocNumber=MARKER))).encode()
    bad = bad.replace(MARKER.encode(), MARKER.encode() + b"\xff\xfe")
    line = the_error(run_raw(config, SCHEMA + good + bad, tmp_path))
    assert "input line 3 is not valid UTF-8 (byte " in line
    assert "the tap must write UTF-8" in line
    assert MARKER not in line


def test_a_thousand_levels_of_nesting_is_one_line(config: dict[str, Any], tmp_path: Path) -> None:
    deep = deep_line(record_message("invoices", invoice(1, 0, Line="DEEP")), 1_000)
    line = the_error(run_raw(config, SCHEMA + deep, tmp_path))
    assert "input line 2 nests objects/arrays too deeply to process" in line


def test_a_state_too_deep_to_copy_is_one_line(config: dict[str, Any], tmp_path: Path) -> None:
    deep = deep_line(state_message({"a": "DEEP"}), 600)  # msgspec decodes it; the SDK's deepcopy overflowed
    line = the_error(run_raw(config, SCHEMA + deep, tmp_path))
    assert "input line 2 nests objects/arrays too deeply to process" in line


def test_a_state_within_the_limit_is_relayed(config: dict[str, Any], tmp_path: Path) -> None:
    state = {"a": nested(MAX_NESTING - 5)}
    completed = run_raw(config, SCHEMA + encode(state_message(state)).encode(), tmp_path)
    assert completed.returncode == 0, completed.stderr.decode()[-2000:]
    assert json.loads(completed.stdout) == json.loads(json.dumps(state))


def test_a_record_nested_hundreds_of_levels_is_stored(config: dict[str, Any], database: Path) -> None:
    deep = nested(500)
    lines = [
        encode(schema_message("invoices", INVOICE_SCHEMA, INVOICE_KEYS)),
        encode(record_message("invoices", invoice(1, 0, Line=[deep]))),
    ]
    run_in_process(config, lines)
    (row,) = warehouse_rows(database, "quickbooks.invoices")
    assert json.loads(row["Line"]) == json.loads(json.dumps([deep]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_garbage_on_the_command_line_is_one_line(
    config: dict[str, Any], tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    garbage = rng.randbytes(2_000)
    if seed == 3:  # damage inside a valid message rather than pure noise
        record = bytearray(encode(record_message("invoices", invoice(1, 0))).encode())
        for _ in range(5):
            record[rng.randrange(len(record) - 1)] = rng.randrange(256)
        garbage = bytes(record)
    line = the_error(run_raw(config, SCHEMA + garbage + b"\n", tmp_path))
    assert "input line 2" in line
    assert len(line) < 300


# ----------------------------------------------------------------------------------------- in-process fuzz


def assert_clean(error: InvalidInputLine, number: int = 1) -> None:
    text = str(error)
    assert "\n" not in text
    assert text.startswith(f"input line {number}")
    assert MARKER not in text
    assert len(text) < 300


def refuse(constant: str) -> Any:
    raise ValueError(constant)  # NaN and Infinity are not JSON


def depth(value: Any) -> int:
    if isinstance(value, dict | list):
        children = value.values() if isinstance(value, dict) else value
        return 1 + max((depth(c) for c in children), default=0)
    return 0


def expected_message(line: bytes, *, first: bool = True) -> dict[str, Any] | None:
    """The message a correct reader returns for ``line``, or None when the line must be refused (a byte
    order mark is allowed on the first line only)."""
    try:
        value = json.loads(
            line.decode("utf-8-sig" if first else "utf-8"), parse_float=Decimal, parse_constant=refuse
        )
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return None
    fields = _ENVELOPES.get(value["type"])
    if fields is None:
        return None
    for name, kinds in fields.items():
        if name not in value or not isinstance(value[name], kinds) or isinstance(value[name], bool):
            return None
    if value["type"] != "RECORD" and depth(value) > MAX_NESTING:
        return None
    if value["type"] == "SCHEMA":
        properties = value["schema"].get("properties")
        keys = value.get("key_properties")
        if not isinstance(properties, dict) or not all(isinstance(p, dict) for p in properties.values()):
            return None
        if keys is not None and not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
            return None
    return value


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.sampled_from([MARKER, "", "é", "\u2028", "\\", '"']),
    st.text(max_size=10),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)
field_names = st.sampled_from(
    ["type", "stream", "record", "schema", "value", "version", "key_properties", "properties", "x"]
)
envelopes = st.fixed_dictionaries(
    {"type": st.sampled_from([*_ENVELOPES, "record", "FOO", ""]) | json_values},
    optional={
        "stream": st.just("invoices") | json_values,
        "record": st.dictionaries(st.text(max_size=5), json_values, max_size=4) | json_values,
        "schema": st.fixed_dictionaries(
            {}, optional={"properties": st.dictionaries(st.text(max_size=5), json_values, max_size=3)}
        )
        | json_values,
        "value": st.dictionaries(st.text(max_size=5), json_values, max_size=3) | json_values,
        "version": st.integers() | json_values,
        "key_properties": st.lists(st.text(max_size=5), max_size=2) | json_values,
    },
)


def as_json(value: Any) -> bytes:
    return json.dumps(value, default=str, ensure_ascii=False).encode()


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A Singer-shaped JSON line, sometimes with bytes inserted, removed or flipped."""
    line = bytearray(as_json(draw(envelopes)))
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(line)))
        action = draw(st.sampled_from(["insert", "delete", "flip"]))
        if action == "insert":
            line[position:position] = draw(st.binary(min_size=1, max_size=3))
        elif position < len(line):
            if action == "delete":
                del line[position]
            else:
                line[position] = draw(st.integers(0, 255))
    return bytes(line)


def decode_one(line: bytes) -> dict[str, Any] | InvalidInputLine:
    reader = LineReader()
    try:
        return reader.deserialize_json(line)
    except InvalidInputLine as error:
        return error


def check_line(line: bytes) -> None:
    outcome = decode_one(line)
    expected = expected_message(line)
    if isinstance(outcome, InvalidInputLine):
        assert expected is None, f"refused a valid message: {outcome}"
        assert_clean(outcome)
    else:
        assert outcome == expected


@given(st.binary(max_size=200))
@example(b"\xef\xbb\xbf" + as_json({"type": "STATE", "value": {}}))
@example(b'{"type": "STATE", "value": {"a": "\xff"}}')
@example(b'{"type": {}}')
@example(b"[" * 2_000)
def test_arbitrary_bytes_decode_or_fail_cleanly(line: bytes) -> None:
    check_line(line)


@given(damaged())
def test_singer_shaped_lines_decode_exactly_or_fail_cleanly(line: bytes) -> None:
    check_line(line)


@given(st.lists(damaged() | st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=6))
def test_a_stream_of_lines_stops_at_the_first_bad_one_with_its_number(lines: list[bytes]) -> None:
    received: list[dict[str, Any]] = []
    callbacks = dict.fromkeys(_ENVELOPES, received.append)
    stream = io.TextIOWrapper(io.BytesIO(b"".join(line.replace(b"\n", b" ") + b"\n" for line in lines)))
    expected = [expected_message(line.replace(b"\n", b" "), first=i == 0) for i, line in enumerate(lines)]
    first_bad = next((i for i, message in enumerate(expected) if message is None), None)
    try:
        counts = LineReader().process_lines(stream, callbacks)
    except InvalidInputLine as error:
        assert first_bad is not None
        assert_clean(error, first_bad + 1)
        assert received == expected[:first_bad]
    else:
        assert first_bad is None
        assert received == expected
        assert sum(counts.values()) == len(lines)
