"""The well-known payload codec: AES-256-GCM encryption with key ids and rotation.

Every payload leaves the client or worker as ciphertext: the original ``Payload`` (its metadata and
data) is serialized and sealed with AES-256-GCM under the newest key; the result carries the encoding
``binary/encrypted`` and the key's id in ``encryption-key-id``, so the server stores and forwards what
it cannot read, and any process that holds that key (a worker, the ``wf codec-server``) opens it again.
Rotation: list the new key last; payloads written under an older key still decode while that key is
known. Neither a key nor a plaintext ever appears in an error: an unknown key id is named by its id.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wf.v1 import common_pb2
from worker_sdk._converter import ENCODING, PayloadCodec

log = logging.getLogger(__name__)

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE_BYTES = 12  # GCM's standard nonce; random per payload, so a key may seal 2**32 payloads safely


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload with AES-256-GCM; decrypts with whichever known key sealed it.

    Args:
        keys: key id → 32-byte key, oldest first. Payloads are encrypted with the **last** key; any
            key listed decrypts. Key ids are stored in clear beside each payload, so make them names
            (``"2026-12"``), never anything secret.

    Keys come from the environment or a file in one format, a JSON object of key id → base64 key
    (``{"2026-11": "q83v...", "2026-12": "3q2+..."}``, newest last), via :meth:`from_env` and
    :meth:`from_file`. ``EncryptionCodec.generate_key()`` makes a fresh key.
    """

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise ValueError("EncryptionCodec needs at least one key")
        self._ciphers: dict[str, AESGCM] = {}
        for key_id, key in keys.items():
            if not isinstance(key_id, str) or not key_id:
                raise ValueError("every encryption key needs a non-empty string id")
            if not isinstance(key, bytes) or len(key) != 32:
                # The length only: never the key.
                raise ValueError(f"encryption key {key_id!r} must be 32 bytes (AES-256), got {len(key)}")
            self._ciphers[key_id] = AESGCM(key)
        self._current = list(keys)[-1]

    def __repr__(self) -> str:  # never the keys
        return f"EncryptionCodec(key_ids={list(self._ciphers)!r}, encrypt_with={self._current!r})"

    @property
    def key_ids(self) -> list[str]:
        """The known key ids, oldest first; the last one encrypts."""
        return list(self._ciphers)

    @staticmethod
    def generate_key() -> bytes:
        """A fresh random 256-bit key."""
        return AESGCM.generate_key(bit_length=256)

    @classmethod
    def from_json(cls, text: str, *, source: str = "the key list") -> EncryptionCodec:
        """Keys from JSON text ``{key id: base64 key, ...}``, newest last."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"{source} is not JSON: expected {{\"key id\": \"base64 key\", ...}}") from None
        if not isinstance(data, dict) or not data:
            raise ValueError(f"{source} must be a non-empty JSON object of key id → base64 key")
        keys: dict[str, bytes] = {}
        for key_id, value in data.items():
            if not isinstance(value, str):
                raise ValueError(f"{source}: key {key_id!r} must be a base64 string")
            try:
                keys[key_id] = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ValueError(f"{source}: key {key_id!r} is not valid base64") from None
        return cls(keys)

    @classmethod
    def from_env(cls, name: str = "WF_CODEC_KEYS") -> EncryptionCodec:
        """Keys from the environment variable ``name``, JSON as :meth:`from_json` reads."""
        text = os.environ.get(name)
        if not text:
            raise ValueError(f"environment variable {name} is not set: expected {{\"key id\": \"base64 key\"}}")
        return cls.from_json(text, source=f"environment variable {name}")

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> EncryptionCodec:
        """Keys from a JSON file, as :meth:`from_json` reads (keep it readable by its owner only: a
        warning is logged, as ssh does for a private key, when other users may read it)."""
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if os.name == "posix" and mode & 0o077:
            log.warning("key file %s may be read by other users of this machine (mode %03o): make it its owner's "
                        "only (chmod 600)", os.fspath(path), mode)
        return cls.from_json(Path(path).read_text(encoding="utf-8"), source=f"key file {os.fspath(path)}")

    async def encode(self, payloads: Sequence[common_pb2.Payload]) -> list[common_pb2.Payload]:
        cipher = self._ciphers[self._current]
        out: list[common_pb2.Payload] = []
        for payload in payloads:
            nonce = os.urandom(_NONCE_BYTES)
            # The key id is bound as associated data: a payload relabelled with another id fails.
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), self._current.encode())
            out.append(common_pb2.Payload(
                metadata={ENCODING: ENCRYPTED_ENCODING, KEY_ID: self._current.encode()}, data=nonce + sealed,
            ))
        return out

    async def decode(self, payloads: Sequence[common_pb2.Payload]) -> list[common_pb2.Payload]:
        out: list[common_pb2.Payload] = []
        for payload in payloads:
            if payload.metadata.get(ENCODING) != ENCRYPTED_ENCODING:
                out.append(payload)  # written before encryption was turned on, or never encoded
                continue
            key_id = payload.metadata.get(KEY_ID, b"").decode("utf-8", "replace")
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise ValueError(
                    f"payload encrypted with unknown key id {key_id!r}; known key ids: {', '.join(self._ciphers)}"
                )
            data = payload.data
            try:
                plain = cipher.decrypt(data[:_NONCE_BYTES], data[_NONCE_BYTES:], key_id.encode())
            except Exception:  # cryptography's InvalidTag: tampered data or the wrong key under that id
                raise ValueError(
                    f"payload under key id {key_id!r} failed authentication (tampered, or another key)"
                ) from None
            inner = common_pb2.Payload()
            inner.ParseFromString(plain)
            out.append(inner)
        return out
