"""Save runs to and open them from Zarr stores or NetCDF files."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from uqms.errors import UqmsError
from uqms.execution.run_store import BATCH_SIZE, DONE, FINGERPRINT, SAMPLE_SECONDS, batches_done


class IncompleteRunError(UqmsError):
    """A run store whose run was interrupted before every batch was written."""


def is_netcdf(path: str | Path) -> bool:
    return Path(path).suffix == ".nc"


def save_run(run: xr.Dataset, path: str | Path) -> Path:
    """Write a run to ``path``: NetCDF for ``.nc``, a Zarr store otherwise (replaced if present)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_netcdf(path):
        run.to_netcdf(path, engine="h5netcdf")
    else:
        run.to_zarr(path, mode="w", consolidated=False)
    return path


def open_run(path: str | Path, allow_incomplete: bool = False) -> xr.Dataset:
    """Open a run lazily (dask-backed for Zarr stores).

    Raises:
        FileNotFoundError: no such store.
        IncompleteRunError: a store written batch by batch whose run was interrupted
            (unless ``allow_incomplete``).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such run store")
    if is_netcdf(path):
        return xr.open_dataset(path, engine="h5netcdf")
    run = xr.open_zarr(path, consolidated=False)
    if DONE in run:
        done = None if allow_incomplete else batches_done(path)  # a resume reads the mask itself
        if done is not None and not done.all():
            raise IncompleteRunError(
                f"{path}: the run is incomplete ({int(done.sum())} of {done.size} batches written); "
                "run the same command again to resume it"
            )
        run = run.drop_vars(DONE)
        for key in (FINGERPRINT, BATCH_SIZE, SAMPLE_SECONDS):
            run.attrs.pop(key, None)
    return run


def load_run(path: str | Path) -> xr.Dataset:
    """Read a complete run fully into memory."""
    with open_run(path) as run:
        return run.load()
