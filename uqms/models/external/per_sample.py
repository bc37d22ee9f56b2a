"""Evaluating a stage sample by sample: cache look-up, a bounded thread pool, outcomes to arrays.

External programs take one sample each, so a stage wrapping them loops over samples; the loop
costs microseconds against the milliseconds to hours of a process, and threads suffice to run
several at once because the work happens outside Python (the threads only wait). Each outcome
is written to the cache as its sample finishes, by the thread that ran it, so a run killed
mid-batch loses no finished sample (only those whose programs were running: at most ``concurrency``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from uqms.models.external.cache import Outcome, ResultCache, sample_key


def evaluate_samples(
    stage: str,
    settings: Mapping[str, Any],
    samples: Sequence[dict[str, float]],
    compute: Callable[[dict[str, float]], Outcome],
    cache: ResultCache | None,
    concurrency: int = 1,
) -> list[Outcome]:
    """The outcome of every sample, read from ``cache`` or computed (at most ``concurrency`` at once).

    Args:
        stage: the stage's name (part of the cache key).
        settings: the stage's value-deciding settings (part of the cache key).
        samples: one ``{input: value}`` per sample.
        compute: the outcome of one sample; must not raise for a bad sample.
        cache: where outcomes are read and written; None to compute every sample.
        concurrency: samples computed at once (threads).
    """
    keys = [sample_key(stage, settings, sample) for sample in samples]
    known = cache.get(keys) if cache is not None else {}
    outcomes: list[Outcome | None] = [known.get(key) for key in keys]

    def computed(i: int) -> Outcome:
        """Sample ``i``'s outcome, cached by the thread that computed it before it takes another:
        written by the caller instead, as it collects them, a loaded machine let the threads run
        samples ahead of their caching, and a run killed then lost several finished samples."""
        outcome = compute(samples[i])
        if cache is not None:
            cache.put(keys[i], stage, samples[i], outcome)
        return outcome

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        running = {i: pool.submit(computed, i) for i, outcome in enumerate(outcomes) if outcome is None}
        for i, future in running.items():
            outcomes[i] = future.result()
    finally:  # a batch given up (its time limit, Ctrl-C): the samples not started are not run
        pool.shutdown(cancel_futures=True)
    return outcomes


def scheduling(resources: Mapping[str, float] | None, seconds_per_sample: float | None,
               ) -> tuple[dict[str, float], float | None]:
    """A stage's options ``resources`` (Dask resources per task, ``{"cores": 4}``) and
    ``seconds_per_sample`` (its cost, s), checked.

    Raises:
        ValueError: an amount or a cost that is not a positive number.
    """
    resources = dict(resources or {})
    for key, amount in resources.items():
        if isinstance(amount, bool) or not isinstance(amount, int | float) or not amount > 0:
            raise ValueError(f"resources.{key}: expected a positive number, got {amount!r}")
    if seconds_per_sample is not None and (isinstance(seconds_per_sample, bool) or not isinstance(
            seconds_per_sample, int | float) or not 0 < seconds_per_sample < float("inf")):
        raise ValueError(f"seconds_per_sample: expected a positive number of seconds, got {seconds_per_sample!r}")
    return {key: float(amount) for key, amount in resources.items()}, seconds_per_sample


def outcomes_to_batch(outcomes: Sequence[Outcome], shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Arrays (samples first, NaN for failed samples) of the outputs ``shapes`` (shape of one
    sample's value) and the ``"status"`` array of ``outcomes``."""
    batch = {name: np.full((len(outcomes), *shape), np.nan) for name, shape in shapes.items()}
    for i, outcome in enumerate(outcomes):
        if outcome.status == 0:
            for name in shapes:
                batch[name][i] = outcome.values[name]
    batch["status"] = np.array([outcome.status for outcome in outcomes], dtype=np.int32)
    return batch


def batch_samples(batch: Mapping[str, np.ndarray], inputs: Sequence[str]) -> list[dict[str, Any]]:
    """One ``{input: value}`` per sample of ``batch``: a float, or a list of floats for an input
    with dims (a template indexes it, ``{{ k_forward[0] }}``)."""
    columns = [np.asarray(batch[name], dtype=float).tolist() for name in inputs]
    return [dict(zip(inputs, values)) for values in zip(*columns)] if inputs else []
