"""The command line and environment of one shard's `meltano run`, without any orchestrator.

Every orchestrator task of a shard runs the same thing: `meltano run --state-id-suffix shard-K-of-N tap
target` with `TAP_QUICKBOOKS_CDC_COMPANY_SHARD=K/N`. Kept apart from the Dagster definition so the tests (and
any other engine) start shards exactly as the job does.

Shards that run at the same time in one project folder need a `.meltano` folder each: Meltano writes the
tap's catalog to a fixed path, `.meltano/run/<tap>/tap.properties.json`, and deletes it when its run ends, so
two runs of one tap in one folder delete each other's catalog ("No such file or directory:
.../tap.properties.json"). Each shard gets `MELTANO_SYS_DIR_ROOT=.meltano/shards/shard-K-of-N`, whose plugin
folders link to the project's installed ones (nothing is installed twice), and all shards keep one system
database (`MELTANO_DATABASE_URI`, the project's own unless already set), so Meltano's guard against two runs
of one state ID still sees every shard.
"""

from __future__ import annotations

import os
import typing as t
from dataclasses import dataclass
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXTRACTOR = "tap-quickbooks-cdc"
LOADER = "target-looker-stage"
PLUGIN_FOLDERS = ("extractors", "loaders", "utilities")


def shard_suffix(index: int, count: int) -> str:
    """The `--state-id-suffix` of shard `index` of `count`: its Meltano state ID ends with it."""
    return f"shard-{index}-of-{count}"


def shard_sys_dir(project_root: Path, index: int, count: int) -> Path:
    """The shard's own `.meltano` folder (made if missing), its plugin folders linked to the project's."""
    shared = project_root / ".meltano"
    own = shared / "shards" / shard_suffix(index, count)
    own.mkdir(parents=True, exist_ok=True)
    for name in PLUGIN_FOLDERS:
        (shared / name).mkdir(exist_ok=True)
        link = own / name
        if not link.is_symlink():
            link.symlink_to(shared / name, target_is_directory=True)
    return own


@dataclass(frozen=True)
class ShardRun:
    """One shard's `meltano run`: `argv` to run in `cwd` with `env` added to the inherited environment."""

    index: int
    count: int
    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path


def shard_run(
    index: int,
    count: int,
    *,
    project_root: Path = PROJECT_ROOT,
    meltano: str = "meltano",
    environ: Mapping[str, str] | None = None,
) -> ShardRun:
    """The shard's run (`environ`, default this process's, may already name the system database); a shard
    outside 1..count is a ValueError (the orchestrator's definition is wrong)."""
    if not 1 <= index <= count:
        raise ValueError(f"shard {index} of {count}: use 1 <= shard <= count.")
    suffix = shard_suffix(index, count)
    shared_db = f"sqlite:///{project_root / '.meltano' / 'meltano.db'}"
    env = {
        "TAP_QUICKBOOKS_CDC_COMPANY_SHARD": f"{index}/{count}",
        "MELTANO_SYS_DIR_ROOT": str(shard_sys_dir(project_root, index, count)),
        "MELTANO_DATABASE_URI": (os.environ if environ is None else environ).get("MELTANO_DATABASE_URI")
        or shared_db,
    }
    argv = (meltano, "run", "--state-id-suffix", suffix, EXTRACTOR, LOADER)
    return ShardRun(index, count, argv, env, project_root)
