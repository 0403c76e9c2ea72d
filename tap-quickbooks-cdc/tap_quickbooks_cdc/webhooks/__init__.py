"""QuickBooks webhooks: a verified receiver (`tap-quickbooks-cdc-webhooks serve`) that stores Intuit's change
notifications in a durable inbox, which a tap run drains before (or instead of) its CDC pass.

`payloads` reads both body formats into `Event`s, `inbox` stores them once each (SQLite or PostgreSQL),
`receiver` is the Starlette app, `config` its settings (the tap's own), `cli` the console script.
"""
