"""`tap-quickbooks-cdc-connect`: connect a QuickBooks company and store its first refresh token.

Runs Intuit's OAuth 2.0 authorization-code flow: print the authorize URL (random `state`), take the
browser's redirect (a one-shot listener on a loopback redirect URI, or the address pasted on stdin),
refuse a wrong `state`, exchange the code at the token endpoint, write the refresh token straight into
the tap's token store under the company's realmId, then read CompanyInfo to name the company. The
token, the code and the client secret are never printed; the one line to add to `companies` is.

Why a second console script and not `tap-quickbooks-cdc connect`: the SDK builds the tap's CLI as one
`click.Command` (`SingerCommand`) whose eager `--config` callback already parses settings for a sync;
a subcommand would mean replacing it with a `click.Group` and re-creating every SDK option on it.
Meltano runs this script through the extractor's `connect` command (`meltano invoke
tap-quickbooks-cdc:connect`), with `--config ENV` reading the settings Meltano exports.

Why plain `requests` and not requests-oauthlib or authlib: the flow is one URL built with `urlencode`,
one constant-time `state` comparison and one form POST, the same POST `auth.py` makes for refreshes.
requests-oauthlib refuses the `http://localhost` callback that Intuit's development keys use unless the
process sets `OAUTHLIB_INSECURE_TRANSPORT` (which would also let the token POST go over plain HTTP), and
both libraries raise their own exceptions that would still need translating into one-line errors.
`http.server` is enough for the loopback listener: it answers exactly one local request.
"""

from __future__ import annotations

import http.server
import json
import secrets
import sys
import time
import typing as t
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import click
import requests
from typing_extensions import override

from tap_quickbooks_cdc.errors import QboTapError
from tap_quickbooks_cdc.settings import (
    CONFIG_SCHEMA,
    DEFAULT_TOKEN_STORE,
    INTUIT_TOKEN_URL,
    PRODUCTION_API,
    SANDBOX_API,
    Company,
)
from tap_quickbooks_cdc.token_store import StoredToken, open_token_store

INTUIT_AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
SCOPE = "com.intuit.quickbooks.accounting"
DEFAULT_REDIRECT_URI = "http://localhost:8040/callback"
ENV_PREFIX = "TAP_QUICKBOOKS_CDC_"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})  # listened on at 127.0.0.1
NO_SEED = ""  # a company connected here has no seed refresh token in config


class ConnectError(click.ClickException):
    """One line naming the problem and the fix; shown as `Error: ...`, exit status 1."""


@dataclass(frozen=True)
class AppSettings:
    """What connecting needs from the tap's settings (no company has to be configured yet)."""

    client_id: str
    client_secret: str
    api_base_url: str
    token_url: str
    token_store: str
    token_store_s3_endpoint_url: str | None
    minorversion: int
    timeout: float
    seeds: dict[str, str]  # realm -> seed refresh token already in config
    token_store_adopt: bool = False  # a store moved on purpose (see token_store.py)

    @override
    def __repr__(self) -> str:
        return f"AppSettings(api_base_url={self.api_base_url!r}, token_store={self.token_store!r})"


def load_config(sources: t.Sequence[str]) -> dict[str, t.Any]:
    """Merge the JSON files in order, like the SDK's `--config`; `ENV` reads `TAP_QUICKBOOKS_CDC_*`."""
    config: dict[str, t.Any] = {}
    for source in sources:
        if source == "ENV":
            from singer_sdk.configuration._dict_config import (  # noqa: PLC0415 - only for ENV
                parse_environment_config,
            )

            config |= parse_environment_config(CONFIG_SCHEMA, prefix=ENV_PREFIX)
            continue
        try:
            loaded = json.loads(Path(source).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConnectError(
                f"Cannot read config {source} ({exc.strerror}): pass the tap's settings file."
            ) from None
        except json.JSONDecodeError:
            raise ConnectError(f"Config {source} is not valid JSON: fix the file and run again.") from None
        if not isinstance(loaded, dict):
            raise ConnectError(f"Config {source} is not a JSON object: pass the tap's settings file.")
        config |= loaded
    return config


def _required(config: t.Mapping[str, t.Any], key: str, fix: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConnectError(f"Missing setting '{key}': {fix}")
    return value.strip()


def _seeds(config: t.Mapping[str, t.Any]) -> dict[str, str]:
    entries: list[t.Any] = list(config.get("companies") or [])
    entries.append({"realm_id": config.get("realm_id"), "refresh_token": config.get("refresh_token")})
    seeds: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        realm, seed = entry.get("realm_id"), entry.get("refresh_token")
        if isinstance(realm, str) and isinstance(seed, str) and seed.strip():
            seeds[realm.strip()] = seed.strip()
    return seeds


def app_settings(config: t.Mapping[str, t.Any]) -> AppSettings:
    """The app credentials, endpoints and token store, derived like `settings.parse_settings` does."""
    environment = config.get("environment") or "production"
    if environment not in {"production", "sandbox"}:
        raise ConnectError(f"Setting 'environment' is {environment!r}: use 'production' or 'sandbox'.")
    default_api = PRODUCTION_API if environment == "production" else SANDBOX_API
    return AppSettings(
        client_id=_required(config, "client_id", "set it to your Intuit app's client ID."),
        client_secret=_required(config, "client_secret", "set it to your Intuit app's client secret."),
        api_base_url=str(config.get("api_base_url") or default_api).rstrip("/"),
        token_url=str(config.get("token_url") or INTUIT_TOKEN_URL),
        token_store=str(config.get("token_store") or DEFAULT_TOKEN_STORE),
        token_store_s3_endpoint_url=config.get("token_store_s3_endpoint_url") or None,
        minorversion=int(config.get("minorversion") or 75),
        timeout=float(config.get("request_timeout_seconds") or 120),
        seeds=_seeds(config),
        token_store_adopt=str(config.get("token_store_adopt")).lower() == "true",  # JSON true or ENV "true"
    )


def build_authorize_url(base: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Intuit's consent screen for the accounting scope."""
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{base}{'&' if '?' in base else '?'}{query}"


@dataclass(frozen=True)
class Grant:
    """What the callback carried: the single-use code and the company the user picked."""

    code: str
    realm_id: str

    @override
    def __repr__(self) -> str:
        return f"Grant(realm_id={self.realm_id!r})"


def read_callback(address: str, expected_state: str) -> Grant:
    """Check the redirect Intuit sent the browser to; a wrong or missing `state` is refused."""
    query = urlsplit(address.strip()).query if "?" in address else address.strip()
    params = {key: values[0] for key, values in parse_qs(query).items()}
    if not secrets.compare_digest(params.get("state", "").encode(), expected_state.encode()):
        raise ConnectError(
            "The callback's state does not match this run (an old or forged link): nothing was stored; "
            "run connect again and use the address it prints."
        )
    if "error" in params:
        raise ConnectError(
            f"Intuit answered '{params['error'][:60]}' instead of a code (Connect not clicked or the app "
            "lacks access): nothing was stored; run connect again and click Connect."
        )
    code, realm = params.get("code", ""), params.get("realmId", "")
    if not code or not realm.isdigit():
        raise ConnectError(
            "The callback has no code or realmId: paste the whole address from the browser after "
            "clicking Connect."
        )
    return Grant(code, realm)


class _CallbackServer(http.server.HTTPServer):
    callback_path = "/"
    received: str | None = None


class _CallbackHandler(http.server.BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:  # http.server's naming
        if urlsplit(self.path).path != self.server.callback_path:
            self.send_error(404)
            return
        self.server.received = self.path
        page = (
            b"<html><body><h1>QuickBooks answered</h1>"
            b"<p>The terminal running connect shows the result; you can close this tab.</p></body></html>"
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    @override
    def log_message(self, format: str, *args: t.Any) -> None:  # http.server's signature
        """Silent: the request line carries the authorization code."""


def is_loopback(redirect_uri: str) -> bool:
    parts = urlsplit(redirect_uri)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def open_listener(redirect_uri: str) -> _CallbackServer:
    """Bind the loopback redirect URI before the address is shown, so a busy port fails first."""
    parts = urlsplit(redirect_uri)
    port = parts.port or 80
    try:
        server = _CallbackServer(("127.0.0.1", port), _CallbackHandler)
    except OSError as exc:
        raise ConnectError(
            f"Cannot listen on 127.0.0.1:{port} ({exc.strerror}): free the port, or pass another "
            "registered --redirect-uri, or use --paste."
        ) from None
    server.callback_path = parts.path or "/"
    return server


def wait_for_callback(server: _CallbackServer, timeout: float) -> str:
    """Serve until the redirect path is hit once (other paths, e.g. favicon, get 404) or time runs out."""
    deadline = time.monotonic() + timeout
    server.timeout = 0.5
    try:
        while server.received is None:
            if time.monotonic() >= deadline:
                raise ConnectError(
                    f"No answer from the browser within {timeout:.0f} s: nothing was stored; run connect "
                    "again (with --paste when the browser runs on another machine)."
                )
            server.handle_request()
    finally:
        server.server_close()
    return server.received


def paste_callback() -> str:
    """The redirect address, pasted from the browser's address bar."""
    click.echo("Paste the address the browser was sent to after Connect, then press Enter:", err=True)
    line = sys.stdin.readline()
    if not line.strip():
        raise ConnectError("Nothing was pasted: run connect again and paste the address from the browser.")
    return line


def exchange_code(settings: AppSettings, grant: Grant, redirect_uri: str) -> dict[str, t.Any]:
    """The token endpoint's answer for the code (one attempt: a code works only once)."""
    try:
        response = requests.post(
            settings.token_url,
            data={"grant_type": "authorization_code", "code": grant.code, "redirect_uri": redirect_uri},
            auth=(settings.client_id, settings.client_secret),
            headers={"Accept": "application/json"},
            timeout=settings.timeout,
        )
    except requests.RequestException as exc:
        raise ConnectError(
            f"Token endpoint unreachable ({type(exc).__name__}): check 'token_url' and the network, then "
            "run connect again."
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    if response.status_code == 200 and body.get("refresh_token") and body.get("access_token"):
        return body
    error = str(body.get("error") or f"HTTP {response.status_code}")
    if error == "invalid_grant":
        raise ConnectError(
            "Intuit refused the authorization code (invalid_grant: already used, older than 10 minutes, "
            "or issued for another redirect URI): nothing was stored; run connect again."
        )
    if error == "invalid_client" or response.status_code == 401:
        raise ConnectError(
            f"Intuit rejected the app credentials ({error}): check 'client_id' and 'client_secret'."
        )
    raise ConnectError(f"Exchanging the code failed ({error}): nothing was stored; run connect again.")


def seed_fingerprint(settings: AppSettings, realm_id: str) -> str:
    """The fingerprint the tap computes for this realm from the same config (`Company.seed_fingerprint`),
    so its next run spends the stored token rather than a config seed: that of the seed in config when
    the realm is listed with one (that seed is now stale), else that of no seed."""
    return Company(realm_id, settings.seeds.get(realm_id, NO_SEED)).seed_fingerprint


def exchange_and_store(
    settings: AppSettings, grant: Grant, redirect_uri: str
) -> tuple[dict[str, t.Any], bool]:
    """Exchange the code and write its refresh token under the realm: (token answer, whether it replaced
    an earlier connection). As for a refresh (`auth`), the store is locked and proven writable first, so
    a store that cannot be written, or is a copy of another, fails before the code is spent."""
    spent = False
    try:
        store = open_token_store(
            settings.token_store, settings.token_store_s3_endpoint_url, settings.token_store_adopt
        )
        with store.transaction(grant.realm_id) as slot:
            tokens = exchange_code(settings, grant, redirect_uri)
            spent = True
            replaced = slot.get() is not None
            slot.put(StoredToken(str(tokens["refresh_token"]), seed_fingerprint(settings, grant.realm_id)))
    except QboTapError as exc:
        after = " (The code is spent: run connect again afterwards.)" if spent else " Nothing was stored."
        raise ConnectError(f"{exc}{after}") from None
    return tokens, replaced


def company_name(settings: AppSettings, realm_id: str, access_token: str) -> str | None:
    """CompanyInfo's CompanyName, or None (with a warning) when it cannot be read."""
    url = f"{settings.api_base_url}/v3/company/{realm_id}/companyinfo/{realm_id}"
    name: t.Any = None
    try:
        response = requests.get(
            url,
            params={"minorversion": str(settings.minorversion)},
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=settings.timeout,
        )
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("CompanyInfo"), dict):
            name = body["CompanyInfo"].get("CompanyName")
    except (requests.RequestException, ValueError):
        name = None
    if not isinstance(name, str) or not name:
        click.echo(
            f"Warning: could not read CompanyInfo of realm {realm_id}; the connection is stored.", err=True
        )
        return None
    return name


def companies_line(realm_id: str, name: str | None) -> str:
    """The entry to add to `companies`: `name` is informational, the tap reads `realm_id`."""
    entry = {"realm_id": realm_id} | ({"name": name} if name else {})
    return json.dumps(entry, ensure_ascii=False)


def connect(
    settings: AppSettings,
    *,
    redirect_uri: str,
    authorize_url: str,
    open_browser: bool,
    paste: bool,
    timeout: float,
) -> str:
    """Run the whole flow; returns the `companies` line. Nothing is stored unless the state matched
    and Intuit exchanged the code."""
    state = secrets.token_urlsafe(32)
    server = None if paste or not is_loopback(redirect_uri) else open_listener(redirect_uri)
    url = build_authorize_url(authorize_url, settings.client_id, redirect_uri, state)
    click.echo("Open this address, sign in to QuickBooks and click Connect for the company:", err=True)
    click.echo(url, err=True)
    if open_browser and not paste:
        webbrowser.open(url)
    address = paste_callback() if server is None else wait_for_callback(server, timeout)
    grant = read_callback(address, state)
    tokens, replaced = exchange_and_store(settings, grant, redirect_uri)
    name = company_name(settings, grant.realm_id, str(tokens["access_token"]))
    again = " (replacing its earlier connection)" if replaced else ""
    label = f" ({name})" if name else ""
    click.echo(
        f"Connected realm {grant.realm_id}{label}; its refresh token is in {settings.token_store}{again}.",
        err=True,
    )
    if grant.realm_id in settings.seeds:
        click.echo(
            f"The refresh_token listed for realm {grant.realm_id} in config is stale now: the tap uses the "
            "stored token as long as that config entry is unchanged.",
            err=True,
        )
    click.echo("Add this line to 'companies' (it needs no refresh_token):", err=True)
    return companies_line(grant.realm_id, name)


@click.command(name="tap-quickbooks-cdc-connect", context_settings={"help_option_names": ["--help"]})
@click.option(
    "--config",
    "config_sources",
    multiple=True,
    required=True,
    help="The tap's settings file(s): client_id, client_secret, token_store, ...; ENV: TAP_QUICKBOOKS_CDC_*.",
)
@click.option(
    "--redirect-uri",
    default=DEFAULT_REDIRECT_URI,
    show_default=True,
    help="A redirect URI registered on the Intuit app; an http://localhost one is listened on.",
)
@click.option(
    "--authorize-url", default=INTUIT_AUTHORIZE_URL, show_default=True, help="Intuit's authorize endpoint."
)
@click.option("--no-browser", is_flag=True, help="Only print the address; do not open a browser.")
@click.option(
    "--paste",
    is_flag=True,
    help="Read the address the browser landed on from stdin (browser elsewhere, HTTPS redirect URI).",
)
@click.option(
    "--timeout", default=300.0, show_default=True, help="Seconds to wait for the browser's redirect."
)
def main(
    *,
    config_sources: tuple[str, ...],
    redirect_uri: str,
    authorize_url: str,
    no_browser: bool,
    paste: bool,
    timeout: float,
) -> None:
    """Connect a QuickBooks company (OAuth 2.0 consent) and put its refresh token into the token store."""
    settings = app_settings(load_config(config_sources))
    line = connect(
        settings,
        redirect_uri=redirect_uri,
        authorize_url=authorize_url,
        open_browser=not no_browser,
        paste=paste,
        timeout=timeout,
    )
    click.echo(line)
