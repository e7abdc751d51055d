"""Pytest plugin: tests may reach loopback and Unix sockets only, never the network.

Load it from the project's conftest with ``pytest_plugins = ["tests.network_guard"]``.
Like python-telegram-bot's own test suite, it refuses network access outright: during every
test (its setup, call and teardown, fixtures of any scope included) a socket ``connect`` /
``connect_ex`` / ``sendto`` to a non-loopback address, and a name lookup
(``getaddrinfo``, ``gethostbyname``) of a non-local host name, raise
:class:`NetworkAccessDisallowed`. asyncio and aiohttp/httpx connect through these
functions, so they are covered too.

:class:`NetworkAccessDisallowed` derives from ``BaseException`` so that retry loops with
``except Exception`` cannot swallow it; in case something does, every attempt is also
recorded and fails the test at teardown. A test that checks the guard itself uses
``with network_guard.expect_blocked(): ...`` (the ``network_guard`` fixture).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

__all__ = ["GUARD", "NetworkAccessDisallowed", "NetworkGuard", "network_guard"]

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class NetworkAccessDisallowed(BaseException):
    """A test tried to reach the network."""


def is_local_host(host: object) -> bool:
    """True for loopback/unspecified IP literals and the names that resolve to them."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host is None or host == "":
        return True  # getaddrinfo(None, port): the local passive/loopback address
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower().rstrip(".")
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return name in _LOCAL_NAMES or name.endswith(".localhost")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # 0.0.0.0 / :: as a destination means "this host" on Linux.
    return address.is_loopback or address.is_unspecified


def _is_ip_literal(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


class NetworkGuard:
    """Patches the socket module while active; nested activations are counted."""

    def __init__(self) -> None:
        self._depth = 0
        self._saved: dict[str, tuple[Any, Any, bool]] = {}
        self._scopes: list[list[str]] = []
        self._test_ids: list[str] = []
        try:
            self._own_hostname = socket.gethostname().lower()
        except OSError:
            self._own_hostname = ""

    @property
    def active(self) -> bool:
        return self._depth > 0

    @property
    def attempts(self) -> list[str]:
        """Blocked attempts in the innermost active scope (the current test)."""
        return self._scopes[-1] if self._scopes else []

    @contextmanager
    def activated(self, test_id: str = "this test") -> Iterator[list[str]]:
        """Block network access inside the block; yields the list of blocked attempts."""
        if self._depth == 0:
            self._install()
        self._depth += 1
        scope: list[str] = []
        self._scopes.append(scope)
        self._test_ids.append(test_id)
        try:
            yield scope
        finally:
            self._scopes.pop()
            self._test_ids.pop()
            self._depth -= 1
            if self._depth == 0:
                self._uninstall()

    @contextmanager
    def expect_blocked(self) -> Iterator[pytest.ExceptionInfo[NetworkAccessDisallowed]]:
        """``pytest.raises`` for the guard's error; the expected attempt is not held against
        the test at teardown."""
        before = len(self.attempts)
        with pytest.raises(NetworkAccessDisallowed) as info:
            yield info
        del self.attempts[before:]

    def _refuse(self, what: str) -> NetworkAccessDisallowed:
        test_id = self._test_ids[-1] if self._test_ids else "this test"
        message = (
            f"Network access disallowed in this test: {test_id} tried to {what}. "
            "Tests may only reach loopback (127.0.0.0/8, ::1, localhost) and Unix sockets; "
            "talk to bot.fake_bot_api.FakeTelegramServer instead of api.telegram.org."
        )
        if self._scopes:
            self._scopes[-1].append(message)
        return NetworkAccessDisallowed(message)

    def check_address(self, family: int, address: Any) -> None:
        """Raise unless ``address`` (for a socket of ``family``) is local."""
        if family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            return  # Unix sockets, netlink …
        host = address[0] if address else None
        if not is_local_host(host):
            port = address[1] if len(address) > 1 else "?"
            raise self._refuse(f"connect to {host}:{port}")

    def check_name(self, host: Any) -> None:
        """Raise unless looking up ``host`` stays on this machine."""
        if is_local_host(host) or _is_ip_literal(host):
            return  # IP literals need no DNS; connecting to them is checked separately
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower().rstrip(".") == self._own_hostname:
            return
        raise self._refuse(f"resolve host name {name!r}")

    # -- patching --------------------------------------------------------------------------

    def _patch(self, owner: Any, name: str, make: Callable[[Any], Any]) -> None:
        defined_here = name in vars(owner)
        original = getattr(owner, name)
        self._saved[f"{id(owner)}.{name}"] = (owner, original, defined_here)
        setattr(owner, name, make(original))

    def _install(self) -> None:
        guard = self

        def connect_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
            def connect(sock: socket.socket, address: Any) -> Any:
                guard.check_address(sock.family, address)
                return original(sock, address)

            return connect

        def sendto_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
            def sendto(sock: socket.socket, data: Any, *args: Any) -> Any:
                if args:
                    guard.check_address(sock.family, args[-1])
                return original(sock, data, *args)

            return sendto

        def name_wrapper(original: Callable[..., Any]) -> Callable[..., Any]:
            def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
                guard.check_name(host)
                return original(host, *args, **kwargs)

            return lookup

        self._patch(socket.socket, "connect", connect_wrapper)
        self._patch(socket.socket, "connect_ex", connect_wrapper)
        self._patch(socket.socket, "sendto", sendto_wrapper)
        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
            self._patch(socket, name, name_wrapper)

    def _uninstall(self) -> None:
        for key, (owner, original, defined_here) in self._saved.items():
            attr = key.split(".", 1)[1]
            if defined_here:
                setattr(owner, attr, original)
            else:
                # socket.socket inherits connect & co. from _socket.socket: drop the override.
                delattr(owner, attr)
        self._saved.clear()


GUARD = NetworkGuard()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Keep the guard on for the whole test protocol: fixture setup, call and teardown."""
    with GUARD.activated(item.nodeid):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """An attempt whose error already failed the test is not reported again at teardown."""
    if call.excinfo is not None and isinstance(call.excinfo.value, NetworkAccessDisallowed):
        message = str(call.excinfo.value)
        GUARD.attempts[:] = [a for a in GUARD.attempts if a != message]
    return (yield)


@pytest.fixture(autouse=True)
def network_guard() -> Iterator[NetworkGuard]:
    """The active guard; fails the test if it blocked an attempt that the test swallowed."""
    scope = GUARD.attempts
    yield GUARD
    if scope:
        attempts = "\n".join(dict.fromkeys(scope))
        scope.clear()
        pytest.fail(
            f"the test tried to reach the network (the error was caught somewhere):\n{attempts}",
            pytrace=False,
        )
