"""A Zarr run store written batch by batch, so an interrupted run resumes.

Layout: the template (every variable, metadata only) is written first; each finished
batch writes its rows into every sample variable's Zarr array, then the CRC-32 of those
rows into ``batch_checksum``; ``batch_done`` records the batches written, and is written
by the driver only, after the batch's data. Batches coincide with Zarr chunks along
``sample``, so no two writes share a chunk, and a Dask worker can write the rows and
checksum of the batch it computed itself (:class:`WorkerWrites`), the driver marking it
done once the task reported them written. Zarr writes each chunk to a temporary file
renamed into place, so a chunk is never left half-written. A store made before batches
had checksums gets them, of its rows as they are, when it is resumed.

A finished (or interrupted) store of a design whose sample i does not depend on n grows
when run with a larger n (:meth:`RunStore.extend`): its arrays are resized, the batches
written are kept, and a last batch that was cut short by the old n is computed whole with
its old rows kept as they were (``store_kept_rows`` names it until it is written). An
extension killed while resizing is finished by a run with the larger n, or rolled back by
a run with the store's n.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import logging
import shutil
import struct
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numcodecs
import numpy as np
import xarray as xr
import zarr
from zarr.codecs import BloscCodec, BytesCodec, ZstdCodec
from zarr.core.sync import sync as zarr_sync
from zarr.storage import LocalStore

from uqms.errors import UqmsError
from uqms.execution.lock import held_by
from uqms.execution.protocol import Runnable

DONE = "batch_done"
CHECKSUM = "batch_checksum"
FINGERPRINT = "store_fingerprint"
BATCH_SIZE = "store_batch_size"
SAMPLE_SECONDS = "store_seconds_per_sample"  # probed when the store was made; sets a resume's task timeout
BATCH_ARRAYS = {DONE: np.bool_, CHECKSUM: np.uint32}  # one entry per batch, each its own chunk
KEPT_ROWS = "store_kept_rows"  # {batch index: leading rows to keep}: batches cut short by an extended n
# The sample variables' compression: Blosc's LZ4 after a byte shuffle (Zarr 2's default). On
# the ammonia chain's batches (float64) it takes a third of the CPU of Zstandard level 1 for
# as many bytes (1.24 against 1.26 times smaller), and Zarr's write of a batch half as long
# (0.56 against 1.03 us a sample, every chunk written, below); writing a batch is work added to
# its task's when a worker writes it, or the driver's writer thread's when it does not.
SAMPLE_CODEC = BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")
# Every chunk written, even one of fill values only (Zarr's default looks at every value of
# a chunk to skip those): a run writes each batch once, whole, and its chunks then all exist.
WRITE_CONFIG = {"write_empty_chunks": True}
BLOSC_SHUFFLE = {"noshuffle": numcodecs.Blosc.NOSHUFFLE, "shuffle": numcodecs.Blosc.SHUFFLE,
                 "bitshuffle": numcodecs.Blosc.BITSHUFFLE}  # Zarr's names of numcodecs's
log = logging.getLogger("uqms")


class StoreMismatchError(UqmsError):
    """An existing store was made by another workflow, seed, sample count or batch layout."""


def fingerprint(model: Runnable, n: int, seed: int, legacy: bool = False) -> str:
    """A digest of everything that decides the values of a run: n only for a design whose
    samples depend on it (``fixed_n`` of the model's description); ``legacy``: n always,
    as stores made before runs could be extended were fingerprinted."""
    about = model.describe()
    blocks = [about.design_blocks] if about.design == "saltelli" else []
    contents = [sorted(about.files.values())] if about.files else []  # the content, wherever the files were moved
    counted = int(n) if legacy or about.fixed_n else None
    text = json.dumps([about.content, about.design, counted, int(seed), *blocks, *contents])
    return hashlib.sha256(text.encode()).hexdigest()


def batches_done(path: str | Path) -> np.ndarray:
    """Boolean mask of the batches written into the store at ``path``.

    One Zarr chunk per batch, read straight through Zarr, which fetches them
    concurrently: about 3x faster than through xarray and dask (~0.4 ms a batch).
    """
    return np.asarray(zarr.open_array(Path(path) / DONE, mode="r")[:], dtype=bool)


def _refuse_changed_files(path, stored: dict[str, str], files: dict[str, str]) -> None:
    """Name the first file whose content differs from when the store was started."""
    for name, digest in files.items():
        if name in stored and stored[name] != digest:
            raise StoreMismatchError(
                f"{path}: {name} changed since this store was started (its batches were computed from the "
                "old content, sha256 " f"{stored[name][:12]}, not {digest[:12]}); it is left untouched: "
                "restore the file, choose another output path or delete the store"
            )


def is_half_made(path: str | Path) -> bool:
    """A store whose creation was killed before it finished (by uqms before stores were
    renamed into place): no fingerprint or no ``batch_done``, and no data written yet,
    so nothing is lost by making it again."""
    path = Path(path)
    if any(p.is_file() and p.name != "zarr.json" for p in path.rglob("*")):
        return False
    try:
        attrs = json.loads((path / "zarr.json").read_text()).get("attributes", {})
    except (OSError, ValueError):
        return True
    return FINGERPRINT not in attrs or not (path / DONE / "zarr.json").is_file()


def resize_interrupted(path: str | Path) -> bool:
    """Whether the store at ``path`` was left by an extension killed while it resized its
    arrays: one of them is not the length its ``n_samples`` says."""
    group = zarr.open_group(path, mode="r")
    n, size = int(group.attrs.get("n_samples", 0)), int(group.attrs.get(BATCH_SIZE, 0))
    return bool(size) and next(_off_length(group, n, size), None) is not None


def _leading_dimension(array: zarr.Array) -> str:
    """The name of ``array``'s first dimension ("" for a scalar or an array without names)."""
    return (array.metadata.dimension_names or ("",))[0]


def _off_length(group: zarr.Group, n: int, batch_size: int):
    """The arrays of ``group`` whose leading dimension, ``sample`` or ``batch``, is not as long
    as ``n`` samples in batches of ``batch_size`` make it: (array, its dimension, its length,
    the length it should have)."""
    expected = {"sample": n, "batch": -(-n // batch_size)}
    for name in sorted(group.array_keys()):
        array = group[name]
        dim = _leading_dimension(array)
        if dim in expected and array.shape[0] != expected[dim]:
            yield array, dim, array.shape[0], expected[dim]


def _checksum(rows: dict[str, np.ndarray]) -> int:
    """CRC-32 of a batch's rows, variables in name order (zlib: fast, and in the standard library)."""
    crc = 0
    for name in sorted(rows):
        crc = zlib.crc32(np.ascontiguousarray(rows[name]).tobytes(), crc)
    return crc


def _create_array(group: zarr.Group, name: str, variable: xr.Variable, batch_size: int) -> None:
    """The Zarr array of a run's ``variable`` in ``group``, encoded as xarray encodes it: a
    sample variable chunked by batch, compressed with ``SAMPLE_CODEC``, metadata only;
    a constant or coordinate (small, in memory) with its values, Zarr's default chunks and
    compression; a float one with NaN as its fill value, also named in ``_FillValue`` (xarray's
    CF default), as little-endian float64 in base64 (xarray's encoding of it for Zarr)."""
    attrs = _json_attributes(variable.attrs)
    options = {}
    if variable.dtype.kind == "f":
        options["fill_value"] = np.nan
        attrs["_FillValue"] = base64.standard_b64encode(struct.pack("<d", np.nan)).decode()
    if "sample" in variable.dims:  # always the first dimension
        group.create_array(name, shape=variable.shape, dtype=variable.dtype, attributes=attrs,
                           dimension_names=variable.dims, chunks=(batch_size, *variable.shape[1:]),
                           compressors=SAMPLE_CODEC, **options)
        return
    values = variable.values
    # the coordinates of output dimensions are object arrays of names: variable-length strings
    dtype = str if values.dtype == object else values.dtype
    array = group.create_array(name, shape=values.shape, dtype=dtype, attributes=attrs,
                               dimension_names=variable.dims, **options)
    array[...] = values


def _chunk_writer(array: zarr.Array) -> Callable[[int, np.ndarray], None] | None:
    """A function writing chunk ``index`` of ``array`` (chunked along its first dimension
    only) from its rows, padded with the fill value, as Zarr encodes it: bytes in C order,
    little-endian, then the array's one compressor (Blosc or Zstandard, both numcodecs's
    codecs, as Zarr's are), into the chunk's file by an atomic rename; None for arrays in
    other stores or encoded otherwise (Zarr writes those).

    Written here because Zarr's own write of a chunk costs ~0.5 ms of CPU beyond encoding
    it (selections, its codec pipeline, two hops between threads on its event loop): on
    the site-averaged chain's batches of 1024 samples, 12 chunks and the batch's checksum
    and done mark, ~7 of every 14 us of CPU a sample its writes took. Reading stays Zarr's.
    """
    store = array.store_path.store
    chunks = array.chunks
    if (not isinstance(store, LocalStore) or array.filters or not isinstance(array.serializer, BytesCodec)
            or len(array.compressors) != 1 or tuple(chunks[1:]) != tuple(array.shape[1:])):
        return None
    compressor = array.compressors[0]
    if isinstance(compressor, BloscCodec):
        codec = numcodecs.Blosc(cname=compressor.cname.value, clevel=compressor.clevel,
                                shuffle=BLOSC_SHUFFLE[compressor.shuffle.value], blocksize=compressor.blocksize)
    elif isinstance(compressor, ZstdCodec):
        codec = numcodecs.Zstd(level=compressor.level, checksum=compressor.checksum)
    else:
        return None
    folder = Path(store.root) / array.path
    dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    fill = array.fill_value
    tail = (0,) * (len(chunks) - 1)

    def write(index: int, rows: np.ndarray) -> None:
        if len(rows) < chunks[0]:  # the last chunk, past the last sample
            rows = np.concatenate([rows, np.full((chunks[0] - len(rows), *chunks[1:]), fill, dtype=rows.dtype)])
        _write_file(folder / array.metadata.encode_chunk_key((index, *tail)),
                    codec.encode(np.ascontiguousarray(rows, dtype=dtype)))

    return write


def _write_file(path: Path, data: bytes) -> None:
    """``data`` into the file ``path`` whole or not at all (a rename), its folders made, as Zarr's local store does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def _batch_array(dtype, n_batches: int) -> dict:
    """The options of Zarr's ``create_array`` for an array of one entry, and one chunk, per batch."""
    return {"shape": (n_batches,), "chunks": (1,), "dtype": dtype, "dimension_names": ("batch",)}


def _json_attributes(attrs: dict) -> dict:
    """``attrs`` with numpy arrays as lists and numpy scalars as Python numbers, as JSON holds them."""
    return {str(key): value.tolist() if isinstance(value, np.ndarray | np.generic) else value
            for key, value in attrs.items()}


class RunStore:
    """The Zarr store of one run: made by :meth:`create`, reopened by :meth:`open`.

    Args:
        path: the ``.zarr`` directory.
        batch_size: samples per batch (= chunk length along ``sample``).
    """

    def __init__(self, path: str | Path, batch_size: int, seconds_per_sample: float = 0.0,
                 n_samples: int | None = None, kept: dict[int, int] | None = None):
        self.path, self.batch_size, self.seconds_per_sample = Path(path), batch_size, seconds_per_sample
        self.n_samples, self.kept = n_samples, dict(kept or {})
        self._forget_arrays()

    @classmethod
    def create(cls, path: str | Path, template: xr.Dataset, digest: str, batch_size: int,
               seconds_per_sample: float = 0.0) -> RunStore:
        """Make the store of ``template`` (the run, its sample variables lazy): every variable
        (sample variables metadata only, chunked by batch), the ``digest`` of the run
        (:func:`fingerprint`), the probed ``seconds_per_sample``, an all-false ``batch_done``
        and ``batch_checksum``.

        Built in a hidden sibling folder renamed into place when complete, so a process
        killed meanwhile never leaves a half-made store at ``path``. The caller holds the
        store's lock, so no one else uses that sibling.

        Made with Zarr directly, as xarray's ``to_zarr(compute=False)`` makes it (the same
        metadata, attributes and encodings, which a test compares), at a fifth of its cost:
        xarray builds a Dask graph of every chunk it does not write (~0.1 s) and writes each
        array's metadata twice, attributes apart (~0.2 s for 20 variables).
        """
        path = Path(path)
        partial = path.with_name(f".{path.name}.partial")
        shutil.rmtree(partial, ignore_errors=True)  # left by a creation killed before its rename
        attrs = {**template.attrs, FINGERPRINT: digest, BATCH_SIZE: int(batch_size),
                 SAMPLE_SECONDS: float(seconds_per_sample)}
        group = zarr.create_group(partial, attributes=_json_attributes(attrs))
        for name, variable in template.variables.items():
            _create_array(group, str(name), variable, batch_size)
        n_batches = -(-template.sizes["sample"] // batch_size)
        for name, dtype in BATCH_ARRAYS.items():
            group.create_array(name, **_batch_array(dtype, n_batches))
        partial.rename(path)
        return cls(path, batch_size, seconds_per_sample)

    @classmethod
    def open(cls, path: str | Path, model: Runnable, n: int, seed: int, description: str) -> RunStore:
        """Open an existing store, refusing one made by anything else than this run of
        ``model`` (naming an edited file of it), or by this run with more samples, or
        with fewer when its design cannot be extended (``fixed_n`` of its description)."""
        attrs = dict(zarr.open_group(path, mode="r").attrs)
        stored_n = int(attrs.get("n_samples", n))
        about = model.describe()
        accepted = {fingerprint(model, stored_n, seed), fingerprint(model, stored_n, seed, legacy=True)}
        if attrs.get(FINGERPRINT) not in accepted:
            _refuse_changed_files(path, json.loads(attrs.get("workflow_files", "{}")), about.files)
            raise StoreMismatchError(
                f"{path}: this store holds another run (workflow {attrs.get('workflow')!r}, "
                f"n {attrs.get('n_samples')}, seed {attrs.get('seed')}, design "
                f"{attrs.get('design')!r}), not {description}; it is left untouched: "
                "choose another output path or delete it"
            )
        if n < stored_n:
            raise StoreMismatchError(
                f"{path}: this store holds {stored_n} samples of this run, more than the n {n} asked for; it is "
                f"left untouched: run it with n {stored_n} (or more, to extend it), or choose another output path"
            )
        reason = about.fixed_n
        if n > stored_n and reason:
            raise StoreMismatchError(
                f"{path}: this store holds {stored_n} samples of this run and cannot be extended to n {n}: "
                f"{reason} (design {about.design!r}). It is left untouched: run it with n {stored_n}, "
                "or n {n} into another output path; runs of designs mc, sobol, halton and saltelli can be extended"
                .replace("{n}", str(n))
            )
        kept = {int(k): int(v) for k, v in json.loads(attrs.get(KEPT_ROWS, "{}")).items()}
        store = cls(path, int(attrs[BATCH_SIZE]), float(attrs.get(SAMPLE_SECONDS, 0.0)), stored_n, kept)
        if n == stored_n and resize_interrupted(path):
            store._roll_back()
        if CHECKSUM not in zarr.open_group(path, mode="r").array_keys():
            store._record_checksums()
        return store

    def _record_checksums(self) -> None:
        """Give a store made before batches had checksums its ``batch_checksum``: the checksum of
        each batch written, of its rows as they read now (a batch unreadable gets 0, so it is
        found damaged and computed again). Rows never checked before are trusted from here on;
        ``uqms verify`` checks them as any other from then on.

        Written as its own array beside the store, moved into it when complete: a process killed
        meanwhile leaves the store as it was.
        """
        log.warning("%s: made before batches had checksums; the checksums of its batches written are recorded now",
                    self.path)
        done = self.done()
        checksums = np.zeros(done.size, dtype=np.uint32)
        for index in np.flatnonzero(done).tolist():
            checksums[index] = self._stored_checksum(index) or 0
        partial = self.path.with_name(f".{self.path.name}.{CHECKSUM}.partial")
        shutil.rmtree(partial, ignore_errors=True)  # left by a process killed before its move
        zarr.create_array(partial, **_batch_array(np.uint32, done.size))[:] = checksums
        partial.rename(self.path / CHECKSUM)
        self._forget_arrays()

    def _roll_back(self) -> None:
        """Undo an extension killed while it resized the arrays: back to ``n_samples``, a last
        batch whose rows were kept marked done again."""
        log.warning("%s: an extension to more samples was interrupted; rolled back to its %d samples",
                    self.path, self.n_samples)
        self._resize(self.n_samples)
        group, size = zarr.open_group(self.path, mode="r+"), self.batch_size
        for index, rows in list(self.kept.items()):
            if rows == min(size, self.n_samples - index * size):  # the whole batch, as it was before
                group[DONE][index] = True
                del self.kept[index]
        self._record_kept()

    def _resize(self, n: int) -> None:
        """Resize every sample array to ``n`` rows and the batch arrays to its batches (new
        entries not done); idempotent, so a resize killed half-way is made again."""
        for array, dim, length, wanted in list(_off_length(zarr.open_group(self.path, mode="r+"), n, self.batch_size)):
            array.resize((wanted, *array.shape[1:]))
            if dim == "batch" and wanted > length:
                array[length:] = 0
        self._forget_arrays()

    def extend(self, n: int, done: np.ndarray) -> np.ndarray:
        """Grow the store to ``n`` samples; the mask of the batches done in the grown store.

        Args:
            done: the batches written and intact (not damaged) in the store as it is.

        The sample arrays are resized, the done mask and checksums extended with
        not-done entries, then ``n_samples`` set: a resize interrupted is made again by
        the next run. A last batch cut short by the old n (a batch is one Zarr chunk) is
        marked not done and its old rows recorded in ``store_kept_rows``, to be kept as
        they are when it is written whole.
        """
        old, size = int(self.n_samples), self.batch_size
        self._resize(n)
        done = np.concatenate([done[: -(-old // size)], np.zeros(-(-n // size) - -(-old // size), dtype=bool)])
        last = (old - 1) // size
        group = zarr.open_group(self.path, mode="r+")
        if old % size and done[last]:
            self.kept[last] = old - last * size
            self._record_kept()
            group[DONE][last] = False
            done[last] = False
        zarr.open_group(self.path, mode="r+").attrs["n_samples"] = int(n)  # anew: group would write back its attrs without the kept rows
        self.n_samples = int(n)
        return done

    def done(self) -> np.ndarray:
        """Boolean mask of the batches already written."""
        return batches_done(self.path)

    def write(self, arrays: dict[str, np.ndarray], index: int) -> None:
        """Write batch ``index`` (its rows of every sample variable, by name) and its
        checksum (:meth:`write_rows`), then mark it done (:meth:`mark_done`)."""
        self.write_rows(arrays, index, self.kept.get(index, 0))
        self.mark_done(index)

    def write_rows(self, arrays: dict[str, np.ndarray], index: int, keep: int = 0) -> None:
        """Write batch ``index``'s rows of every sample variable, then their checksum; the
        leading ``keep`` rows stay as they are (written before the run was extended).

        Each chunk straight to its file (:func:`_chunk_writer`), byte for byte as Zarr writes
        it; an array encoded otherwise through Zarr, all of them at once on its event loop.
        The site-averaged chain's batches of 1024 samples, 12 arrays, took 11 us of CPU a
        sample to write through xarray's region writes, 9 through Zarr, 3.5 so.
        """
        stored = self._zarr_arrays()
        start = index * self.batch_size
        rows = {name: np.asarray(values, dtype=stored[name].dtype) for name, values in arrays.items()}
        if keep:
            rows = {name: np.concatenate([stored[name][start : start + keep], values[keep:]]) for name, values in rows.items()}
        writers = self._chunk_writers()
        for name, values in rows.items():
            if name in writers:
                writers[name](index, values)

        async def write_all() -> None:
            await asyncio.gather(*(stored[name].async_array.setitem(slice(start, start + len(values)), values)
                                   for name, values in rows.items() if name not in writers))

        zarr_sync(write_all())
        self._write_entry(CHECKSUM, index, _checksum(rows))

    def mark_done(self, index: int) -> None:
        """Record batch ``index`` as written (after its rows and checksum: :meth:`write_rows`)."""
        self._write_entry(DONE, index, True)
        if self.kept.pop(index, None) is not None:
            self._record_kept()

    def damaged(self, done: np.ndarray) -> list[int]:
        """The batches marked done whose rows no longer match their checksum (a chunk
        deleted, overwritten or unreadable); none for a store made without checksums."""
        stored = self._zarr_arrays()
        if CHECKSUM not in stored:
            return []
        checksums = stored[CHECKSUM][:]
        return [index for index in np.flatnonzero(done).tolist() if self._stored_checksum(index) != checksums[index]]

    def _stored_checksum(self, index: int) -> int | None:
        """The checksum of batch ``index``'s rows as stored; None when they cannot be read."""
        stored = self._zarr_arrays()
        start = index * self.batch_size
        stop = start + self.batch_size if self.n_samples is None else min(start + self.batch_size, self.n_samples)
        try:
            return _checksum({name: array[start:stop] for name, array in stored.items()
                              if _leading_dimension(array) == "sample"})
        except Exception:  # noqa: BLE001 - whatever a codec raises on bytes it did not write
            return None

    def _record_kept(self) -> None:
        attrs = zarr.open_group(self.path, mode="r+").attrs
        if self.kept:
            attrs[KEPT_ROWS] = json.dumps({str(k): v for k, v in self.kept.items()})
        elif KEPT_ROWS in attrs:
            del attrs[KEPT_ROWS]

    def _write_entry(self, name: str, index: int, value) -> None:
        """Entry ``index`` of the one-entry-a-chunk batch array ``name``."""
        writer = self._chunk_writers().get(name)
        if writer is None:
            self._zarr_arrays()[name][index] = value
        else:
            writer(index, np.asarray([value], dtype=self._zarr_arrays()[name].dtype))

    def _chunk_writers(self) -> dict[str, Callable[[int, np.ndarray], None]]:
        """A :func:`_chunk_writer` for each array of the samples or batches that one serves."""
        if self._writers is None:
            self._writers = {name: writer for name, array in self._zarr_arrays().items()
                             if _leading_dimension(array) in ("sample", "batch") and (writer := _chunk_writer(array))}
        return self._writers

    def _forget_arrays(self) -> None:
        """The store's Zarr arrays by name and their chunk writers, opened again at first use
        (after arrays were added or resized)."""
        self._arrays = self._writers = None

    def _zarr_arrays(self) -> dict[str, zarr.Array]:
        if self._arrays is None:
            group = zarr.open_group(self.path, mode="r+")
            self._arrays = {name: group[name].with_config(WRITE_CONFIG) for name in group.array_keys()}
        return self._arrays


@dataclass(frozen=True)
class WorkerWrites:
    """What a Dask worker needs to write whole batches of a run into its store itself
    (sent with each task), so the driver only marks them done.

    A worker writes a batch when it reads ``owner`` in the store's lock file: it sees the
    same store, held by the run it computes for (a worker on another machine without that
    path, or left from a killed run, sends the rows back instead, and the driver writes them).

    Args:
        path: the store, an absolute path.
        owner: the text of its lock while this run holds it (:func:`~uqms.execution.lock.store_lock`).
        kept: ``{batch: leading rows to keep}`` (:attr:`RunStore.kept`).
        within: s; a batch that took longer to compute is sent back rather than written (the
            driver may have given its task up for its timeout, and written the batch otherwise).
    """

    path: str
    batch_size: int
    owner: str
    kept: dict[int, int]
    within: float

    def write_rows(self, arrays: dict[str, np.ndarray], index: int) -> bool:
        """:meth:`RunStore.write_rows` of batch ``index`` if this process sees the store; whether it
        did (not when a write failed here: the driver writes the whole batch again, or says why it cannot)."""
        if not held_by(self.path, self.owner):
            return False
        try:
            _store_of(self.path, self.batch_size, self.owner).write_rows(arrays, index, self.kept.get(index, 0))
        except OSError as error:
            log.warning("%s: a worker could not write batch %d (%s); it is sent to the driver", self.path, index, error)
            return False
        return True


@functools.lru_cache(maxsize=2)
def _store_of(path: str, batch_size: int, owner: str) -> RunStore:
    """A worker's handle on a run's store, its Zarr arrays opened once (~30 ms) for every
    batch it writes; ``owner`` (unique to each run) keys it, so a later run on the same
    path, whose arrays may differ or have grown, opens them afresh."""
    return RunStore(path, batch_size)
