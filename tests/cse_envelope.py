"""Decrypting an object written with ``AWS_CSE``, as the S3 Encryption Client documents it.

The V2 envelope (``awslabs/aws-encryption-sdk-specification``,
``s3-encryption/data-format/content-metadata.md``; ``AesKeyring`` of
``aws/amazon-s3-encryption-client-java``): the data key is wrapped by AES-GCM under the
MASTER_KEY with ``AES/GCM/NoPadding`` as associated data and stored as IV + ciphertext +
tag; the content is AES-GCM with the tag appended. Written here from the format, not from
the runtime's code, so a test decrypting with it checks that other clients can.
"""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def decrypt_v2(s3: Any, bucket: str, key: str, master_key: str) -> bytes:
    """The plain bytes of the object ``key`` (asserting its envelope is the V2 one)."""
    response = s3.get_object(Bucket=bucket, Key=key)
    meta = response["Metadata"]
    assert meta["x-amz-cek-alg"] == "AES/GCM/NoPadding"
    assert meta["x-amz-wrap-alg"] == "AES/GCM"
    assert meta["x-amz-tag-len"] == "128"
    assert meta["x-amz-matdesc"] == "{}"
    wrapped = base64.b64decode(meta["x-amz-key-v2"])
    data_key = AESGCM(base64.b64decode(master_key)).decrypt(
        wrapped[:12], wrapped[12:], b"AES/GCM/NoPadding"
    )
    assert len(data_key) == 32
    iv = base64.b64decode(meta["x-amz-iv"])
    plain = AESGCM(data_key).decrypt(iv, response["Body"].read(), None)
    assert meta["x-amz-unencrypted-content-length"] == str(len(plain))
    return plain
