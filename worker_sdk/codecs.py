"""Payload codecs users configure on a ``DataConverter``: ``EncryptionCodec`` (AES-256-GCM, key ids,
rotation), so the wf server stores only ciphertext.

    from worker_sdk.codecs import EncryptionCodec
    converter = DataConverter(payload_codec=EncryptionCodec.from_env("WF_CODEC_KEYS"))
"""

from __future__ import annotations

from worker_sdk._codecs import ENCRYPTED_ENCODING, KEY_ID, EncryptionCodec
from worker_sdk._converter import PayloadCodec

__all__ = ["ENCRYPTED_ENCODING", "KEY_ID", "EncryptionCodec", "PayloadCodec"]
