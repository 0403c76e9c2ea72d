"""`tap-quickbooks-cdc-webhooks serve --config CONFIG --host 127.0.0.1 --port PORT`: run the receiver.

Why a second console script (like `tap-quickbooks-cdc-connect`): the SDK's tap CLI is one command whose
`--config` callback starts a sync; the receiver is a long-running server with its own options. Meltano runs
it as the extractor's `webhooks` command with `--config ENV`.

uvicorn serves the app (HTTP/1.1 via h11): on SIGTERM or SIGINT it stops accepting connections, lets the
requests in flight finish (each answers only after its inbox commit, so no accepted event is lost) for up to
`--graceful-seconds`, then runs the app's shutdown, which closes the inbox. Put it behind an HTTPS proxy:
Intuit only calls HTTPS endpoints (see the README's "Webhooks").
"""

from __future__ import annotations

import logging

import click
import uvicorn

from tap_quickbooks_cdc.errors import QboTapError
from tap_quickbooks_cdc.webhooks import logs
from tap_quickbooks_cdc.webhooks.config import load_config, receiver_settings
from tap_quickbooks_cdc.webhooks.inbox import open_inbox
from tap_quickbooks_cdc.webhooks.receiver import create_app

logger = logging.getLogger("tap_quickbooks_cdc.webhooks")


class ReceiverError(click.ClickException):
    """One line naming the problem and the fix; shown as `Error: ...`, exit status 1."""


@click.group()
def main() -> None:
    """QuickBooks webhook receiver: stores verified change notifications in the tap's inbox."""


@main.command()
@click.option(
    "--config",
    "configs",
    multiple=True,
    required=True,
    help="The tap's settings file (repeatable; ENV reads TAP_QUICKBOOKS_CDC_* variables).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8050, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option(
    "--graceful-seconds",
    default=30,
    show_default=True,
    type=click.IntRange(1, 600),
    help="On SIGTERM, how long requests in flight may take to finish.",
)
@click.option(
    "--log-level", default="info", show_default=True, type=click.Choice(["debug", "info", "warning"])
)
def serve(configs: tuple[str, ...], host: str, port: int, graceful_seconds: int, log_level: str) -> None:
    """Serve POST /webhooks/quickbooks and GET /healthz."""
    logs.configure(log_level)
    try:
        settings = receiver_settings(load_config(configs))
        inbox = open_inbox(settings.inbox)
    except QboTapError as exc:
        raise ReceiverError(str(exc)) from None
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, inbox),
            host=host,
            port=port,
            log_config=None,  # logs.configure already routes uvicorn's lines through the JSON handler
            log_level=log_level,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=graceful_seconds,
            lifespan="on",
        )
    )
    logger.info("starting", extra={"fields": {"host": host, "port": port}})
    server.run()
    if not server.started:
        raise ReceiverError(f"The receiver could not listen on {host}:{port}: free the port or pick another.")
