"""Save runs to and load them from Zarr stores or NetCDF files."""

from __future__ import annotations

from pathlib import Path

import xarray as xr


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


def load_run(path: str | Path) -> xr.Dataset:
    """Read a run saved by :func:`save_run` fully into memory."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such run store")
    if is_netcdf(path):
        with xr.open_dataset(path, engine="h5netcdf") as run:
            return run.load()
    with xr.open_zarr(path, consolidated=False) as run:
        return run.load()
