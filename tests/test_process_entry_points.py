"""Code that runs in other processes (a forked child's loop, a Dask worker's preload,
``python -m uqms``), exercised in this process, where line coverage sees it."""

import runpy
import signal
import sys
import threading
from multiprocessing import Pipe

import pytest

from uqms.execution import forked, worker_setup


def _divide(numerator, denominator):
    return numerator / denominator


def test_the_child_loop_answers_each_call_and_returns_when_the_parent_is_gone():
    """``forked._serve`` (the loop of a forked child) run in a thread on one end of a pipe:
    each call is answered with ``(True, value)``, an exception with ``(False, error)`` and
    the loop goes on; it ends when the other end closes."""
    parent, child = Pipe()
    loop = threading.Thread(target=forked._serve, args=(child, (12.0,)), daemon=True)
    loop.start()
    parent.send((_divide, (4.0,)))
    assert parent.recv() == (True, 3.0)  # the bound 12.0 first, then the call's arguments
    parent.send((_divide, (0.0,)))
    ok, error = parent.recv()
    assert not ok and isinstance(error, ZeroDivisionError)
    parent.send((_divide, (2.0,)))
    assert parent.recv() == (True, 6.0)
    parent.close()
    loop.join(timeout=30)
    assert not loop.is_alive()


@pytest.mark.skipif(not forked.available(), reason="this platform cannot fork")
def test_an_exception_raised_in_the_forked_child_is_raised_in_the_caller_and_the_child_goes_on():
    with forked.ForkedProcess(12.0) as child:
        assert child.call(_divide, 4.0, limit=60) == 3.0
        pid = child.child.pid
        with pytest.raises(ZeroDivisionError):
            child.call(_divide, 0.0, limit=60)
        assert child.call(_divide, 2.0, limit=60) == 6.0
        assert child.child.pid == pid  # no new fork after an exception: only a crash or a timeout costs the child
    assert child.child is None


def test_a_worker_of_the_local_cluster_leaves_ctrl_c_to_the_driver():
    """The hook Dask calls in each worker preloading ``uqms.execution.worker_setup`` (as the
    local cluster's workers do) makes the worker ignore SIGINT."""
    before = signal.getsignal(signal.SIGINT)
    try:
        worker_setup.dask_setup(worker=None)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_python_dash_m_uqms_runs_the_command_line_named_uqms(monkeypatch, capsys):
    """``python -m uqms --help`` (run in-process by runpy as ``__main__``): the help of the
    ``uqms`` command, with its commands."""
    monkeypatch.setattr(sys, "argv", ["python -m uqms", "--help"])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as stopped:
        runpy.run_module("uqms", run_name="__main__", alter_sys=True)
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert "Usage: uqms [OPTIONS] COMMAND" in out
    for command in ("run", "analyze", "report", "verify", "show"):
        assert f" {command} " in out
