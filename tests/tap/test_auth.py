"""OAuth messages: a connection near its hard (five-year) expiry is announced ahead of time."""

from __future__ import annotations

from tap_quickbooks_cdc.auth import hard_expiry_warning


def test_a_connection_near_its_hard_expiry_is_announced() -> None:
    assert hard_expiry_warning("9130", {"x_refresh_token_hard_expires_in": 10 * 86_400}) == (
        "realm 9130: the connection's hard lifetime ends in 10 days; reconnect the company in the "
        "Intuit app before then with `tap-quickbooks-cdc-connect` (or `meltano invoke "
        "tap-quickbooks-cdc:connect`)."
    )
    assert hard_expiry_warning("9130", {"x_refresh_token_hard_expires_in": 900 * 86_400}) is None
    assert hard_expiry_warning("9130", {}) is None
