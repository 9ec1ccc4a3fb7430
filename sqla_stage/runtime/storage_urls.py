"""A location URL's query string (``'s3://b/p/?region=x'``): refused, never ignored.

No warehouse documents settings in a stage URL's query string: Snowflake, Databend and
MatrixOne take the region, endpoint and keys in ``CREDENTIALS`` / ``CONNECTION``. fsspec
would drop most such keys (s3fs reads ``versionId`` and nothing else), so a setting
written there would be silently ignored. The runtime refuses any query string on a URL
of object storage (``s3://``, ``gcs://``, ``azure://``, ``https://``, ...), naming its
keys but not their values (a SAS token is a query string). On a local path or
``file://`` / ``memory://`` URL a ``?`` is a character of the file name, as the spec's
quoted locations allow.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import fsspec

from sqla_stage.errors import StageProgrammingError

#: Protocols whose paths are file names, where ``?`` is an ordinary character.
_LITERAL_PROTOCOLS = frozenset({None, "file", "local", "memory"})
#: A key the message may name: a short setting name (anything else may be a secret).
_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")


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
        "CREDENTIALS (REGION, ENDPOINT_URL, ...), and no '?' in the URL"
    )
