"""Refreshing Looker once per run, after the whole input was loaded and committed.

``settings`` parses the ``looker_*`` settings once into frozen values; ``client`` configures the official
looker-sdk from code and classifies every response (auth, not found, throttled, server, unreachable) with
bounded retries; ``refresh`` triggers datagroups and builds PDTs; ``plans`` makes the declared Scheduled
Plans exist idempotently; ``report`` turns the outcome into one line per item and a JSON summary.
"""
