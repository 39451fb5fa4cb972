"""A shared store in object storage (any fsspec URL), with the local store as its cache.

Layout under the URL, the same as a local store's files: ``objects/ab/<rest>`` (blobs,
named by their xxh3_128) and ``entries/ab/<key>.json`` (manifests, recipes included).
No database: the local index is rebuilt from manifests as they come.

- A lookup the local store cannot answer asks the remote: its manifest, then its blob,
  which is checked against its name before it is kept locally (read-through).
- A stored result is uploaded, blob first, then the manifest that makes it visible
  (write-through); a blob the remote already has is not uploaded again.
- When the remote cannot be reached, a warning says so once and hitnb works locally;
  ``hitnb push`` uploads what was stored meanwhile.
- With a signing key, manifests are signed (HMAC-SHA256) and an unsigned or tampered
  one is refused, since a pickle from a shared bucket runs code when loaded.

Credentials and endpoints come from the filesystem's usual places (for S3: AWS_*
variables, ~/.aws, or ``FSSPEC_S3_ENDPOINT_URL`` for another S3-protocol server).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import warnings
from typing import Any

from hitnb.errors import CorruptEntryError, CorruptEntryWarning, HitnbWarning

RETRY_SECONDS = 60.0
"""After a failure, the remote is left alone this long before hitnb tries it again."""
_S3_TIMEOUTS = {"connect_timeout": 3, "read_timeout": 30, "retries": {"max_attempts": 2}}


class RemoteUnavailable(Exception):
    """The shared store did not answer; the caller goes on locally."""


def sign(record: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA256 of a manifest, over its canonical JSON without the signature itself: so
    it covers every field, the entry's key, its blob's digest and its checksum included.
    (A reader also checks that the key inside is the one it asked for: a signed manifest
    copied under another key's path is refused, not served as that key's value.)"""
    body = {k: v for k, v in record.items() if k != "signature"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


class Remote:
    """The shared part of a store, reached through fsspec."""

    def __init__(self, url: str, signing_key: str | None = None) -> None:
        import fsspec

        options: dict[str, Any] = {}
        if url.startswith(("s3://", "s3a://")):
            options["config_kwargs"] = _S3_TIMEOUTS  # fail fast when offline, do not hang
        self.url = url.rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url, **options)
        self.root = self.root.rstrip("/")
        self.signing_key = signing_key.encode() if signing_key else None
        self._down_since: float | None = None
        self._warned = False
        self._bad_blobs: set[str] = set()

    def mark_bad(self, blob_id: str | None) -> None:
        """A blob here failed its checksum: the next upload of it replaces it."""
        if blob_id:
            self._bad_blobs.add(blob_id)

    def __repr__(self) -> str:
        return f"Remote({self.url!r})"

    # -- paths -------------------------------------------------------------------------------
    def blob_path(self, blob_id: str) -> str:
        return f"{self.root}/objects/{blob_id[:2]}/{blob_id[2:]}"

    def manifest_path(self, key: str) -> str:
        return f"{self.root}/entries/{key[:2]}/{key}.json"

    # -- availability --------------------------------------------------------------------
    def retry_now(self) -> None:
        """Try the remote on the next call even if it failed a moment ago (push, pull)."""
        self._down_since = None

    @property
    def available(self) -> bool:
        return self._down_since is None or time.monotonic() - self._down_since > RETRY_SECONDS

    def _failed(self, exc: BaseException) -> RemoteUnavailable:
        self._down_since = time.monotonic()
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"the shared store {self.url} cannot be reached ({type(exc).__name__}: {exc}); "
                "working with the local store only. `hitnb push` uploads what is stored "
                "meanwhile.",
                HitnbWarning,
                stacklevel=5,
            )
        return RemoteUnavailable(str(exc))

    def _call(self, action: Any, *args: Any) -> Any:
        if not self.available:
            raise RemoteUnavailable(f"{self.url} is offline")
        try:
            result = action(*args)
        except FileNotFoundError:
            raise
        except Exception as exc:
            raise self._failed(exc) from exc
        if self._down_since is not None:  # it answered again
            self._down_since, self._warned = None, False
        return result

    # -- reading -----------------------------------------------------------------------------
    def manifest(self, key: str) -> dict[str, Any] | None:
        """The manifest of ``key`` if the remote has a trustworthy one, else None."""
        try:
            raw = self._call(self.fs.cat_file, self.manifest_path(key))
        except FileNotFoundError:
            return None
        try:
            record: dict[str, Any] = json.loads(raw)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError:
            warnings.warn(
                f"the shared store's manifest of {key} is unreadable; ignored", CorruptEntryWarning,
                stacklevel=4,
            )  # fmt: skip
            return None
        if self.signing_key is not None:
            expected = sign(record, self.signing_key)
            if not hmac.compare_digest(str(record.get("signature", "")), expected):
                state = "unsigned" if "signature" not in record else "signed with another key"
                warnings.warn(
                    f"entry {key} in the shared store {self.url} is {state} or was changed; "
                    "refused (loading it could run someone else's code); it is computed here",
                    CorruptEntryWarning,
                    stacklevel=4,
                )
                return None
        if record.get("key") != key:
            warnings.warn(
                f"the shared store's manifest at the path of entry {key} is that of entry "
                f"{record.get('key')!r}; refused (it would give another call's value), it is "
                "computed here",
                CorruptEntryWarning,
                stacklevel=4,
            )
            return None
        return record

    def blob(self, blob_id: str) -> bytes:
        """A blob's bytes, checked against its name."""
        data: bytes = self._call(self.fs.cat_file, self.blob_path(blob_id))
        import xxhash

        if xxhash.xxh3_128_hexdigest(data) != blob_id:
            raise CorruptEntryError(f"blob {blob_id} in the shared store does not match its name")
        return data

    def keys(self) -> set[str]:
        """Every key the remote has a manifest for."""
        try:
            paths = self._call(self.fs.find, f"{self.root}/entries")
        except FileNotFoundError:
            return set()
        return {p.rsplit("/", 1)[1][:-5] for p in paths if p.endswith(".json")}

    # -- writing ---------------------------------------------------------------------------
    def upload(self, record: dict[str, Any], blob: bytes | str | None) -> None:
        """Upload a blob (bytes, or a local file's path) unless present, then the manifest."""
        blob_id = record.get("blob")
        if blob_id and blob is not None:
            target = self.blob_path(blob_id)
            if blob_id in self._bad_blobs or not self._call(self.fs.exists, target):
                if isinstance(blob, str):
                    self._call(self.fs.put_file, blob, target)  # multipart for large files
                else:
                    self._call(self.fs.pipe_file, target, blob)
        if self.signing_key is not None:
            record = {**record, "signature": sign(record, self.signing_key)}
        text = json.dumps(record, default=str).encode()
        self._call(self.fs.pipe_file, self.manifest_path(record["key"]), text)
        self._bad_blobs.discard(str(blob_id))
