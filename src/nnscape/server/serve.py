"""Running the server: uvicorn on a pre-bound socket, in the foreground or on a thread, and ``nnscape.view``.

The socket is bound (and listening) before uvicorn starts, so the address is known at once, a free port is
found without a race, and a browser opened right away simply waits in the listen queue. Listening beyond this
machine requires an access token (printed in the address); ``https`` serves with a self-signed certificate,
which a headset's browser needs for WebXR.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from fastapi import FastAPI

from nnscape.errors import NnscapeError
from nnscape.limits import MAX_PORT
from nnscape.network import Network
from nnscape.server.access import TOKEN_PARAMETER, new_token
from nnscape.server.app import LOOPBACK_HOSTS, create_app
from nnscape.server.folder import NetworkFolder
from nnscape.server.tls import Certificate, certificate, lan_addresses

__all__ = ["Viewer", "serve_in_thread", "view"]

DEFAULT_HOST = "127.0.0.1"
# Listening addresses that only this machine can reach; any other one serves the folder to the network.
_LOOPBACK_ADDRESSES = (DEFAULT_HOST, "localhost", "::1")
# Open event streams get this long to finish when the server stops before they are cut.
GRACEFUL_SHUTDOWN_S = 2
STARTUP_TIMEOUT_S = 30.0
_STARTUP_POLL_S = 0.01
# Addresses that listen on every interface; the browser is sent to the loopback address instead.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}

NetworkOrPath = Network | str | os.PathLike[str]


def bind(host: str, port: int | None) -> socket.socket:
    """A listening TCP socket on ``host``; ``port`` None or 0 picks a free one."""
    if port is not None and not 0 <= port <= MAX_PORT:
        raise NnscapeError(f"port {port}: expected 0-{MAX_PORT} (0 picks a free port)")
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, protocol)
    except OSError as exc:
        raise NnscapeError(f"--host {host}: cannot use this address ({exc})") from exc
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen()
    except OSError as exc:
        sock.close()
        hint = "choose another --port or leave it out for a free one" if port else "check --host"
        raise NnscapeError(f"cannot listen on {host}:{port or 0} ({exc.strerror}); {hint}") from exc
    return sock


def url_of(sock: socket.socket, *, https: bool = False) -> str:
    """The address a browser on this machine uses to reach the server listening on ``sock``."""
    host, port = sock.getsockname()[:2]
    return _url(_ANY_ADDRESS.get(host, host), port, https=https)


def _url(host: str, port: int, *, https: bool) -> str:
    return f"{'https' if https else 'http'}://{f'[{host}]' if ':' in host else host}:{port}/"


def _server(app: FastAPI, tls: Certificate | None) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        ssl_certfile=tls.certfile if tls is not None else None,
        ssl_keyfile=tls.keyfile if tls is not None else None,
    )
    return uvicorn.Server(config)


def serve_in_thread(
    app: FastAPI, host: str = DEFAULT_HOST, port: int | None = None, *, tls: Certificate | None = None
) -> tuple[str, Callable[[], None]]:
    """Start ``app`` on a daemon thread; return its URL (``http://host:port/``, ``https`` with ``tls``) and a
    function that stops it.

    ``port`` None or 0 picks a free port. Returns once the server accepts requests.
    """
    sock = bind(host, port)
    server = _server(app, tls)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="nnscape-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise NnscapeError(f"the server on {url_of(sock, https=tls is not None)} did not start")
        time.sleep(_STARTUP_POLL_S)

    def stop() -> None:
        server.should_exit = True
        thread.join()

    return url_of(sock, https=tls is not None), stop


@dataclass(frozen=True)
class Viewer:
    """A viewer server running in the background (from :func:`view` in a notebook or interactive session).

    ``url`` carries the access token when the server listens beyond this machine.
    """

    url: str
    folder: Path
    stop: Callable[[], None]

    def _repr_html_(self) -> str:
        return f'<a href="{self.url}" target="_blank">nnscape viewer at {self.url}</a>'


def view(
    network_or_paths: NetworkOrPath | Sequence[NetworkOrPath] | None = None,
    *,
    folder: str | os.PathLike[str] | None = None,
    port: int | None = None,
    host: str = DEFAULT_HOST,
    open_browser: bool = True,
    block: bool | None = None,
    https: bool = False,
) -> Viewer | None:
    """Serve a folder of networks and open the viewer on it.

    ``network_or_paths``: nothing (serve ``folder``, default the current folder), a folder, ``.nnscape`` files
    (their common folder is served, the first opens first), or ``Network`` objects (saved into ``folder``, the
    files' folder or a new temporary folder first). ``block`` (default: unless in an interactive session or
    notebook) serves until Ctrl+C and returns None; otherwise the server runs on a thread and a
    :class:`Viewer` with its ``url`` and ``stop`` is returned.

    A ``host`` other than this machine's loopback serves the network around it: every request must then carry
    a random token, which the printed address holds. ``https`` serves with a self-signed certificate kept in
    the user's cache folder (browsers offer WebXR to a headset only on https pages).
    """
    served, initial = _prepare_folder(network_or_paths, folder)
    remote = host not in _LOOPBACK_ADDRESSES
    token = new_token() if remote else None
    allowed = ("*",) if remote else LOOPBACK_HOSTS
    app = create_app(served, initial=initial, allowed_hosts=allowed, token=token)
    # Listening on every address: other devices reach this machine by its name or network address.
    elsewhere = lan_addresses() if host in _ANY_ADDRESS else []
    tls = certificate(elsewhere + ([host] if remote and not elsewhere else [])) if https else None
    if block is None:
        block = not _interactive()
    if not block:
        url, stop = serve_in_thread(app, host, port, tls=tls)
        _announce(url, token, elsewhere, served, open_browser, blocking=False)
        return Viewer(_with_token(url, token), served, stop)
    sock = bind(host, port)
    _announce(url_of(sock, https=https), token, elsewhere, served, open_browser, blocking=True)
    try:
        _server(app, tls).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shut down cleanly, then passed Ctrl+C on: stopping is the normal end
        pass
    finally:
        sock.close()
    return None


def _with_token(url: str, token: str | None) -> str:
    return url if token is None else f"{url}?{TOKEN_PARAMETER}={token}"


def _announce(
    url: str, token: str | None, elsewhere: list[str], served: Path, open_browser: bool, *, blocking: bool
) -> None:
    """Print where the viewer is (with its token), from this machine and from others; open the browser."""
    local = _with_token(url, token)
    print(f"nnscape viewer at {local} serving {served}" + (" (Ctrl+C to stop)" if blocking else ""), flush=True)
    parts = urlsplit(url)
    for name in elsewhere:
        there = _url(name, parts.port or 0, https=parts.scheme == "https")
        print(f"  from another device: {_with_token(there, token)}", flush=True)
    if token is not None:
        print(f"note: anyone with this address (its token) can read and write networks in {served}", flush=True)
    if open_browser and not webbrowser.open(local):
        print("could not open a browser; open the address above yourself")


def _prepare_folder(
    items: NetworkOrPath | Sequence[NetworkOrPath] | None, folder: str | os.PathLike[str] | None
) -> tuple[Path, str | None]:
    """The folder to serve and the name to open first, saving ``Network`` objects into it."""
    if items is None:
        return Path(folder if folder is not None else os.getcwd()).resolve(), None
    listed: Sequence[Any] = [items] if isinstance(items, Network | str | os.PathLike) else items
    networks = [item for item in listed if isinstance(item, Network)]
    paths = [Path(item).resolve() for item in listed if not isinstance(item, Network)]
    for path in paths:
        if not path.exists():
            raise NnscapeError(f"{path}: no such file or folder")
    folders = [path for path in paths if path.is_dir()]
    if folders and (len(paths) > 1 or networks):
        raise NnscapeError(f"{folders[0]}: give either one folder or .nnscape files, not both")
    if folders:
        served = folders[0]
    else:
        parents = {path.parent for path in paths} | ({Path(folder).resolve()} if folder is not None else set())
        if len(parents) > 1:
            raise NnscapeError(f"files from several folders ({', '.join(map(str, sorted(parents)))}); the viewer "
                               "serves one folder: move them together")  # fmt: skip
        served = parents.pop() if parents else Path(tempfile.mkdtemp(prefix="nnscape-view-"))
    if folder is not None and Path(folder).resolve() != served:
        raise NnscapeError(f"{served}: is not the folder= given ({folder})")
    saved = [_save_into(served, network) for network in networks]
    names = [path.name for path in paths if path.is_file()]
    first = listed[0]
    initial = saved[0] if isinstance(first, Network) else (names[0] if names else None)
    return served, initial


def _save_into(folder: Path, network: Network) -> str:
    name = "network.processed.nnscape" if network.kind == "processed" else "network.nnscape"
    return NetworkFolder(folder).save_new(network, name)


def _interactive() -> bool:
    """A notebook, IPython or ``python -i``: the server should not block the prompt."""
    ipython = sys.modules.get("IPython")
    in_ipython = ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None
    return in_ipython or hasattr(sys, "ps1") or bool(sys.flags.interactive)
