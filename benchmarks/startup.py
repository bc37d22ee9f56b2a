"""Start-up of the ``uqms`` command, each command timed as a whole process.

Prints the best wall time of a few runs of ``uqms --help``, ``uqms --version`` and
``uqms validate workflows/ishigami.toml`` (as ``python -m uqms ...``, and through the
installed ``uqms`` script when it sits beside this Python), with ``python -c pass`` as the
floor no Python command can go below, and each time's ratio to that floor. The goal:
``--help`` and ``validate`` under 1 s. To find what a command imports and what that
costs: ``python -X importtime -m uqms validate workflows/ishigami.toml 2> imports.txt``.

Run: python benchmarks/startup.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from timing import best_time  # benchmarks/timing.py, beside this script

REPO = Path(__file__).resolve().parents[1]
REPEATS = 5


def command_time(arguments: list[str]) -> float:
    """Best wall time (s) of running ``arguments`` as a process, checking that it succeeds."""
    def run() -> None:
        subprocess.run(arguments, cwd=REPO, check=True, capture_output=True)

    run()  # warm the file cache
    return best_time(run, REPEATS)


def main() -> None:
    python = [sys.executable]
    script = Path(sys.executable).with_name("uqms")
    floor = command_time([*python, "-c", "pass"])
    print(f"{'command':52s} {'best s':>7s} {'x floor':>8s}")
    print(f"{'python -c pass (floor)':52s} {floor:7.3f} {1:8.1f}")
    launchers = {"python -m uqms": [*python, "-m", "uqms"]}
    if script.exists():
        launchers["uqms"] = [str(script)]
    for label, launcher in launchers.items():
        for arguments in (["--help"], ["--version"], ["validate", "workflows/ishigami.toml"]):
            seconds = command_time([*launcher, *arguments])
            print(f"{label + ' ' + ' '.join(arguments):52s} {seconds:7.3f} {seconds / floor:8.1f}")


if __name__ == "__main__":
    main()
