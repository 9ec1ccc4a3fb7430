"""Every filesystem a stage opens, opened here: its limits applied, no settings shared.

fsspec keeps one instance per filesystem class and keyword arguments, and the cloud
libraries read part of their connection settings from the environment when an instance
first connects (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``STORAGE_EMULATOR_HOST``,
``GOOGLE_APPLICATION_CREDENTIALS``, ``AZURE_STORAGE_CONNECTION_STRING``, ...). A stage
root given as ``s3://bucket/root`` with no credentials therefore kept reaching the
endpoint, with the key, of the environment at its first use, even after the environment
changed or for another engine meant for another server. `open_filesystem` keeps its own
instances instead, keyed by the class, the keyword arguments (credentials included, as a
hash), the URL's own settings and a hash of the environment variables those libraries
read (`ENVIRONMENT_PREFIXES`): stages with other credentials, or opened under another
environment, get their own instance; equal ones share one (and its connections). The
environment hash is also part of a storage's identity, so DuckDB's reads go through the
matching instance (`mounts`).

A chained URL (``simplecache::s3://...``) gets a new outer instance each time; fsspec
caches its inner one as usual.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Any

import fsspec
from fsspec import AbstractFileSystem
from fsspec.utils import tokenize

from sqla_stage.runtime.storage.limits import StorageLimits, limiter_of

#: Environment variables (by prefix, any case) that the cloud libraries read.
ENVIRONMENT_PREFIXES = (
    "AWS_",
    "BOTO_",
    "GOOGLE_",
    "GCE_",
    "GCLOUD",
    "CLOUDSDK_",
    "STORAGE_EMULATOR_HOST",
    "NO_GCE_CHECK",
    "AZURE_",
    "AZURITE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)
#: Instances kept; the least recently used beyond this many is dropped.
MAX_INSTANCES = 64

_INSTANCES: OrderedDict[str, AbstractFileSystem] = OrderedDict()
_LOCK = threading.Lock()


def environment_token() -> str:
    """A hash of the environment variables the cloud libraries read (no value shown)."""
    pairs = sorted(
        (name, value)
        for name, value in os.environ.items()
        if name.upper().startswith(ENVIRONMENT_PREFIXES)
    )
    return hashlib.sha256(repr(pairs).encode()).hexdigest()[:16]


def open_filesystem(
    url: str, options: dict[str, Any], limits: StorageLimits
) -> tuple[AbstractFileSystem, str, str]:
    """The filesystem of ``url``, its path there, and the environment hash it was opened with.

    Args:
        url: The location (any fsspec URL or a local path).
        options: The filesystem's keyword arguments (`storage_options`).
        limits: The engine's `StorageLimits`, applied by the protocol's registered limiter.

    Raises:
        ImportError: the protocol's fsspec package is not installed.
        ValueError: no fsspec filesystem knows the protocol.
    """
    protocol = fsspec.core.split_protocol(url)[0] or "file"
    limiter = limiter_of(protocol)
    if limiter is not None:
        options = limiter.options(options, limits)
    environment = environment_token()
    if "::" in url:
        fs, root = fsspec.core.url_to_fs(url, skip_instance_cache=True, **options)
    else:
        kind = fsspec.get_filesystem_class(protocol)
        key = tokenize(kind, os.getpid(), kind._get_kwargs_from_urls(url), options, environment)
        with _LOCK:
            cached = _INSTANCES.get(key)
            if cached is not None:
                _INSTANCES.move_to_end(key)
        if cached is None:
            fs, root = fsspec.core.url_to_fs(url, skip_instance_cache=True, **options)
            if limiter is not None:
                limiter.opened(fs, limits)
            with _LOCK:
                _INSTANCES[key] = fs
                while len(_INSTANCES) > MAX_INSTANCES:
                    _INSTANCES.popitem(last=False)
        else:
            fs, root = cached, kind._strip_protocol(url)
    if "::" in url and limiter is not None:
        limiter.opened(fs, limits)
    return fs, root, environment
