"""A location URL's query string (``'s3://b/p/?region=x'``): applied or refused, never ignored.

fsspec would drop most keys of a query string (s3fs reads ``versionId`` and nothing
else), so a setting written there would be silently ignored. Snowflake and Databend take
the region, endpoint and keys in ``CREDENTIALS`` / ``CONNECTION`` only. MatrixOne's
documentation (its ``data branch diff`` page) creates a stage with ``URL =
's3://my-bucket/diff-output/?region=us-east-1&access_key_id=xxx&secret_access_key=yyy'``:
under ``stage_dialect=matrixone`` those three keys of a ``CREATE`` / ``ALTER STAGE`` URL
become the stage's credentials (``region``, ``aws_key_id``, ``aws_secret_key``; the
stored URL keeps no query string, so ``SHOW STAGES`` shows no key), unless
``CREDENTIALS`` gives the same one (`query_credentials`).

Any other query string on a URL of object storage (``s3://``, ``gcs://``, ``azure://``,
``https://``, ...) is refused (`refuse_query_string`), naming its keys but not their
values (a SAS token is a query string). On a local path or ``file://`` / ``memory://``
URL a ``?`` is a character of the file name, as the spec's quoted locations allow.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import fsspec

from sqla_stage.credentials import Credentials
from sqla_stage.errors import StageProgrammingError

#: Protocols whose paths are file names, where ``?`` is an ordinary character.
_LITERAL_PROTOCOLS = frozenset({None, "file", "local", "memory"})
#: A key the message may name: a short setting name (anything else may be a secret).
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")


#: MatrixOne's keys of a stage URL's query string, as the credentials' keys.
MATRIXONE_QUERY_KEYS = {
    "region": "region",
    "access_key_id": "aws_key_id",
    "secret_access_key": "aws_secret_key",
}


def query_credentials(
    url: str, credentials: Credentials | None
) -> tuple[str, Credentials | None] | None:
    """MatrixOne's stage URL query string as credentials: the bare URL and the credentials.

    None when ``url`` is not an ``s3://`` URL with a query string.

    Raises:
        StageProgrammingError: a key other than MatrixOne's, or one ``credentials`` gives.
    """
    protocol, path = fsspec.core.split_protocol(url)
    if protocol not in ("s3", "s3a") or "?" not in path:
        return None
    base, _, query = path.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    unknown = {key for key, _ in pairs if key.lower() not in MATRIXONE_QUERY_KEYS}
    if unknown:
        refuse_query_string(url)
    merged = dict(credentials.items()) if credentials else {}
    for key, value in pairs:
        name = MATRIXONE_QUERY_KEYS[key.lower()]
        if name in merged:
            raise StageProgrammingError(
                f"the location {protocol}://{base} gives {key!r} in its query string and "
                f"{name!r} in CREDENTIALS; give it once"
            )
        merged[name] = value
    return f"{protocol}://{base}", Credentials.coerce(f"{protocol}://{base}", merged)


def refuse_query_string(url: str) -> None:
    """Refuse ``url`` when it is an object-storage URL with a query string.

    Raises:
        StageProgrammingError: the URL has a query string; the message names its keys.
    """
    protocol, path = fsspec.core.split_protocol(url)
    if protocol in _LITERAL_PROTOCOLS or "?" not in path:
        return
    base, _, query = path.partition("?")
    keys = {key for key, _ in parse_qsl(query, keep_blank_values=True)}
    named = sorted(key for key in keys if _KEY.fullmatch(key))
    which = f" ({', '.join(named)})" if named and len(named) == len(keys) else ""
    raise StageProgrammingError(
        f"the location {protocol}://{base} has a query string{which}, which "
        "the DuckDB runtime does not apply; give the region, endpoint and keys in "
        "CREDENTIALS (REGION, ENDPOINT_URL, ...), and no '?' in the URL (under "
        "stage_dialect=matrixone a stage's s3:// URL takes MatrixOne's region, access_key_id "
        "and secret_access_key)"
    )
