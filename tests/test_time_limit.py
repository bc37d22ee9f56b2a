"""The in-process time limit: interrupts Python code, gets through ``except Exception``, puts the previous handler back."""

import signal
import threading
import time

import pytest

from uqms.execution.time_limit import TaskTimeout, can_limit_time, time_limit


def _swallowing_sleep():
    try:
        time.sleep(3600)
    except Exception:  # noqa: BLE001 - what a stage isolating its own failures does
        return "swallowed"


def test_a_sleep_is_interrupted_through_except_exception_and_the_handler_restored():
    before = signal.getsignal(signal.SIGALRM)
    clock = time.monotonic()
    with pytest.raises(TaskTimeout, match="still running after 0.2 s"), time_limit(0.2):
        _swallowing_sleep()
    assert time.monotonic() - clock < 3600
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    with time_limit(5.0):  # finished in time: nothing raised, the timer cancelled
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_no_limit_off_the_main_thread():
    seen = []
    worker = threading.Thread(target=lambda: seen.append(can_limit_time()))
    worker.start()
    worker.join()
    assert seen == [False] and can_limit_time()


def _swallowing_once():
    """A timeout lost once, as where Python drops an exception raised in a finaliser."""
    try:
        time.sleep(3600)
    except BaseException:  # noqa: BLE001, S110 - the lost raise
        pass


def test_a_timeout_lost_once_comes_again_while_the_block_runs():
    clock = time.monotonic()
    with pytest.raises(TaskTimeout), time_limit(0.1):
        _swallowing_once()
        time.sleep(3600)
    assert time.monotonic() - clock < 60
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_block_that_ends_after_a_lost_timeout_raises_it_on_the_way_out():
    with pytest.raises(TaskTimeout, match="still running after 0.1 s"), time_limit(0.1):
        _swallowing_once()
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
