"""Importing uqms leaves Python's logging as it found it: warnings reach the terminal."""

import subprocess
import sys


def test_uqms_warnings_reach_stderr_after_import():
    code = (
        "import logging, uqms\n"
        "logging.getLogger('uqms').warning('batch 0:10 failed')\n"
        "print(logging.getLogger().level, len(logging.getLogger().handlers))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "batch 0:10 failed" in out.stderr  # not sent to /dev/null by chaospy's basicConfig
    assert out.stdout.split() == ["30", "0"]  # root back at WARNING, with no handler of chaospy's


def test_a_configured_root_logger_is_left_alone():
    code = (
        "import logging\n"
        "logging.basicConfig(level=logging.INFO, stream=__import__('sys').stdout, format='%(message)s')\n"
        "import uqms\n"
        "logging.getLogger('uqms').info('kept')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "kept"
