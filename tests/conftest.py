"""Suite-wide pytest configuration: the QBO simulator fixtures and the real-service fixtures."""

pytest_plugins = ["tests.fakes.qbo.fixtures", "tests.services"]
