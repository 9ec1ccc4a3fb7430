"""MatrixOne's ``URL = "endpoint"='...'`` stages: an endpoint, a bucket and a path as a URL.

MatrixOne's CREATE and ALTER STAGE pages (spec 000) write an S3 or Aliyun OSS stage as
``URL = "endpoint"='s3.us-west-2.amazonaws.com' CREDENTIALS = {"access_key_id"=...,
"secret_access_key"=..., "bucket"='...', "filepath"='...', "region"='...'}``, and MatrixOne's
own tests as ``URL = 's3.us-east-2.amazonaws.com' CREDENTIALS = {..., 'bucket' = '...'}`` (a
URL without a scheme that is not a path, with a bucket). The endpoint becomes the
``endpoint_url`` credential (kept as written: the runtime gives it ``https://`` when it has
no scheme) and the location ``s3://bucket/filepath``, the URL form MatrixOne also takes. The
bucket and path may follow the host in the endpoint instead (``'host/bucket/path'``,
path-style).
"""

from __future__ import annotations

from sqla_stage.errors import StageArgumentError
from sqla_stage.parser.lexer import Kind
from sqla_stage.parser.stream import TokenStream

#: MatrixOne's stage CREDENTIALS keys that sqla_stage does not support, and why.
UNSUPPORTED_KEYS = {
    "compression": "a stage's files carry their own compression, given to the statement "
    "that reads or writes them",
    "external_id": "MatrixOne does not support it either (its ALTER STAGE page)",
}


def at_endpoint_key(stream: TokenStream) -> bool:
    """Whether MatrixOne's ``"endpoint"='...'`` (after ``URL =``) is next."""
    token, after = stream.peek(), stream.peek(1)
    return (
        token.kind in (Kind.QUOTED, Kind.STRING)
        and token.value.lower() == "endpoint"
        and after.kind is Kind.PUNCT
        and after.value == "="
    )


def read_endpoint(stream: TokenStream) -> str:
    """Read ``"endpoint"='...'``: the endpoint's text."""
    stream.next()
    stream.expect_punct("=", "'=' after \"endpoint\"")
    return stream.string('the "endpoint" as a quoted string')


def _is_host(url: str | None) -> bool:
    """Whether a stage URL is a host name (MatrixOne's endpoint), not a URL or a path."""
    return bool(url) and "://" not in str(url) and not str(url).startswith(("/", "$", "~", "."))


def located(
    url: str | None, endpoint: str | None, keys: dict[str, str], credentials: dict[str, str]
) -> str | None:
    """The stage's URL; with an endpoint, ``s3://bucket/path`` (``credentials`` get it).

    Args:
        url: The ``URL = '...'`` given, if any.
        endpoint: The ``URL = "endpoint"='...'`` given, if any.
        keys: The CREDENTIALS' other keys (``bucket``, ``filepath``, ...).
        credentials: The credentials read so far; ``endpoint_url`` is added.

    Raises:
        StageArgumentError: no bucket, a bucket, path or endpoint given twice,
            ``"bucket"`` or ``"filepath"`` without an endpoint, a pattern in
            ``"filepath"``, or ``"compression"`` / ``"external_id"`` (not supported).
    """
    for name, why in UNSUPPORTED_KEYS.items():
        if name in keys:
            raise StageArgumentError(f'CREDENTIALS "{name}" is not supported: {why}')
    if endpoint is None and "bucket" in keys and _is_host(url):
        endpoint, url = url, None  # URL = 'host' CREDENTIALS = {... "bucket"=...}
    if endpoint is None:
        if keys:
            raise StageArgumentError(
                f'CREDENTIALS "{next(iter(keys))}" goes with URL = "endpoint"=\'host\'; '
                "with URL = 's3://bucket/path' the bucket and path are in the URL"
            )
        return url
    scheme, separator, rest = endpoint.partition("://")
    host, _, path = (rest if separator else endpoint).partition("/")
    bucket, _, inside = path.strip("/").partition("/")
    for name, value in (("bucket", bucket), ("filepath", inside)):
        if value and name in keys:
            raise StageArgumentError(
                f'the {name} is given twice: in "endpoint" and as "{name}" in CREDENTIALS'
            )
    bucket = bucket or keys.get("bucket", "").strip("/")
    inside = inside or keys.get("filepath", "").strip("/")
    if not host or not bucket:
        raise StageArgumentError(
            f'URL = "endpoint"={endpoint!r} and no "bucket" in CREDENTIALS: the stage has no '
            'bucket (MatrixOne: "Invalid s3 URL: bucket is empty string")'
        )
    if any(char in inside for char in "*?["):
        raise StageArgumentError(
            f'a pattern in "filepath" ({inside!r}) is not supported: a stage is a folder; '
            "give the pattern to the statement that reads the files"
        )
    if "endpoint_url" in credentials:
        raise StageArgumentError('one endpoint: "endpoint" in URL and in CREDENTIALS')
    credentials["endpoint_url"] = f"{scheme}://{host}" if separator else host
    return f"s3://{bucket}/{inside}" if inside else f"s3://{bucket}"
