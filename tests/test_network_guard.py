"""No test can reach the internet: the guard and the environment of ``tests/conftest.py``.

Public addresses and names are refused before the operating system sees them (the guard's
``real_*`` functions are replaced with spies that record every call); loopback works.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest
import s3fs
from conftest import (
    TEST_ENVIRONMENT,
    TEST_ENVIRONMENT_REMOVED,
    NetworkAccessRefused,
    NetworkGuard,
    _is_loopback,
    install_network_guard,
)

#: Public addresses (example.com's, Cloudflare's and Google's resolvers).
PUBLIC_TCP = ("93.184.215.14", 80)
PUBLIC_TLS = ("1.1.1.1", 443)
PUBLIC_DNS = ("8.8.8.8", 53)


class Spy:
    """Records each call, then forwards it to the function it stands for."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> Any:
        self.calls.append(args)
        return self.real(*args)


@pytest.fixture
def spies(network_guard: NetworkGuard, monkeypatch: pytest.MonkeyPatch) -> dict[str, Spy]:
    """A spy in place of each function the guard forwards allowed calls to."""
    found: dict[str, Spy] = {}
    for name in (
        "real_connect",
        "real_connect_ex",
        "real_sendto",
        "real_getaddrinfo",
        "real_gethostbyname",
        "real_gethostbyname_ex",
    ):
        found[name] = Spy(getattr(network_guard, name))
        monkeypatch.setattr(network_guard, name, found[name])
    return found


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP socket listening on 127.0.0.1 (an ephemeral port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        server.settimeout(10)
        yield server


def echo_once(server: socket.socket, client: socket.socket) -> bytes:
    """Accept ``client``'s connection on ``server``, send bytes through it, return them."""
    accepted, _ = server.accept()
    with accepted:
        client.sendall(b"ping")
        return accepted.recv(4)


def test_the_guard_is_installed_once(network_guard: NetworkGuard) -> None:
    assert getattr(socket, "_sqla_stage_test_guard", None) is network_guard
    assert socket.socket.connect is not network_guard.real_connect
    assert socket.getaddrinfo is not network_guard.real_getaddrinfo
    assert install_network_guard() is network_guard  # installed already: no second layer


def test_tcp_connect_to_a_public_address_never_reaches_the_os(
    spies: dict[str, Spy], network_guard: NetworkGuard, listener: socket.socket
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client:
        client.settimeout(5)
        with pytest.raises(NetworkAccessRefused, match=r"93\.184\.215\.14:80 refused"):
            client.connect(PUBLIC_TCP)
        assert spies["real_connect"].calls == []
        assert network_guard.refused[-1] == "93.184.215.14:80"
        with pytest.raises(NetworkAccessRefused, match=r"1\.1\.1\.1:443 refused"):
            client.connect_ex(PUBLIC_TLS)
        assert spies["real_connect_ex"].calls == []
        # The spies are on the path an allowed call takes: loopback reaches them.
        address = listener.getsockname()
        client.connect(address)
        assert spies["real_connect"].calls == [(client, address)]
        assert echo_once(listener, client) == b"ping"


def test_name_lookups_of_public_hosts_are_refused(spies: dict[str, Spy]) -> None:
    with pytest.raises(NetworkAccessRefused, match=r"'example\.com' refused"):
        socket.getaddrinfo("example.com", 80)
    with pytest.raises(NetworkAccessRefused, match=r"'example\.com' refused"):
        socket.getaddrinfo(b"example.com", 443, socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(NetworkAccessRefused, match=r"'example\.com' refused"):
        socket.gethostbyname("example.com")
    with pytest.raises(NetworkAccessRefused, match=r"'example\.com' refused"):
        socket.gethostbyname_ex("example.com")
    assert spies["real_getaddrinfo"].calls == []
    assert spies["real_gethostbyname"].calls == []
    assert spies["real_gethostbyname_ex"].calls == []


def test_create_connection_to_a_public_host_is_refused(spies: dict[str, Spy]) -> None:
    with pytest.raises(NetworkAccessRefused, match=r"'example\.com' refused"):
        socket.create_connection(("example.com", 80), timeout=5)
    # Even a literal is refused at the lookup, before a socket is made.
    with pytest.raises(NetworkAccessRefused, match=r"'1\.1\.1\.1' refused"):
        socket.create_connection(PUBLIC_TLS, timeout=5)
    assert spies["real_getaddrinfo"].calls == []
    assert spies["real_connect"].calls == []


def test_a_host_name_given_to_connect_is_refused(spies: dict[str, Spy]) -> None:
    # connect() would resolve the name itself, below the guarded getaddrinfo.
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as client,
        pytest.raises(NetworkAccessRefused, match=r"example\.com:80 refused"),
    ):
        client.connect(("example.com", 80))
    assert spies["real_connect"].calls == []


def test_udp_datagrams_to_a_public_address_are_refused(spies: dict[str, Spy]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(NetworkAccessRefused, match=r"8\.8\.8\.8:53 refused"):
            udp.sendto(b"\x00", PUBLIC_DNS)
        with pytest.raises(NetworkAccessRefused, match=r"8\.8\.8\.8:53 refused"):
            udp.sendto(b"\x00", 0, PUBLIC_DNS)  # sendto(data, flags, address)
        with pytest.raises(NetworkAccessRefused, match=r"8\.8\.8\.8:53 refused"):
            udp.connect(PUBLIC_DNS)
    assert spies["real_sendto"].calls == []
    assert spies["real_connect"].calls == []


def test_udp_on_loopback_works(spies: dict[str, Spy]) -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
    ):
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        assert sender.sendto(b"datagram", receiver.getsockname()) == 8
        assert receiver.recvfrom(64)[0] == b"datagram"
    assert len(spies["real_sendto"].calls) == 1


def test_loopback_tcp_works(listener: socket.socket) -> None:
    with socket.create_connection(listener.getsockname(), timeout=5) as client:
        assert echo_once(listener, client) == b"ping"


def test_localhost_resolves_and_connects(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    found = socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)
    assert found and all(_is_loopback(entry[4][0]) for entry in found), found
    assert _is_loopback(socket.gethostbyname("localhost"))
    # create_connection tries each address: ::1 (nothing listens there) may come first.
    with socket.create_connection(("localhost", port), timeout=5) as client:
        assert echo_once(listener, client) == b"ping"


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "::ffff:127.0.0.1",
        "localhost",
        "LocalHost",
        b"127.0.0.1",
        bytearray(b"::1"),
    ],
)
def test_loopback_hosts_are_allowed(host: Any) -> None:
    assert _is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        "93.184.215.14",
        "1.1.1.1",
        "8.8.8.8",
        "0.0.0.0",
        "10.0.0.1",
        "169.254.169.254",  # the cloud metadata service
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "::",
        "fe80::1%eth0",
        "example.com",
        "localhost.example.com",
        "metadata.google.internal",
        b"example.com",
        None,
        80,
    ],
)
def test_other_hosts_are_refused(host: Any) -> None:
    assert not _is_loopback(host)


def test_the_environment_turns_cloud_metadata_probes_off() -> None:
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
    assert os.environ["NO_GCE_CHECK"] == "true"
    assert os.environ["GCE_METADATA_HOST"] == "127.0.0.1:9"
    assert os.environ["GCE_METADATA_IP"] == "127.0.0.1:9"
    for name, value in TEST_ENVIRONMENT.items():
        assert os.environ[name] == value, name
    assert not os.path.exists(os.environ["AWS_CONFIG_FILE"])
    assert not os.path.exists(os.environ["AWS_SHARED_CREDENTIALS_FILE"])
    assert {"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL"} <= set(TEST_ENVIRONMENT_REMOVED)
    assert not set(TEST_ENVIRONMENT_REMOVED) & set(os.environ)


def test_a_child_process_inherits_the_environment() -> None:
    names = [*TEST_ENVIRONMENT, *TEST_ENVIRONMENT_REMOVED]
    code = (
        "import json, os, sys; "
        "json.dump({name: os.environ.get(name) for name in sys.argv[1:]}, sys.stdout)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *names],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(done.stdout)
    assert seen["AWS_EC2_METADATA_DISABLED"] == "true"
    assert seen == {**dict.fromkeys(TEST_ENVIRONMENT_REMOVED), **TEST_ENVIRONMENT}


def test_s3fs_without_an_endpoint_is_refused(network_guard: NetworkGuard) -> None:
    bucket = f"sqla-stage-guard-{uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(anon=True, skip_instance_cache=True)
    before = len(network_guard.refused)
    # s3fs gets the refusal through aiohttp and botocore, which wrap it (HTTPClientError).
    with pytest.raises(Exception, match="refused by the test guard") as raised:
        fs.ls(bucket)
    chain: list[BaseException] = []
    error: BaseException | None = raised.value
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    refusals = [e for e in chain if isinstance(e, NetworkAccessRefused)]
    assert refusals, [repr(e) for e in chain]
    assert f"{bucket}." in str(refusals[0]) and ".amazonaws.com" in str(refusals[0])
    refused = network_guard.refused[before:]
    assert refused and all(bucket in target for target in refused), refused
