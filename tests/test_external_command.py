"""The external.command stage: a program run per sample equals the same model as a Python stage on a
local cluster; failures (exit code, hang, garbage, missing output) are flagged each with its reason
and nothing else is lost; a killed run resumes without running any finished sample again."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO
from uqms.errors import WorkflowError
from uqms.models.external.cache import Outcome, ResultCache, sample_key
from uqms.models.external.command import (
    FAILED,
    MISSING,
    NOT_STARTED,
    TIMED_OUT,
    UNPARSABLE,
    CommandStage,
)
from uqms.models.external.per_sample import evaluate_samples
from uqms.models.stage import Chain
from uqms.workflow import Workflow


def program_workflow(folder: Path) -> Path:
    """The bundled ishigami_program workflow and its program, copied to ``folder`` with its cache there."""
    shutil.copytree(REPO / "workflows" / "programs", folder / "programs")
    text = (REPO / "workflows" / "ishigami_program.toml").read_text()
    path = folder / "ishigami_program.toml"
    path.write_text(text.replace('cache_path = "../runs/ishigami_program.sqlite"', 'cache_path = "cache.sqlite"'))
    return path


def test_a_program_on_a_local_cluster_equals_the_python_stages(tmp_path, local_cluster):
    reference = Workflow.from_file(REPO / "workflows" / "ishigami.toml").run(n=200, scheduler="synchronous")
    flow = Workflow.from_file(program_workflow(tmp_path))
    run = flow.run(n=200, scheduler=local_cluster.scheduler_address, batch_size=50)
    assert np.all(run["status"].values == 0)
    for name in ("x1", "x2", "x3"):
        np.testing.assert_array_equal(run[name].values, reference[name].values)
    np.testing.assert_allclose(run["y"].values, reference["y"].values, rtol=1e-13, atol=1e-13)


FLAKY = r'''
import json, sys, time
x = json.load(open("input.json"))["x"]
if x < 0.2:
    print("solver: negative pressure at step 3", file=sys.stderr)
    sys.exit(3)
if x < 0.3:
    time.sleep(60)
if x < 0.4:
    open("output.json", "w").write("#@! not json")
elif x >= 0.5:
    json.dump({"y": 2 * x}, open("output.json", "w"))
'''


def flaky_stage(tmp_path: Path, **options) -> CommandStage:
    (tmp_path / "flaky.py").write_text(FLAKY)
    (tmp_path / "input.j2").write_text('{"x": {{ x }}}')
    return CommandStage(["{python}", "{program_file}"], inputs=["x"],
                        outputs={"y": {"decoder": "json", "file": "output.json", "key": "y"}},
                        templates=[{"template_file": str(tmp_path / "input.j2"), "name": "input.json"}],
                        program_file=str(tmp_path / "flaky.py"), timeout=1.0, concurrency=4,
                        cache_path=str(tmp_path / "cache.sqlite"), **options)


def test_failing_hanging_and_garbage_samples_are_flagged_with_their_reasons(tmp_path):
    stage = flaky_stage(tmp_path)
    chain = Chain([stage])
    x = np.array([0.1, 0.25, 0.35, 0.45, 0.6, 0.7, 0.8, 0.9])
    out = chain({"x": x})
    expected = [FAILED, TIMED_OUT, UNPARSABLE, MISSING, 0, 0, 0, 0]
    assert [chain.status_messages.get(c, "") for c in out["status"]] == [
        f"stage 'external.command': {stage.status_messages[e]}" if e else "" for e in expected]
    np.testing.assert_array_equal(out["y"][4:], 2 * x[4:])
    assert np.all(np.isnan(out["y"][:4]))
    failures = ResultCache(tmp_path / "cache.sqlite").failures("external.command").sort_values("x")
    assert failures["status"].tolist() == expected[:4]
    assert "negative pressure at step 3" in failures["text"].iloc[0] and "exit code 3" in failures["text"].iloc[0]
    assert "killed after 1 s" in failures["text"].iloc[1]
    assert "not JSON" in failures["text"].iloc[2] and "not written" in failures["text"].iloc[3]


def test_a_program_that_cannot_start_is_a_status_and_nothing_is_left_in_the_work_folder(tmp_path):
    stage = CommandStage(["./no-such-program"], inputs=["x"], outputs={"y": {"decoder": "regex", "file": "stdout",
                         "pattern": "y = (\\S+)"}}, work_path=str(tmp_path / "work"))
    out = stage({"x": np.array([1.0, 2.0])})
    assert out["status"].tolist() == [NOT_STARTED] * 2
    assert list((tmp_path / "work").iterdir()) == []


def test_reading_a_workflow_never_runs_its_program_and_names_a_bad_template(tmp_path):
    path = program_workflow(tmp_path)
    marker = tmp_path / "ran"
    (tmp_path / "programs" / "ishigami.py").write_text(f"open({str(marker)!r}, 'w')\n")
    Workflow.from_file(path)
    assert not marker.exists()
    (tmp_path / "programs" / "ishigami_input.json.j2").write_text('{"x1": {{ x1 }}, "z": {{ z }}}')
    with pytest.raises(WorkflowError, match=r"chain\[0\]\.stage.*templates\[0\]\.template_file.*uses \['z'\]"):
        Workflow.from_file(path)


COUNTING = r'''
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
    double x;
    FILE *in = fopen("input.txt", "r");
    if (!in || fscanf(in, "%lf", &x) != 1) return 2;
    usleep(20000);
    FILE *out = fopen("output.txt", "w");
    fprintf(out, "y = %.17g\n", 3.0 * x);
    fclose(out);
    FILE *log = fopen(argv[1], "a");
    fprintf(log, "%.17g\n", x);
    fclose(log);
    return 0;
}
'''

COUNTING_WORKFLOW = '''
[workflow]
name = "counting"
seed = 7

[inputs.x]
distribution = "uniform"
lower = 0.0
upper = 1.0
kind = "aleatoric"

[[chain]]
stage = "external.command"

[chain.options]
command = ["{program_file}", "INVOCATIONS"]
program_file = "counting"
templates = [{ template_file = "input.j2", name = "input.txt" }]
inputs = ["x"]
outputs = { y = { decoder = "regex", file = "output.txt", pattern = "y = (\\\\S+)" } }
cache_path = "cache.sqlite"

[design]
method = "mc"
n = 200

[execution]
batch_size = 16
scheduler = "synchronous"
'''


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build the program")
def test_a_killed_run_resumes_without_running_a_finished_sample_again(tmp_path):
    (tmp_path / "counting.c").write_text(COUNTING)
    subprocess.run(["gcc", "-O2", "-o", str(tmp_path / "counting"), str(tmp_path / "counting.c")], check=True)
    (tmp_path / "input.j2").write_text("{{ x }}\n")
    log = tmp_path / "invocations.log"
    workflow = tmp_path / "counting.toml"
    workflow.write_text(COUNTING_WORKFLOW.replace("INVOCATIONS", str(log)))
    store = tmp_path / "counting.zarr"
    command = [sys.executable, "-m", "uqms.cli", "run", str(workflow), "--out", str(store), "--quiet"]
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 90):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = log.read_text().splitlines()
    assert 90 <= len(before) < 200, "the run was not interrupted mid-way"
    run = Workflow.from_file(workflow).run(store=store, scheduler="synchronous")
    invoked = log.read_text().splitlines()
    assert np.all(run["status"].values == 0)
    np.testing.assert_array_equal(run["y"].values, 3.0 * run["x"].values)
    assert len(set(invoked)) == 200
    assert len(invoked) - 200 <= 1  # only a sample killed between its program's end and its cache write runs twice



class SlowCache(ResultCache):
    """A cache whose writes take a while, as on a loaded machine."""

    def put(self, *args, **kwargs):
        time.sleep(0.05)
        super().put(*args, **kwargs)


def _counting(cache: ResultCache, seconds: float = 0.0):
    """``compute`` of evaluate_samples that records, for each sample it starts, the samples it
    ran before whose outcomes were not in ``cache`` yet."""
    started, uncached = [], []

    def compute(sample):
        uncached.extend(k for k, done in enumerate(started) if not cache.get([_key(done)]))
        started.append(sample)
        time.sleep(seconds)
        return Outcome(0, {"y": 3 * sample["x"]})
    return compute, started, uncached


def _key(sample):
    return sample_key("counting", {}, sample)


def test_each_sample_is_cached_before_the_next_starts(tmp_path):
    """A run killed at any moment loses at most the sample being computed (concurrency 1)."""
    cache = SlowCache(tmp_path / "cache.sqlite")
    compute, started, uncached = _counting(cache)
    samples = [{"x": float(x)} for x in range(8)]
    outcomes = evaluate_samples("counting", {}, samples, compute, cache)
    assert [o.values["y"] for o in outcomes] == [3.0 * x for x in range(8)]
    assert len(started) == 8 and uncached == []
    assert evaluate_samples("counting", {}, samples, compute, cache) == outcomes and len(started) == 8  # all cached


def test_a_batch_out_of_time_runs_no_further_sample_and_keeps_those_it_ran(tmp_path):
    from uqms.execution.time_limit import TaskTimeout, can_limit_time, time_limit

    if not can_limit_time():
        pytest.skip("no SIGALRM time limit here (not the main thread of a POSIX process)")
    cache = ResultCache(tmp_path / "cache.sqlite")
    compute, started, _ = _counting(cache, seconds=0.1)
    samples = [{"x": float(x)} for x in range(40)]
    with pytest.raises(TaskTimeout), time_limit(0.35):  # ~4 samples' time
        evaluate_samples("counting", {}, samples, compute, cache)
    assert len(started) < 20  # none started once time ran out
    assert set(cache.get([_key(s) for s in samples])) == {_key(s) for s in started}  # the one running then finished

VECTOR = r'''
import json, sys
x = json.load(open("input.json"))["x"]
n = 2 if x > 0.5 else 3  # too short a vector: unparsable
values = [x * k for k in range(1, n + 1)]
json.dump({"v": values}, open("out.json", "w"))
open("out.csv", "w").write("k,v\n" + "".join(f"{k},{v!r}\n" for k, v in enumerate(values)))
print("v = 999 (a guess before the loop)")
print("\n".join(f"v = {v!r}" for v in values))
'''


def read_vector(folder):
    """A python decoder: the JSON list of a sample folder, as a numpy array."""
    import json

    return np.array(json.loads((folder / "out.json").read_text())["v"])


def test_vector_outputs_of_fixed_length_from_every_decoder(tmp_path):
    from uqms._chaospy import chaospy
    from uqms.inputs import UncertainInput

    (tmp_path / "vector.py").write_text(VECTOR)
    (tmp_path / "input.json.j2").write_text('{"x": {{ x }}}')
    vector = {"length": 3, "dim": "k"}
    stage = CommandStage(["{python}", "{program_file}"], inputs=["x"], program_file=str(tmp_path / "vector.py"),
                         templates=[{"template_file": str(tmp_path / "input.json.j2"), "name": "input.json"}],
                         outputs={"v_json": {"decoder": "json", "file": "out.json", "key": "v", **vector},
                                  "v_csv": {"decoder": "csv", "file": "out.csv", "column": "v", **vector},
                                  "v_regex": {"decoder": "regex", "file": "stdout", "pattern": r"^v = (\S+)$", **vector},
                                  "v_python": {"decoder": "python", "function": "tests.test_external_command:read_vector",
                                               **vector}})
    assert stage.output_dims == dict.fromkeys(stage.outputs, ("k",)) and stage.output_coords == {"k": [0, 1, 2]}
    flow = Workflow([stage], [UncertainInput("x", chaospy.Uniform(0, 1))], n=8, seed=3)
    run = flow.run(scheduler="synchronous")
    x = run["x"].values
    ok = x <= 0.5
    assert ok.any() and (~ok).any()
    assert (run["status"].values[ok] == 0).all() and (run["status"].values[~ok] != 0).all()
    for name in stage.outputs:
        assert run[name].dims == ("sample", "k")
        np.testing.assert_array_equal(run[name].values[ok], x[ok, None] * [1, 2, 3])
        assert np.isnan(run[name].values[~ok]).all()


def test_a_vector_output_needs_its_length_and_dim():
    with pytest.raises(ValueError, match="declares both 'length' and 'dim'"):
        CommandStage(["true"], inputs=["x"], outputs={"v": {"decoder": "json", "file": "o", "key": "v", "length": 3}})
    with pytest.raises(ValueError, match=r"outputs.v.length: expected a positive integer, got 0"):
        CommandStage(["true"], inputs=["x"], outputs={"v": {"decoder": "json", "file": "o", "key": "v", "length": 0,
                                                            "dim": "k"}})
    with pytest.raises(ValueError, match="'k' is the axis of another output of length 3, not 2"):
        CommandStage(["true"], inputs=["x"], outputs={"v": {"decoder": "json", "file": "o", "key": "v", "length": 3,
                                                            "dim": "k"},
                                                      "w": {"decoder": "json", "file": "o", "key": "w", "length": 2,
                                                            "dim": "k"}})


def test_an_input_with_dims_reaches_the_template_as_a_list_and_keys_the_cache(tmp_path):
    (tmp_path / "sum.py").write_text('import json\nk = json.load(open("in.json"))\n'
                                     'json.dump({"y": k["k"][0] + 10 * k["k"][2] + k["s"]}, open("out.json", "w"))\n')
    (tmp_path / "in.json.j2").write_text('{"k": [{{ k[0] }}, {{ k[1] }}, {{ k[2] }}], "s": {{ s }}}')
    stage = CommandStage(["{python}", "{program_file}"], ["k", "s"],
                         {"y": {"decoder": "json", "file": "out.json", "key": "y"}},
                         templates=[{"template_file": str(tmp_path / "in.json.j2"), "name": "in.json"}],
                         program_file=str(tmp_path / "sum.py"), cache_path=str(tmp_path / "cache.sqlite"))
    k = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, 1e-300]])
    out = stage({"k": k, "s": np.array([0.25, 7.0])})
    np.testing.assert_array_equal(out["status"], 0)
    np.testing.assert_array_equal(out["y"], k[:, 0] + 10 * k[:, 2] + [0.25, 7.0])
    changed = stage({"k": k + [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]], "s": np.array([0.25, 7.0])})
    np.testing.assert_array_equal(changed["y"], [41.25, 7.5])  # a changed element is a new sample, not a cache hit
