"""A real gunicorn process on a SQLite file of its own with the demo data, which tests can kill
(kill -9) and start again on the same port and database."""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path):
        self.port = free_port()
        self.db = tmp / "killed.sqlite"
        self.env = dict(os.environ, DATABASE_URL=f"sqlite:///{self.db}", FLASK_APP="wsgi.py", APP_ENV="development",
                        SECRET_KEY="kill-test-secret-0123456789abcdef", UPLOAD_DIR=str(tmp / "uploads"))
        self.env.pop("PRIVATE_UPLOAD_DIR", None)
        self.proc = None
        bin_dir = Path(sys.executable).parent
        self.flask, self.gunicorn = str(bin_dir / "flask"), str(bin_dir / "gunicorn")

    def setup(self) -> None:
        for cmd in (["db", "upgrade"], ["demo-data"]):
            subprocess.run([self.flask, *cmd], cwd=ROOT, env=self.env, check=True, capture_output=True)

    def start(self) -> None:
        self.proc = subprocess.Popen([self.gunicorn, "-w", "1", "--threads", "2", "-b", f"127.0.0.1:{self.port}",
                                      "--log-level", "error", "wsgi:app"], cwd=ROOT, env=self.env)
        for _ in range(200):
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("gunicorn did not start")

    def kill(self) -> None:
        # The whole process group would be cleaner, but gunicorn's arbiter and its worker are
        # what a crash takes down: SIGKILL both, no chance to finish a request.
        children = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)
        self.proc.kill()
        self.proc.wait()
