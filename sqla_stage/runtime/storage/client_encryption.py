"""Client-side encryption (``ENCRYPTION = (TYPE = 'AWS_CSE' MASTER_KEY = '...')``) of S3 files.

The files follow the envelope format of the Amazon S3 Encryption Client, so its clients
(and other tools that implement the format) decrypt them. The format is specified in
``awslabs/aws-encryption-sdk-specification`` (``s3-encryption/data-format/content-metadata.md``)
and implemented by ``aws/amazon-s3-encryption-client-java`` (``AesKeyring``): each file
gets a random 256-bit data key and a random 96-bit IV; its bytes are encrypted with
AES-256-GCM (``AES/GCM/NoPadding``, the 128-bit tag appended to the ciphertext); the data
key is wrapped with the MASTER_KEY (a base64 128- or 256-bit AES key, spec 004) by AES-GCM
with a fresh IV, the content algorithm's name as associated data, stored as IV, ciphertext
and tag. The envelope is the object's S3 user metadata (format V2)::

    x-amz-key-v2    base64(wrapping IV + wrapped data key + tag)
    x-amz-iv        base64(content IV)
    x-amz-cek-alg   AES/GCM/NoPadding
    x-amz-wrap-alg  AES/GCM
    x-amz-tag-len   128
    x-amz-matdesc   {}
    x-amz-unencrypted-content-length   the plain size

Reading also takes the legacy formats a MASTER_KEY may have written (Snowflake's
connectors and the S3 Encryption Client V1): ``x-amz-key`` (the data key under AES/ECB)
or ``x-amz-wrap-alg`` ``AESWrap`` (RFC 3394), with content under ``AES/CBC/PKCS5Padding``
or AES-GCM. A file without the envelope on an ``AWS_CSE`` location is refused, as is a
file whose key does not unwrap with the MASTER_KEY (the GCM tags do not match; for V1, the
unwrapped key's padding and length): with AES-GCM content nothing unverified is handed to
DuckDB. Legacy CBC content carries no tag, so a V1 file changed in storage is not detected
(only its final padding is checked). Files are encrypted and decrypted whole, in chunks, to and
from local temporary files (a file-level step like compression; rows are never visited).

The ``cryptography`` package does the cryptography (a core dependency: it also seals the
registry's secrets, `catalog.sealed_secrets`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

from sqla_stage.credentials import Encryption
from sqla_stage.errors import StageOperationalError, StageProgrammingError

#: The content and key-wrapping algorithms written, as the format names them.
GCM_CONTENT = "AES/GCM/NoPadding"
CBC_CONTENT = "AES/CBC/PKCS5Padding"
GCM_WRAP = "AES/GCM"
#: The GCM tag's length in bytes, and the IV's.
TAG_BYTES = 16
IV_BYTES = 12
#: How much of a file is encrypted or decrypted at once.
CHUNK = 1 << 20

#: A file name's extensions kept by its decrypted copy (``.csv.gz``), so DuckDB detects them.
_SUFFIXES = re.compile(r"(?:\.[A-Za-z0-9_]{1,12}){1,2}$")

#: The metadata names of the envelope (without S3's ``x-amz-meta-`` prefix).
KEY_V2, KEY_V1, IV = "x-amz-key-v2", "x-amz-key", "x-amz-iv"
CEK_ALG, WRAP_ALG, TAG_LEN = "x-amz-cek-alg", "x-amz-wrap-alg", "x-amz-tag-len"
MATDESC, PLAIN_LENGTH = "x-amz-matdesc", "x-amz-unencrypted-content-length"


def master_key(encryption: Encryption | None, place: str) -> bytes | None:
    """The MASTER_KEY's bytes for an ``AWS_CSE`` encryption; None for any other.

    Raises:
        StageProgrammingError: the key is not base64 of 16 or 32 bytes (the error does
            not quote it).
    """
    if encryption is None or encryption["type"] != "AWS_CSE":
        return None
    what = f"{place}: ENCRYPTION = (TYPE = 'AWS_CSE')"
    try:
        key = base64.b64decode(encryption["master_key"], validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) not in (16, 32):
        raise StageProgrammingError(
            f"{what}: the MASTER_KEY must be a base64-encoded 128-bit or 256-bit AES key "
            f"(16 or 32 bytes; the value given decodes to {len(key) or 'no'} bytes"
            f"{'' if key else ' or is not base64'})"
        )
    return key


def refuse_plain_access(key: bytes | None, label: str, what: str, why: str) -> None:
    """Refuse a statement that would write or read a client-encrypted location's bytes as they are.

    Args:
        key: The location's MASTER_KEY (None: no client-side encryption, nothing refused).
        label: How the location is named (``@enc``).
        what: The statement (``PUT``, ``INTO OUTFILE``).
        why: What the statement would do wrong, and what to use instead.

    Raises:
        StageProgrammingError: ``key`` is set.
    """
    if key is not None:
        raise StageProgrammingError(
            f"{what} {label}: the stage has ENCRYPTION = (TYPE = 'AWS_CSE'), and {what} {why}"
        )


def seal(key: bytes, path: str) -> tuple[str, dict[str, str]]:
    """Encrypt the local file ``path`` into ``<path>.cse``: its path and S3 metadata."""
    data_key, iv = secrets.token_bytes(32), secrets.token_bytes(IV_BYTES)
    wrap_iv = secrets.token_bytes(IV_BYTES)
    wrapped = wrap_iv + AESGCM(key).encrypt(wrap_iv, data_key, GCM_CONTENT.encode())
    encryptor = Cipher(algorithms.AES(data_key), modes.GCM(iv)).encryptor()
    sealed = f"{path}.cse"
    with open(path, "rb") as source, open(sealed, "wb") as target:
        while chunk := source.read(CHUNK):
            target.write(encryptor.update(chunk))
        target.write(encryptor.finalize() + encryptor.tag)
    metadata = {
        KEY_V2: base64.b64encode(wrapped).decode(),
        IV: base64.b64encode(iv).decode(),
        CEK_ALG: GCM_CONTENT,
        WRAP_ALG: GCM_WRAP,
        TAG_LEN: str(TAG_BYTES * 8),
        MATDESC: "{}",
        PLAIN_LENGTH: str(os.path.getsize(path)),
    }
    return sealed, metadata


def decrypted_copy(
    key: bytes, source: IO[bytes], metadata: Mapping[str, str], name: str, label: str
) -> str:
    """Decrypt an object read from ``source`` into a temporary file; its path.

    Raises:
        StageProgrammingError: no envelope in ``metadata``, an algorithm the runtime does
            not read, or a MASTER_KEY that does not decrypt the file (nothing is kept).
    """
    where = f"cannot decrypt {name!r} in {label}"
    envelope = {k.lower(): v for k, v in metadata.items()}
    if KEY_V2 not in envelope and KEY_V1 not in envelope:
        raise StageProgrammingError(
            f"{where}: ENCRYPTION = (TYPE = 'AWS_CSE') reads client-side encrypted files, "
            "and this object has no encryption envelope (x-amz-key-v2 / x-amz-key metadata); "
            "it was not written with a MASTER_KEY"
        )
    content = envelope.get(CEK_ALG, CBC_CONTENT if KEY_V1 in envelope else GCM_CONTENT)
    if content not in (GCM_CONTENT, CBC_CONTENT):
        raise StageProgrammingError(f"{where}: its content algorithm {content!r} is not read")
    if content == GCM_CONTENT and envelope.get(TAG_LEN, "128") != "128":
        raise StageProgrammingError(
            f"{where}: its GCM tag length {envelope[TAG_LEN]!r} is not read (only 128)"
        )
    try:
        data_key = _unwrap(key, envelope, content, where)
        if len(data_key) not in (16, 24, 32):  # V1's ECB unwrap has no tag: check its size
            raise ValueError("not an AES key")
        iv = base64.b64decode(envelope[IV], validate=True)
    except (InvalidTag, InvalidUnwrap, ValueError, KeyError):
        raise StageProgrammingError(
            f"{where}: the ENCRYPTION MASTER_KEY does not decrypt its data key (a different "
            "key encrypted it, or the envelope is damaged)"
        ) from None
    suffix = _SUFFIXES.search(name.rpartition("/")[2])
    handle, path = tempfile.mkstemp(prefix="sqla_stage-cse-", suffix=suffix[0] if suffix else "")
    try:
        with os.fdopen(handle, "wb") as target:
            if content == GCM_CONTENT:
                _gcm_decrypt(data_key, iv, source, target)
            else:
                _cbc_decrypt(data_key, iv, source, target)
    except (InvalidTag, ValueError):
        os.remove(path)
        raise StageProgrammingError(
            f"{where}: its content does not decrypt with the data key of its envelope "
            "(the ENCRYPTION MASTER_KEY is not the one it was written with, or the file "
            "was changed)"
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(path)
        raise
    return path


def _unwrap(key: bytes, envelope: Mapping[str, str], content: str, where: str) -> bytes:
    """The data key of an envelope, unwrapped with the MASTER_KEY."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if KEY_V1 in envelope and KEY_V2 not in envelope:  # V1: AES/ECB/PKCS5Padding
        decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
        padded = decryptor.update(base64.b64decode(envelope[KEY_V1])) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    wrapped = base64.b64decode(envelope[KEY_V2], validate=True)
    wrap = envelope.get(WRAP_ALG, "")
    if wrap == GCM_WRAP:
        return AESGCM(key).decrypt(wrapped[:IV_BYTES], wrapped[IV_BYTES:], content.encode())
    if wrap == "AESWrap":
        return aes_key_unwrap(key, wrapped)
    raise StageProgrammingError(
        f"{where}: its key-wrapping algorithm {wrap!r} is not read (AES/GCM and AESWrap "
        "wrap with a MASTER_KEY; kms+context needs AWS KMS)"
    )


def _gcm_decrypt(data_key: bytes, iv: bytes, source: IO[bytes], target: IO[bytes]) -> None:
    """Decrypt ciphertext followed by its tag; InvalidTag if they do not match."""
    decryptor: Any = Cipher(algorithms.AES(data_key), modes.GCM(iv)).decryptor()
    held = b""
    while chunk := source.read(CHUNK):
        held += chunk
        target.write(decryptor.update(held[:-TAG_BYTES]))
        held = held[-TAG_BYTES:]
    if len(held) < TAG_BYTES:
        raise ValueError("the file is shorter than its tag")
    target.write(decryptor.finalize_with_tag(held))


def _cbc_decrypt(data_key: bytes, iv: bytes, source: IO[bytes], target: IO[bytes]) -> None:
    """Decrypt AES/CBC/PKCS5Padding content; ValueError on a bad padding."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    decryptor = Cipher(algorithms.AES(data_key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    while chunk := source.read(CHUNK):
        target.write(unpadder.update(decryptor.update(chunk)))
    target.write(unpadder.update(decryptor.finalize()) + unpadder.finalize())


def fetch_decrypted(key: bytes, fs: Any, path: str, name: str, label: str) -> str:
    """Download the object at ``path`` of ``fs`` decrypted into a temporary file; its path.

    Raises:
        StageProgrammingError: see `decrypted_copy`.
        StageOperationalError: the object or its metadata cannot be read.
    """
    try:
        metadata = fs.metadata(path)
        source = fs.open(path, "rb")
    except Exception as error:  # botocore's errors are not all OSErrors
        raise StageOperationalError(
            f"cannot read {name!r} in {label}: {type(error).__name__}: {error}"
        ) from None
    with source:
        return decrypted_copy(key, source, metadata, name, label)
