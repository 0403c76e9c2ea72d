"""Where staged Parquet files are published: a local folder, S3 or SFTP."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

#: Staged files hold customer data: readable by the owner only, whatever the umask (local and SFTP; S3
#: objects have no modes). Folders the stage creates are private likewise.
FILE_MODE = 0o600
FOLDER_MODE = 0o700


class StageStorage(Protocol):
    """A flat key space of files.

    Keys are relative and '/'-separated, e.g. ``stream=invoices/realm_id=1/x.parquet``.
    """

    #: Where the files land, for logs and summaries, with any password or key removed.
    display_uri: str

    def check(self) -> None:
        """Raise StageError (one line: what failed, how to fix) if the destination is unreachable."""

    def put_file(self, local_path: Path, key: str) -> None:
        """Publish ``local_path`` at ``key`` atomically.

        Readers see the old object or the whole new one, never a part. An existing object at that key is
        replaced, so a re-run of the same batch replaces rather than duplicates.
        """

    def get_bytes(self, key: str) -> bytes:
        """Read one object (tests, manifests)."""

    def list_keys(self, prefix: str = "") -> list[str]:
        """Sorted keys under ``prefix``; temporary/partial uploads are never listed."""

    def delete(self, key: str) -> None:
        """Remove one object; missing is not an error."""

    def close(self) -> None:
        """Release connections."""
