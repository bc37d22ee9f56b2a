"""Per-sample cost of a reactor code run as an external program against the same code in-process.

The chain of workflows/ammonia_cantera_program.toml on the same samples, three ways:

1. program: its ``external.command`` stage, a new Python process per sample running
   workflows/programs/cantera_cstr.py on the files rendered from its templates (no cache,
   one sample at a time);
2. in-process: the program's own ``simulate`` function imported and called in this process on
   the same rendered files (Cantera already imported): the same work without the process;
3. uqms: the batched ``reactor.cstr`` stage at the same conditions (vectorised over samples).

Also timed: a bare ``python -c pass`` and ``python -c "import cantera"``, the parts of the
program route's overhead. Prints ms per sample, best and median of the repeats, and ratios.

Run: python benchmarks/cantera_program.py [n] [repeats]
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from timing import timed  # benchmarks/timing.py, beside this script

from uqms.models.external.command import template_environment
from uqms.models.reactor.stages import CSTRStage
from uqms.workflow import Workflow

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"


def main(n: int = 16, repeats: int = 3) -> None:
    flow = Workflow.from_file(WORKFLOWS / "ammonia_cantera_program.toml")
    energies, rates, program = flow.chain.stages
    program.cache_path, program.concurrency = None, 1
    batch = {"E_N": np.linspace(-1.2, 0.2, n), "n2_ts_intercept": np.full(n, 1.56)}
    batch |= {name: np.full(n, constant.value) for name, constant in flow.constants.items()}
    batch |= energies(batch)
    batch |= rates(batch)

    spec = importlib.util.spec_from_file_location("cantera_cstr", WORKFLOWS / "programs" / "cantera_cstr.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    folder = Path(tempfile.mkdtemp(prefix="uqms-benchmark-"))
    samples = [{name: np.asarray(batch[name][i]).tolist() for name in program.inputs} for i in range(n)]
    rendered = []
    for i, sample in enumerate(samples):  # the program's input files, rendered once
        (folder / str(i)).mkdir()
        for name, text in program.templates.items():
            (folder / str(i) / name).write_text(template_environment().from_string(text).render(sample))
        rendered.append(folder / str(i))

    def in_process():
        return [script.simulate(str(f / "mechanism.yaml"), json.loads((f / "reactor.json").read_text())) for f in rendered]

    cstr = CSTRStage(str(WORKFLOWS / "ammonia_mechanism.toml"), inlet={"N2": "F_N2", "H2": "F_H2"},
                     temperature="T", pressure="p", sites="sites")
    routes = {
        "program (process per sample)": lambda: program(batch),
        "in-process Cantera (same script)": in_process,
        "uqms reactor.cstr (batched)": lambda: cstr(batch),
        "bare process: python -c pass": lambda: [subprocess.run([sys.executable, "-c", "pass"], check=True)
                                                 for _ in range(n)],
        "process importing cantera": lambda: [subprocess.run([sys.executable, "-c", "import cantera"], check=True)
                                              for _ in range(n)],
    }
    out = program(batch)
    inside = in_process()
    reference = cstr(batch)
    x = np.array([r["mole_fraction"] for r in inside])
    print(f"ammonia CSTR, {n} samples, best and median of {repeats} repeats, ms per sample:")
    print(f"  statuses of the program route: {np.bincount(out['status'])}; largest relative difference of x_NH3: "
          f"program vs in-process {np.max(np.abs(out['x_NH3'] / x - 1)):.1e}, "
          f"program vs uqms {np.max(np.abs(out['x_NH3'] / reference['mole_fraction'][:, 2] - 1)):.1e}")
    measured = {name: timed(route, repeats)[1] for name, route in routes.items()}
    measured = {name: (min(t), statistics.median(t)) for name, t in measured.items()}
    base = measured["in-process Cantera (same script)"]
    for name, (best, median) in measured.items():
        print(f"  {name:34s} best {1e3 * best / n:8.2f}  median {1e3 * median / n:8.2f}  "
              f"x in-process: best {best / base[0]:7.2f}  median {median / base[1]:7.2f}")
    overhead = (measured["program (process per sample)"][0] - base[0]) / n
    print(f"  overhead of the program route per sample (best): {1e3 * overhead:.1f} ms")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
