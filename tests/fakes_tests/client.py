"""A minimal QBO client for the simulator's own tests (plain ``requests``, no retries)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests

from tests.fakes.qbo import QboSimulator


def refresh(sim: QboSimulator, refresh_token: str, **headers: str) -> requests.Response:
    """POST the refresh-token grant with HTTP Basic client credentials."""
    return requests.post(
        sim.token_url,
        auth=(sim.client_id, sim.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        headers={"Accept": "application/json", **headers},
        timeout=10,
    )


class Company:
    """One connected company: fetches an access token on creation."""

    def __init__(self, sim: QboSimulator, realm_id: str | None = None) -> None:
        self.sim = sim
        self.realm_id = realm_id or sim.realm_ids[0]
        answer = refresh(sim, sim.current_refresh_token(self.realm_id))
        answer.raise_for_status()
        self.access_token: str = answer.json()["access_token"]
        self.url = f"{sim.base_url}/v3/company/{self.realm_id}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"}

    def get(self, path: str, **params: str) -> requests.Response:
        return requests.get(
            f"{self.url}/{path}", params={"minorversion": "75", **params}, headers=self.headers(), timeout=30
        )

    def post(self, path: str, body: dict[str, Any], **params: str) -> requests.Response:
        return requests.post(
            f"{self.url}/{path}",
            json=body,
            params={"minorversion": "75", **params},
            headers=self.headers(),
            timeout=30,
        )

    def query(self, statement: str) -> requests.Response:
        return self.get("query", query=statement)

    def rows(self, statement: str) -> list[dict[str, Any]]:
        """The entity rows of a successful query page (amounts parsed as Decimal)."""
        answer = self.query(statement)
        assert answer.status_code == 200, answer.text
        body = decimal_json(answer)["QueryResponse"]
        lists = [value for value in body.values() if isinstance(value, list)]
        return lists[0] if lists else []


def decimal_json(answer: requests.Response) -> Any:
    """The body parsed with exact amounts."""
    return answer.json(parse_float=Decimal)


def fault_code(answer: requests.Response) -> str:
    """The first Fault error code of an answer."""
    return str(answer.json()["Fault"]["Error"][0]["code"])
