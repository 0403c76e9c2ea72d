"""`target-looker-stage-looker-refresh`: the Looker refresh as its own step, after dbt.

When Looker reads dbt's marts rather than the loaded tables, refreshing at the end of the load would rebuild
PDTs and reset caches from the *previous* marts. With `looker_refresh: after_transform` the target skips its
end-of-load refresh and the job runs this command after `dbt build` (`meltano.yml`: `qbo-to-looker`), with the
same settings, the same one-line report and the same exit status rule (`looker_failure`).
"""

from __future__ import annotations

import json
import logging
import sys
import typing as t
from pathlib import Path

import click

from target_looker_stage.errors import ConfigError
from target_looker_stage.looker.settings import parse_looker_settings
from target_looker_stage.settings import CONFIG_SCHEMA

ENV_PREFIX = "TARGET_LOOKER_STAGE_"
NAME = "target-looker-stage-looker-refresh"


def load_config(sources: t.Sequence[str]) -> dict[str, t.Any]:
    """Merge the JSON files in order, like the SDK's `--config`; `ENV` reads `TARGET_LOOKER_STAGE_*`."""
    config: dict[str, t.Any] = {}
    for source in sources:
        if source == "ENV":
            from singer_sdk.configuration._dict_config import parse_environment_config  # noqa: PLC0415

            config |= parse_environment_config(CONFIG_SCHEMA, prefix=ENV_PREFIX)
            continue
        try:
            loaded = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(
                f"cannot read config {source} ({exc.strerror}): pass the target's settings file"
            ) from None
        except ValueError:
            raise ConfigError(f"config {source} is not valid JSON: fix the file and run again") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config {source} is not a JSON object: pass the target's settings file")
        config |= loaded
    return config


def refresh(config: t.Mapping[str, t.Any], logger: logging.Logger) -> int:
    """Run the refresh once; the exit status: 0, or 1 when it failed and `looker_failure` is `fail`."""
    settings = parse_looker_settings(config)
    if not settings.enabled or not settings.base_url:
        logger.info("looker: refresh off (%s)", settings.off_reason or "looker_refresh is 'never'")
        return 0
    from target_looker_stage.looker.refresh import run_refresh  # noqa: PLC0415 - looker-sdk only when on

    # The step is explicit: there is no input to call idle, so it always refreshes.
    report = run_refresh(settings, records=1, logger=logger)
    return 1 if report.failed and settings.failure == "fail" else 0


@click.command(name=NAME, context_settings={"help_option_names": ["--help"]})
@click.option(
    "--config",
    "config_sources",
    multiple=True,
    required=True,
    help="The target's settings file(s) (looker_*); ENV: TARGET_LOOKER_STAGE_* as Meltano exports them.",
)
def main(*, config_sources: tuple[str, ...]) -> None:
    """Trigger the declared datagroups, build the PDTs and ensure the Scheduled Plans, once."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logger = logging.getLogger(NAME)
    try:
        status = refresh(load_config(config_sources), logger)
    except ConfigError as exc:
        sys.stderr.write(f"{NAME}: error: {str(exc).splitlines()[0]}\n")
        sys.exit(1)
    sys.exit(status)
