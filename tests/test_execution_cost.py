"""Scheduling expensive samples: a given cost replaces the timing probe and sizes the batches
(slow samples: one per task), and Dask resources a stage declares annotate every task."""

import logging

import numpy as np
import pytest
from distributed import LocalCluster
from distributed.diagnostics.plugin import SchedulerPlugin

from tests.conftest import REPO
from uqms._chaospy import chaospy
from uqms.errors import UqmsError
from uqms.execution import runner
from uqms.execution.runner import auto_batch_size
from uqms.execution.scheduler import local_workers
from uqms.inputs import UncertainInput
from uqms.models.stage import Chain
from uqms.workflow import Workflow

ISHIGAMI = REPO / "workflows" / "ishigami.toml"


class Counting:
    """Doubles x, declaring a cost and a resource; records the size of every batch it sees."""

    inputs, outputs = ("x",), ("y",)
    resources = {"cores": 2}
    seconds_per_sample = 30.0

    def __init__(self):
        self.batches = []

    def __call__(self, batch):
        self.batches.append(len(batch["x"]))
        return {"y": 2 * batch["x"]}


def test_a_given_cost_skips_the_timing_probe_and_runs_slow_samples_one_per_task(monkeypatch, caplog):
    stage = Counting()
    flow = Workflow([stage], [UncertainInput("x", chaospy.Normal(0, 1))], n=7, seed=1)
    assert flow.seconds_per_sample == 30.0 and flow.resources == {"cores": 2.0}
    probes = []
    original = runner.probe_batch

    def recording(workflow, n, seed, timed, size, require_ok, first):
        probes.append((timed, size))
        return original(workflow, n, seed, timed, size, require_ok, first)

    monkeypatch.setattr(runner, "probe_batch", recording)
    with caplog.at_level(logging.INFO, logger="uqms"):
        run = flow.run(scheduler="synchronous")
    assert probes == [(False, 1)]  # no timing: the first batch of one sample stands in for the probe
    assert "batches sized from the given cost, 30 s per sample" in caplog.text
    assert stage.batches == [1] * 7  # every sample once, one per batch: the probe's sample is not run again
    np.testing.assert_array_equal(run["y"].values, 2 * run["x"].values)
    np.testing.assert_array_equal(run["y"].values, flow.run(scheduler="synchronous", batch_size=7)["y"].values)


def test_without_a_cost_the_first_samples_are_timed_and_not_computed_twice(monkeypatch):
    stage = Counting()
    stage.seconds_per_sample = None
    flow = Workflow([stage], [UncertainInput("x", chaospy.Normal(0, 1))], n=100, seed=1)
    run = flow.run(scheduler="synchronous", batch_size=16)
    # the probe's 64 samples (the first alone: its one-time costs) are batches 0-3, not computed again
    assert stage.batches == [1, 63, 16, 16, 4]
    assert (run["status"] == 0).all()


def test_batch_sizes_from_a_cost():
    assert auto_batch_size(60.0, 500, 2) == 1  # a minute per sample: one per task
    assert auto_batch_size(0.01, 500, 2) == 32  # ~0.5 s tasks
    assert local_workers(8, {"cores": 4}) == (2, {"cores": 4})
    assert local_workers(2, {"cores": 4}) == (1, {"cores": 4})  # never fewer than one
    assert local_workers(2) == (2, {})


def test_the_largest_need_of_the_stages_and_the_sum_of_their_costs():
    class Cheap:
        inputs, outputs, resources, seconds_per_sample = ("y",), ("z",), {"cores": 1, "GPU": 1}, 2.0

        def __call__(self, batch):
            return {"z": batch["y"]}

    chain = Chain([Counting(), Cheap()])
    assert chain.resources == {"cores": 2.0, "GPU": 1.0} and chain.seconds_per_sample == 32.0


class Restrictions(SchedulerPlugin):
    """Records the resource restrictions of every task the scheduler sends to a worker."""

    def __init__(self):
        self.seen = {}

    async def start(self, scheduler):
        self.scheduler = scheduler

    def transition(self, key, start, finish, *args, **kwargs):
        if finish == "processing":
            self.seen[key] = dict(self.scheduler.tasks[key].resource_restrictions or {})


def test_tasks_carry_the_resources_and_run_on_workers_that_offer_them():
    flow = Workflow.from_file(ISHIGAMI)
    flow.resources, flow.seconds_per_sample = {"cores": 2.0}, 0.5
    reference = flow.run(n=12, scheduler="synchronous")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      resources={"cores": 2}) as cluster:
        plugin = Restrictions()
        cluster.scheduler.add_plugin(plugin)
        plugin.scheduler = cluster.scheduler
        run = flow.run(n=12, scheduler=cluster.scheduler_address)
    np.testing.assert_array_equal(run["y"].values, reference["y"].values)
    batches = [key for key in plugin.seen if key.startswith("evaluate_batch")]
    probes = [key for key in plugin.seen if key.startswith("probe_batch")]
    assert len(batches) == 12 and len(probes) == 1  # 0.5 s a sample: one per task; the first alone, then the probe (of it)
    assert all(plugin.seen[key] == {"cores": 2.0} for key in batches + probes)


def test_no_worker_offering_the_resources_is_an_error_not_a_hang():
    flow = Workflow.from_file(ISHIGAMI)
    flow.resources = {"cores": 4.0}
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      resources={"cores": 2}) as cluster, pytest.raises(UqmsError, match="cores=4"):
        flow.run(n=12, scheduler=cluster.scheduler_address)


def test_a_local_cluster_uqms_starts_offers_the_resources(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    flow = Workflow.from_file(ISHIGAMI)
    flow.resources = {"cores": 2.0}
    run = flow.run(n=32, scheduler="local", batch_size=8)
    np.testing.assert_array_equal(run["y"].values, flow.run(n=32, scheduler="synchronous")["y"].values)


def test_cost_and_resources_from_a_workflow_file_and_stage_options(tmp_path):
    from uqms.errors import WorkflowError
    from uqms.models.external.command import CommandStage

    text = ISHIGAMI.read_text().replace('scheduler = "synchronous"',
                                        'scheduler = "synchronous"\nseconds_per_sample = 5.0\nresources = { cores = 2 }')
    path = tmp_path / "ishigami.toml"
    path.write_text(text)
    flow = Workflow.from_file(path)
    assert flow.seconds_per_sample == 5.0 and flow.resources == {"cores": 2.0}
    path.write_text(text.replace("resources = { cores = 2 }", "resources = { cores = -1 }"))
    with pytest.raises(WorkflowError, match=r"execution\.resources\.cores"):
        Workflow.from_file(path)
    outputs = {"y": {"decoder": "regex", "file": "stdout", "pattern": "y = (\\S+)"}}
    stage = CommandStage(["true"], inputs=["x"], outputs=outputs, resources={"cores": 4}, seconds_per_sample=60.0)
    assert stage.resources == {"cores": 4.0} and stage.seconds_per_sample == 60.0
    with pytest.raises(ValueError, match="resources.cores: expected a positive number, got 0"):
        CommandStage(["true"], inputs=["x"], outputs=outputs, resources={"cores": 0})
    with pytest.raises(ValueError, match="seconds_per_sample: expected a positive number of seconds"):
        CommandStage(["true"], inputs=["x"], outputs=outputs, seconds_per_sample=-1.0)
