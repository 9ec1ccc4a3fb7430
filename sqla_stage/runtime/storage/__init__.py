"""Where stage files live: fsspec filesystems, safe keys, credentials, encryption, compression."""
