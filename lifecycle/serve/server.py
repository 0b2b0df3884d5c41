"""Running the app: `serve_forever` for the CLI (uvicorn handles SIGTERM: it stops accepting,
lets in-flight requests finish within graceful_shutdown_s, then the app's lifespan drains the
batcher), and `ServerThread` for tests and `serve bench` (uvicorn in a thread on a loopback port)."""

from __future__ import annotations

import socket
import threading
import time

from lifecycle.errors import LifecycleError


class ServeError(LifecycleError):
    """The server could not start (port taken, bad host)."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _uvicorn_config(app, cfg, port: int, log_level: str):
    import uvicorn

    return uvicorn.Config(app, host=cfg.host, port=port, log_level=log_level, access_log=False,
                          timeout_graceful_shutdown=cfg.graceful_shutdown_s or None, lifespan="on")


def serve_forever(app, cfg, *, log_level: str = "info") -> None:
    import uvicorn

    port = cfg.port or free_port(cfg.host)
    try:
        with socket.socket(socket.AF_INET6 if ":" in cfg.host else socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((cfg.host, port))
    except OSError as err:
        raise ServeError(f"cannot listen on {cfg.host}:{port}: {err.strerror or err}",
                         hint="pick another port with --port (0 = any free port)") from err
    uvicorn.Server(_uvicorn_config(app, cfg, port, log_level)).run()


class ServerThread:
    """`with ServerThread(app, cfg) as url:` the app served on a free loopback port until the block ends."""

    def __init__(self, app, cfg, *, log_level: str = "warning") -> None:
        import uvicorn

        self.port = cfg.port or free_port(cfg.host)
        self.server = uvicorn.Server(_uvicorn_config(app, cfg, self.port, log_level))
        self.thread = threading.Thread(target=self.server.run, name="lifecycle-serve-http", daemon=True)
        self.url = f"http://{cfg.host}:{self.port}"

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ServeError(f"the server did not start on {self.url}")
            time.sleep(0.02)
        return self.url

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(60)
