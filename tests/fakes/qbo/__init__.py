"""A faithful QuickBooks Online Accounting API simulator (real HTTP server on 127.0.0.1)."""
