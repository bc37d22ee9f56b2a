"""The surrogate stage against the chain it replaces, side by side, in one run.

The ammonia workflow's chain (scaling relations -> micro-kinetic steady state with
degree of rate control, workflows/ammonia.toml) is run on a few hundred samples; a
surrogate (PCE and GP, the lower LOO error used) of its coverages and free sites as
functions of the two inputs (E_N, n2_ts_intercept) is fitted on them; then both are
evaluated on the same new samples. Prints samples per second of each, the ratio, the
cross-validated RMSE per output entry and the RMSE against the chain on the new samples.

    python benchmarks/surrogate.py [n_train] [n_eval]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core each, as a Dask worker would have
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from uqms.models.stage import Chain
from uqms.surrogates import SurrogateStage, fit_surrogate
from uqms.workflow import Workflow

WORKFLOW = Path(__file__).resolve().parents[1] / "workflows" / "ammonia.toml"
OUTPUTS = ["coverage", "free_sites"]


def main(n_train: int = 300, n_eval: int = 20_000) -> None:
    flow = Workflow.from_file(WORKFLOW)
    started = time.perf_counter()
    train = flow.run(n=n_train)
    model = fit_surrogate(train, list(flow.inputs.names), OUTPUTS, source=str(WORKFLOW))
    fit_seconds = time.perf_counter() - started
    path = Path(tempfile.mkdtemp()) / "ammonia_surrogate.nc"
    model.save(path)
    surrogate = Chain([SurrogateStage(path, error_input="")])

    inputs = flow.sample_inputs(0, n_eval, n_total=n_eval, seed=flow.seed + 1)
    inside = model.in_range(np.stack([inputs[n] for n in model.inputs], axis=1))
    inputs = {k: v[inside] for k, v in inputs.items()}  # the chain would flag the rest
    n = int(inside.sum())
    started = time.perf_counter()
    exact = flow.evaluate(inputs)
    chain_seconds = time.perf_counter() - started
    started = time.perf_counter()
    approx = surrogate(inputs)
    surrogate_seconds = time.perf_counter() - started

    print(f"{n_train} training samples: run + fit {fit_seconds:.1f} s; {n} new samples in the training range")
    print(f"chain (scaling + steady state + DRC): {n / chain_seconds:12.0f} samples/s")
    print(f"surrogate stage:                      {n / surrogate_seconds:12.0f} samples/s")
    print(f"ratio surrogate / chain: {chain_seconds / surrogate_seconds:.0f}x")
    ok = (exact["status"] == 0) & (approx["status"] == 0)
    truth = np.concatenate([exact[o][ok].reshape(int(ok.sum()), -1) for o in OUTPUTS], axis=1)
    found = np.concatenate([approx[o][ok].reshape(int(ok.sum()), -1) for o in OUTPUTS], axis=1)
    test_rmse = np.sqrt(((truth - found) ** 2).mean(axis=0))
    logs = model.log10_columns  # LOO RMSE of these is in decades: compare with the test RMSE of log10
    with np.errstate(divide="ignore", invalid="ignore"):
        test_fitted = np.where(logs, np.sqrt(((np.log10(truth) - np.log10(found)) ** 2).mean(axis=0)), test_rmse)
    print(f"{'entry':32s} {'used':4s} {'fitted':6s} {'LOO RMSE':>10s} {'test RMSE':>10s} "
          f"{'(values)':>10s} {'std':>10s}")
    for column, (output, entry) in enumerate(model.entry_labels()):
        print(f"{output + ' [' + entry + ']':32s} {('pce', 'gp')[model.chosen[column]]:4s} "
              f"{'log10' if logs[column] else 'values':6s} {model.rmse[column]:10.3g} {test_fitted[column]:10.3g} "
              f"{test_rmse[column]:10.3g} {truth[:, column].std():10.3g}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
