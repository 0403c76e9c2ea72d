"""tap-quickbooks-cdc: a Singer tap for QuickBooks Online (query backfill, then CDC; many companies)."""
