"""A QuickBooks Online simulator for tests and benchmarks (see ``simulator.QboSimulator``)."""

from tests.fakes.qbo.config import SimConfig
from tests.fakes.qbo.render import iter_entity_json, iter_entity_records
from tests.fakes.qbo.simulator import QboSimulator, RequestRecord
from tests.fakes.qbo.webhooks import WebhookEvent

__all__ = [
    "QboSimulator",
    "RequestRecord",
    "SimConfig",
    "WebhookEvent",
    "iter_entity_json",
    "iter_entity_records",
]
