"""Suite-wide pytest configuration: the QBO simulator fixtures, the real-service fixtures and the
hypothesis profile (derandomized, so a fuzz failure in CI reproduces on every machine)."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "suite",
    derandomize=True,
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
settings.load_profile("suite")

pytest_plugins = ["tests.fakes.qbo.fixtures", "tests.fakes.looker.fixtures", "tests.services"]
