"""The uqms command line: run, show, validate."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import REPO
from uqms import load_run
from uqms.cli import app

runner = CliRunner()
ISHIGAMI = str(REPO / "workflows" / "ishigami.toml")


@pytest.mark.parametrize("command", [[], ["run"], ["show"], ["validate"]])
def test_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_validate_reports_the_workflow():
    result = runner.invoke(app, ["validate", ISHIGAMI], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "3 inputs" in result.output and "2 stages" in result.output


def test_validate_names_the_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(Path(ISHIGAMI).read_text().replace('method = "sobol"', 'method = "grid"'))
    result = runner.invoke(app, ["validate", str(bad)], env={"COLUMNS": "300"})  # the path unbroken, however long
    assert result.exit_code == 2
    assert "design.method" in result.output and "bad.toml" in result.output


def test_run_then_show(tmp_path):
    out = tmp_path / "ishigami.nc"
    result = runner.invoke(app, ["run", ISHIGAMI, "--n", "512", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "analysis:" in result.output  # the file's [analysis], performed after the run
    run = load_run(out)
    assert run.sizes["sample"] == 512 and run.attrs["seed"] == 3
    shown = runner.invoke(app, ["show", str(out)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0
    mean = f"{float(run['y'].mean()):.3g}"  # 3 significant digits: names fit in 80 columns
    assert mean in shown.output
    for word in ("x1", "x3", "epistemic", "ok", "512", "5%", "95%"):
        assert word in shown.output


RUN_WITHOUT_ANALYSIS = '''
import sys
from uqms.cli import app
try:
    app(sys.argv[1:])
except SystemExit as end:
    assert end.code in (0, None), end.code
print(sorted(m for m in ("matplotlib", "uqms.analysis") if m in sys.modules))
'''


def test_a_run_whose_file_asks_for_no_analysis_loads_none(tmp_path):
    """``uqms run`` imports the analysis (its figures' matplotlib, ~0.5 s) only for a file with an ``[analysis]`` table."""
    import subprocess
    import sys

    text = Path(ISHIGAMI).read_text()
    (tmp_path / "flow.toml").write_text(text[: text.index("[analysis]")])
    done = subprocess.run([sys.executable, "-c", RUN_WITHOUT_ANALYSIS, "run", str(tmp_path / "flow.toml"), "--n", "64",
                           "--scheduler", "synchronous", "--out", str(tmp_path / "run.nc"), "--quiet"],
                          cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_show_names_the_groups_a_saltelli_design_swapped(tmp_path):
    text = (REPO / "workflows" / "ishigami.toml").read_text().replace('method = "sobol"', 'method = "saltelli"\nby = "group"')
    text = text.replace('kind = "aleatoric"', 'kind = "aleatoric"\ngroup = "sines"')
    (tmp_path / "grouped.toml").write_text(text)
    out = tmp_path / "grouped.nc"
    assert runner.invoke(app, ["run", str(tmp_path / "grouped.toml"), "--n", "256", "--out", str(out)]).exit_code == 0
    shown = runner.invoke(app, ["show", str(out)], env={"COLUMNS": "200"})
    assert "design saltelli swapping input groups sines (x1, x2); x3 (x3)" in shown.output


def test_a_full_disk_is_one_line_and_the_run_resumes(tmp_path, monkeypatch):
    from uqms.execution.run_store import RunStore

    store = tmp_path / "ishigami.zarr"
    text = Path(ISHIGAMI).read_text()
    (tmp_path / "flow.toml").write_text(text[: text.index("[analysis]")])  # no analysis: the run is the point
    arguments = ["run", str(tmp_path / "flow.toml"), "--n", "512", "--batch-size", "64", "--out", str(store), "--quiet"]
    write = RunStore.write

    def full_after_three(self, arrays, index):
        if index >= 3:
            raise OSError(28, "No space left on device")
        write(self, arrays, index)

    monkeypatch.setattr(RunStore, "write", full_after_three)
    result = runner.invoke(app, arguments, env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        (f"error: {store}: cannot write the run (No space left on device); the batches finished so far are kept: "
         "make room and run the same command again to resume")
    ]
    monkeypatch.setattr(RunStore, "write", write)
    assert runner.invoke(app, arguments).exit_code == 0
    reference = tmp_path / "reference.nc"
    assert runner.invoke(app, [*arguments[:-3], "--out", str(reference)]).exit_code == 0
    assert load_run(store).drop_attrs().identical(load_run(reference).drop_attrs())


def test_ctrl_c_is_one_line_and_the_run_resumes(tmp_path, monkeypatch):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.test_execution import SLOW_STAGES, SLOW_WORKFLOW, _batches_done
    from uqms import Workflow

    (tmp_path / "slow_stages.py").write_text(SLOW_STAGES)
    (tmp_path / "slow.toml").write_text(SLOW_WORKFLOW.replace("n = 4000", "n = 1000"))
    monkeypatch.syspath_prepend(str(tmp_path))
    store = tmp_path / "slow.zarr"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "COLUMNS": "300"}
    process = subprocess.Popen([sys.executable, "-m", "uqms.cli", "run", str(tmp_path / "slow.toml"), "--out",
                                str(store), "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not store.exists() or _batches_done(store) < 3):
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 130
    assert output.strip().splitlines() == [
        f"interrupted: the batches finished so far are kept in {store}; run the same command again to resume"
    ]
    flow = Workflow.from_file(tmp_path / "slow.toml")
    assert flow.run(store=store).identical(flow.run())


@pytest.mark.parametrize("arguments, expected", [
    (["run", ISHIGAMI, "--scheduler", "lcoal"], "--scheduler: unknown scheduler 'lcoal': expected 'synchronous', 'local'"),
    (["run", ISHIGAMI, "--n", str(2**70)], "Invalid value for '--n'"),
    (["calibrate", ISHIGAMI, "--steps", "2"], "Invalid value for '--steps'"),
])
def test_bad_options_fail_in_one_message_before_any_work(tmp_path, arguments, expected):
    result = runner.invoke(app, [*arguments, "--out", str(tmp_path / "out.zarr")], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and expected in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out.zarr").exists()


def test_an_unreachable_scheduler_is_one_message(tmp_path):
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = runner.invoke(app, ["run", ISHIGAMI, "--n", "64", "--scheduler", "tcp://127.0.0.1:9",
                                     "--out", str(tmp_path / "out.zarr")], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "cannot reach the Dask scheduler tcp://127.0.0.1:9" in result.output
