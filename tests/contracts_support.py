"""Serving an app object (e.g. a broken variant of the mock) on loopback from the test process."""

from __future__ import annotations

import threading
import time

import uvicorn

from tests.mock_support import free_port

READY_DEADLINE = 30.0


class ThreadedServer:
    """uvicorn in a thread: the app may carry faults patched into this process."""

    def __init__(self, app):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ThreadedServer":
        self.thread.start()
        deadline = time.monotonic() + READY_DEADLINE
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the threaded server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(READY_DEADLINE)
