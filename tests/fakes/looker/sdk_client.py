"""A real looker-sdk 4.0 client pointed at a simulator, configured the published way (``read_config`` returns
strings) and with the SDK's error-documentation fetch switched off (it GETs a CDN with no timeout)."""

from __future__ import annotations

from typing import Any

import looker_sdk
from looker_sdk import error
from looker_sdk.rtl import api_settings


class SimSettings(api_settings.ApiSettings):
    """``ApiSettings`` from code: keyword arguments to ``ApiSettings`` are ignored, ``read_config`` is not."""

    def __init__(self, base_url: str, client_id: str, client_secret: str, timeout: int = 30) -> None:
        self._values = (base_url, client_id, client_secret, str(timeout))
        super().__init__(sdk_version="4.0", env_prefix="LOOKERSIM_UNUSED")

    def read_config(self) -> api_settings.SettingsConfig:
        config = super().read_config()
        config["base_url"], config["client_id"], config["client_secret"], config["timeout"] = self._values
        config["verify_ssl"] = "false"
        return config


def no_error_docs(self: Any, error_url: str, url: str = "") -> tuple[str, str]:
    """Stand-in for ``ErrorDocHelper.parse_and_lookup``: no doc, as when the CDN is unreachable."""
    return ("", "")


ERROR_DOC_HELPER = error.ErrorDocHelper  # patch its ``parse_and_lookup`` with ``no_error_docs`` in tests


def sdk_for(base_url: str, client_id: str, client_secret: str) -> Any:
    """``looker_sdk.init40`` against ``base_url``; patch ``ERROR_DOC_HELPER`` first (see the module doc)."""
    return looker_sdk.init40(config_settings=SimSettings(base_url, client_id, client_secret))
