"""The public peer, ``tap-quickbooks`` from PyPI, in its own venv under ``bench/.venvs/``.

It can run against the simulator only if it can be told where the API and the token endpoint are,
by a documented config option. ``peer_status`` installs it (once), reads its installed source and
says whether that is so; if the hosts are hard-coded it names the file and lines, so the bench can
print the reason instead of a measurement. Its code is never patched: a patched peer would no longer
be the peer.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.target_throughput import ensure_venv

PEER = "tap-quickbooks"
PEER_VERSION = "2.5.0"
_HOST = re.compile(r"""["'](https?://[^"']*intuit\.com[^"']*)["']""")
_CONFIG_KEY = re.compile(r"""config(?:\.get\(|\[)\s*["'](\w+)["']""")
_URL_WORDS = ("url", "host", "endpoint", "base")


@dataclass
class PeerStatus:
    name: str
    runnable: bool
    reason: str
    batch_call: str = ""  # "file:line" where it POSTs its per-entity queries to /batch, if it does


def peer_status() -> PeerStatus:
    name = f"{PEER} {PEER_VERSION} (PyPI)"
    script = ensure_venv(PEER, f"{PEER}=={PEER_VERSION}", PEER)
    if script is None:
        return PeerStatus(name, False, f"could not install {PEER}=={PEER_VERSION}")
    python = script.with_name("python")
    found = subprocess.run(
        [str(python), "-c", "import tap_quickbooks, os; print(os.path.dirname(tap_quickbooks.__file__))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        return PeerStatus(name, False, f"cannot import tap_quickbooks: {found.stderr.strip()[-200:]}")
    package = Path(found.stdout.strip())
    hosts: list[str] = []
    keys: set[str] = set()
    batch_calls: list[str] = []
    for source in sorted(package.rglob("*.py")):
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
            if line.lstrip().startswith("#"):
                continue
            keys.update(_CONFIG_KEY.findall(line))
            if "/batch" in line and "post(" in line:
                batch_calls.append(f"{source.relative_to(package.parent)}:{number}")
            if "developer.intuit.com" not in line:  # documentation links, not endpoints
                hosts += [f"{source.relative_to(package.parent)}:{number} {h}" for h in _HOST.findall(line)]
    batch_call = ", ".join(batch_calls)
    url_keys = sorted(k for k in keys if any(w in k.lower() for w in _URL_WORDS))
    if url_keys:
        return PeerStatus(
            name,
            False,
            f"has URL config keys {url_keys}; a peer run is not implemented in this bench",
            batch_call,
        )
    return PeerStatus(
        name,
        False,
        "hosts are hard-coded, no config key sets them ("
        + "; ".join(hosts)
        + f"; config keys it reads: {', '.join(sorted(keys))}), so it cannot be pointed at the simulator",
        batch_call,
    )
