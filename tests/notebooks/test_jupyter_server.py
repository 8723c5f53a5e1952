"""A real Jupyter server: the ``gridmind`` kernel is found over the REST API and runs a cell."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str) -> object:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def _post(url: str, token: str, body: dict) -> object:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


@pytest.fixture
def jupyter_server(tmp_path: Path):
    port, token = _free_port(), uuid.uuid4().hex
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={tmp_path}",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",  # CI containers run as root
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(f"{base}/api/status", token)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"the Jupyter server did not start:\n{out[-3000:]}")
            time.sleep(0.3)
    yield base, token
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.notebook
def test_server_lists_the_gridmind_kernel_and_runs_a_cell(jupyter_server):
    import websocket

    base, token = jupyter_server
    specs = _get(f"{base}/api/kernelspecs", token)
    assert "gridmind" in specs["kernelspecs"]
    argv = specs["kernelspecs"]["gridmind"]["spec"]["argv"]
    assert Path(argv[0]).resolve() == Path(sys.executable).resolve()

    kernel = _post(f"{base}/api/kernels", token, {"name": "gridmind"})
    ws = websocket.create_connection(
        f"ws://{base.removeprefix('http://')}/api/kernels/{kernel['id']}/channels?token={token}",
        timeout=60,
    )
    msg_id = uuid.uuid4().hex
    code = "import workbench, sys; print(workbench.__version__, sys.prefix)"
    ws.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "username": "test",
                    "session": uuid.uuid4().hex,
                    "msg_type": "execute_request",
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "store_history": False},
                "channel": "shell",
            }
        )
    )
    # the reply (shell channel) may overtake the output (iopub): read until both the reply and
    # the kernel's "idle" status for this request have arrived
    stdout, status, idle = "", None, False
    deadline = time.monotonic() + 60
    while not (status and idle) and time.monotonic() < deadline:
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            stdout += msg["content"]["text"]
        elif msg["msg_type"] == "execute_reply":
            status = msg["content"]["status"]
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
    ws.close()
    from workbench import __version__

    assert status == "ok"
    assert stdout.split() == [__version__, sys.prefix]
