"""Exact streamed mean and (co)variance in float64, merged chunk by chunk.

Every chunk is summarised by ``(count, mean, M2)`` where ``M2`` is the centred cross-product
``(X - mean).T @ (X - mean)`` (or only its diagonal), and summaries are merged with the
pairwise update of Chan, Golub and LeVeque (1979)::

    delta = mean_b - mean_a
    n     = n_a + n_b
    mean  = mean_a + delta * n_b / n
    M2    = M2_a + M2_b + outer(delta, delta) * n_a * n_b / n

No raw sums of squares are ever formed, so there is no catastrophic cancellation when the
mean is large against the spread, and a chunked pass agrees with an in-memory pass to
rounding (the in-memory pass is the same code with its own block boundaries).

``iter_csv_chunks`` is the chunked twin of ``io.loading.load_dataset``: the same encoding,
delimiter, header and field-count checks, one chunk of rows at a time (``--chunksize``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dataaudit.exceptions import ArtifactError, InputError

__all__ = ["StreamingMoments", "iter_row_blocks", "default_block_rows", "CsvChunks", "iter_csv_chunks",
           "ColumnTypes"]

# Blocks of about 16 MiB of float64: large enough that a million rows need only a few dozen
# BLAS calls (each call synchronises the BLAS threads, which is costly on a busy machine),
# small enough that the one reused centring buffer is negligible next to the data.
_BLOCK_BYTES = 16 * 1024 * 1024


def default_block_rows(n_features: int) -> int:
    """Rows per block so that one float64 block of ``n_features`` columns is about 16 MiB."""
    return max(1024, _BLOCK_BYTES // (8 * max(1, n_features)))


def iter_row_blocks(n_rows: int, block_rows: int) -> Iterator[slice]:
    """Yield consecutive row slices of at most ``block_rows`` rows covering ``range(n_rows)``."""
    for start in range(0, n_rows, block_rows):
        yield slice(start, min(start + block_rows, n_rows))


class StreamingMoments:
    """Running count, mean and centred second moments of a stream of row chunks.

    Parameters
    ----------
    covariance : bool, default=True
        Keep the full ``d x d`` centred cross-product (needed for PCA/ZCA). With ``False``
        only its diagonal is kept (enough for standardisation, and ``d`` times cheaper).
    block_rows : int or None, default=None
        Rows per internal block when a chunk is large; None picks about 2 MiB per block.

    Attributes
    ----------
    n_samples : int
        Rows seen so far.
    mean : ndarray of shape (n_features,) or None
        Running mean in float64 (None before the first chunk).
    m2 : ndarray of shape (n_features, n_features) or (n_features,), or None
        Centred cross-product ``sum((x - mean) (x - mean)^T)`` (or its diagonal).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> moments = StreamingMoments().update(X[:4]).update(X[4:])
    >>> np.allclose(moments.covariance(), np.cov(X, rowvar=False, bias=True))
    True
    """

    def __init__(self, *, covariance: bool = True, block_rows: int | None = None) -> None:
        self.covariance_enabled = bool(covariance)
        self.block_rows = block_rows
        self.n_samples = 0
        self.mean: np.ndarray | None = None
        self.m2: np.ndarray | None = None

    @property
    def n_features(self) -> int | None:
        """Number of columns, or None before the first chunk."""
        return None if self.mean is None else int(self.mean.shape[0])

    def update(self, X: np.ndarray) -> StreamingMoments:
        """Fold the rows of a 2-D array into the running moments and return ``self``.

        ``X`` may be float32 or float64; blocks are promoted to float64 one at a time, so a
        float32 array is never copied whole.
        """
        X = np.asarray(X)
        if X.ndim != 2:
            raise InputError(f"StreamingMoments.update expects a 2-D array, got shape {X.shape}.")
        if self.mean is not None and X.shape[1] != self.mean.shape[0]:
            raise InputError(
                f"StreamingMoments.update got a chunk with {X.shape[1]} columns after chunks "
                f"with {self.mean.shape[0]}; every chunk must have the same columns."
            )
        block_rows = min(self.block_rows or default_block_rows(X.shape[1]), X.shape[0])
        # One float64 buffer reused for every block's centred copy: no per-block allocation.
        buffer = np.empty((block_rows, X.shape[1]), dtype=np.float64)
        for rows in iter_row_blocks(X.shape[0], block_rows):
            block = X[rows]
            self._merge(*self._block_moments(block, buffer[: block.shape[0]]))
        return self

    def affine(self, shift: np.ndarray, scale: np.ndarray) -> StreamingMoments:
        """The moments of ``(X - shift) / scale``, derived exactly without another pass over X.

        Centring moves the mean only; dividing column j by ``scale[j]`` divides the centred
        cross-products by ``scale[i] * scale[j]``. This lets a standardizer and a PCA on the
        standardized rows be fitted from one streamed pass.
        """
        mean, m2 = self._require_data()
        shift = np.asarray(shift, dtype=np.float64)
        scale = np.asarray(scale, dtype=np.float64)
        out = StreamingMoments(covariance=self.covariance_enabled, block_rows=self.block_rows)
        out.n_samples = self.n_samples
        out.mean = (mean - shift) / scale
        out.m2 = m2 / np.outer(scale, scale) if self.covariance_enabled else m2 / (scale * scale)
        return out

    def diagonal(self) -> StreamingMoments:
        """The same moments without the off-diagonal cross-products (what a scaler needs)."""
        mean, m2 = self._require_data()
        out = StreamingMoments(covariance=False, block_rows=self.block_rows)
        out.n_samples = self.n_samples
        out.mean = mean.copy()
        out.m2 = np.diag(m2).copy() if self.covariance_enabled else m2.copy()
        return out

    def merge(self, other: StreamingMoments) -> StreamingMoments:
        """Fold another summary (e.g. from another partition) into this one; return ``self``."""
        if other.n_samples == 0:
            return self
        if other.covariance_enabled != self.covariance_enabled:
            raise InputError("Cannot merge StreamingMoments with and without full covariance.")
        assert other.mean is not None and other.m2 is not None
        if self.mean is not None and other.mean.shape != self.mean.shape:
            raise InputError(
                f"Cannot merge moments over {other.mean.shape[0]} columns into moments over "
                f"{self.mean.shape[0]} columns."
            )
        self._merge(other.n_samples, other.mean.copy(), other.m2.copy())
        return self

    def _block_moments(
        self, block: np.ndarray, centred: np.ndarray
    ) -> tuple[int, np.ndarray, np.ndarray]:
        """Count, float64 mean and centred cross-product (or diagonal) of one block.

        ``centred`` is a float64 scratch array of the block's shape.
        """
        count = block.shape[0]
        block_mean = block.mean(axis=0, dtype=np.float64)
        np.subtract(block, block_mean, out=centred, dtype=np.float64)
        # Corrected two-pass algorithm: the mean of the centred values is the rounding error of
        # the first mean (e.g. 1000 copies of 0.1 do not average to 0.1 exactly); adding it back
        # makes the mean exact to rounding and keeps constant columns at zero variance.
        correction = centred.mean(axis=0)
        if self.covariance_enabled:
            # ``A.T @ A`` on the same buffer lets NumPy call the symmetric rank-k BLAS update.
            m2 = centred.T @ centred - np.outer(correction, correction) * count
        else:
            m2 = np.einsum("ij,ij->j", centred, centred) - correction * correction * count
        return count, block_mean + correction, m2

    def _merge(self, count: int, mean: np.ndarray, m2: np.ndarray) -> None:
        """Chan et al. pairwise merge of ``(count, mean, m2)`` into the running summary."""
        if count == 0:
            return
        if self.mean is None or self.m2 is None or self.n_samples == 0:
            self.n_samples, self.mean, self.m2 = count, mean, m2
            return
        total = self.n_samples + count
        delta = mean - self.mean
        weight = self.n_samples * count / total
        self.mean = self.mean + delta * (count / total)
        if self.covariance_enabled:
            self.m2 = self.m2 + m2 + np.outer(delta, delta) * weight
        else:
            self.m2 = self.m2 + m2 + delta * delta * weight
        self.n_samples = total

    def _require_data(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None or self.m2 is None or self.n_samples == 0:
            raise InputError("StreamingMoments has seen no rows yet; call update(X) first.")
        return self.mean, self.m2

    def variance(self, ddof: int = 0) -> np.ndarray:
        """Per-column variance ``diag(M2) / (n - ddof)`` (population variance by default)."""
        _, m2 = self._require_data()
        diagonal = np.diag(m2) if self.covariance_enabled else m2
        denominator = max(self.n_samples - ddof, 1)
        # Rounding can leave -1e-30 on a constant column; a variance is never negative.
        return np.maximum(diagonal / denominator, 0.0)

    def covariance(self, ddof: int = 0) -> np.ndarray:
        """Covariance matrix ``M2 / (n - ddof)``, symmetrised (population covariance by default)."""
        _, m2 = self._require_data()
        if not self.covariance_enabled:
            raise InputError("This StreamingMoments keeps only variances (covariance=False).")
        denominator = max(self.n_samples - ddof, 1)
        cov = m2 / denominator
        return (cov + cov.T) * 0.5

    def get_state(self) -> dict[str, Any]:
        """The summary as plain scalars and float64 arrays (savable with ``allow_pickle=False``)."""
        mean, m2 = self._require_data()
        return {
            "n_samples": int(self.n_samples),
            "covariance": bool(self.covariance_enabled),
            "mean": mean.copy(),
            "m2": m2.copy(),
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> StreamingMoments:
        """Rebuild a summary saved by :meth:`get_state`."""
        try:
            moments = cls(covariance=bool(np.asarray(state["covariance"]).item()))
            moments.n_samples = int(np.asarray(state["n_samples"]).item())
            moments.mean = np.asarray(state["mean"], dtype=np.float64).copy()
            moments.m2 = np.asarray(state["m2"], dtype=np.float64).copy()
        except KeyError as error:
            raise ArtifactError(
                f"StreamingMoments state lacks the entry {error}; it was not written by get_state()."
            ) from error
        d = moments.mean.shape[0]
        expected = (d, d) if moments.covariance_enabled else (d,)
        if moments.mean.ndim != 1 or moments.m2.shape != expected or moments.n_samples < 1:
            raise ArtifactError(
                f"StreamingMoments state is inconsistent: mean shape {moments.mean.shape}, "
                f"m2 shape {moments.m2.shape}, n_samples {moments.n_samples}."
            )
        return moments


class CsvChunks:
    """The data rows of a CSV/TSV file as DataFrames of at most ``chunksize`` rows.

    Read with the format ``io.loading.sniff_csv`` settles (encoding, delimiter, header: the
    checks of the in-memory loader), and every chunk goes through the same field-count check.
    Chunk indexes continue the 0-based data-row numbers. ``format.notes`` holds what the
    loader had to detect (e.g. an encoding). Iterating again starts from the first row.
    """

    def __init__(self, path: str | Path, chunksize: int, types: ColumnTypes | None = None,
                 encoding: str | None = None) -> None:
        from dataaudit.io.loading import check_path, is_parquet, sniff_csv

        self.path = Path(path)
        check_path(self.path)
        if is_parquet(self.path):
            raise InputError(f"{self.path}: --chunksize streams CSV/TSV files; load Parquet in memory instead.")
        if int(chunksize) < 1:
            raise InputError(f"{self.path}: chunksize must be at least 1, got {chunksize}.")
        self.chunksize = int(chunksize)
        self.types = types
        self.declared_encoding = encoding
        self.format = sniff_csv(self.path, encoding)
        self._scanned = False  # the whole-file field-count scan runs at most once

    def __iter__(self) -> Iterator[Any]:
        import pandas as pd

        from dataaudit.io.compression import READ_ERRORS, corrupt_message
        from dataaudit.io.loading import late_encoding, parser_error, undecodable_message

        fmt = self.format
        yielded = 0
        while True:
            try:
                for chunk in self._chunks(yielded):
                    yielded += len(chunk)
                    yield chunk
                return
            except UnicodeDecodeError as decode_error:
                late = None if self.declared_encoding else late_encoding(self.path, fmt.encoding, fmt.notes)
                if late is None:
                    raise InputError(undecodable_message(self.path, fmt.encoding)) from decode_error
                # Everything before the first bad byte is ASCII, so the rows already yielded read
                # the same in the detected encoding: go on from the next row.
                fmt.encoding = late
            except (ValueError, pd.errors.ParserError) as exc:
                if isinstance(exc, InputError):
                    raise
                raise parser_error(fmt, exc) from exc
            except READ_ERRORS as exc:
                if fmt.compression is None:
                    raise
                raise InputError(corrupt_message(self.path, fmt.compression, exc)) from exc

    def _chunks(self, skip: int) -> Iterator[Any]:
        import pandas as pd

        from dataaudit.io.loading import (
            check_field_counts,
            first_ragged_row,
            ragged_message,
            read_csv_frame,
        )

        fmt = self.format
        start = 0
        reader = read_csv_frame(fmt, chunksize=self.chunksize, low_memory=False)
        with reader:
            for chunk in reader:
                n = len(chunk)
                if start + n <= skip:
                    start += n
                    continue
                if not isinstance(chunk.index, pd.RangeIndex) or chunk.index.start != start:
                    check_field_counts(fmt, chunk, first_row=start)
                elif not self._scanned and n and len(chunk.columns) > 1 and chunk.iloc[:, -1].isna().any():
                    # A short row is padded with missing values: scan the whole file once.
                    self._scanned = True
                    ragged = first_ragged_row(fmt)
                    if ragged is not None:
                        row, line, record = ragged
                        raise InputError(ragged_message(fmt, line, len(record), row))
                if len(chunk.columns) != len(fmt.header):
                    check_field_counts(fmt, chunk, first_row=start)
                chunk = chunk.iloc[max(0, skip - start):]
                chunk.index = pd.RangeIndex(max(start, skip), start + n)
                chunk.columns = [str(c) for c in chunk.columns]
                start += n
                yield chunk if self.types is None else self.types.coerce(chunk)


def iter_csv_chunks(path: str | Path, chunksize: int, types: ColumnTypes | None = None,
                    encoding: str | None = None) -> CsvChunks:
    """``CsvChunks(path, chunksize, types, encoding)``: the loader's checks, one chunk at a time."""
    return CsvChunks(path, chunksize, types, encoding)


class ColumnTypes:
    """Column types decided over all chunks, by the in-memory loader's rule.

    pandas types each chunk on its own: a column can be float in one chunk, int in another and
    text in a third (one stray string). ``observe`` every chunk of a first pass; then a column is
    numeric when every chunk read it as numbers (or as all missing), or when at least
    ``io.loading.NUMERIC_SHARE`` of its filled cells parse as numbers (the stray strings become
    missing, as ``load_dataset`` does). ``coerce`` gives a chunk those types: numeric columns
    that were ever fractional or coerced are float64 in every chunk.
    """

    def __init__(self, skip: set[str] | None = None) -> None:
        self.skip = set(skip or ())
        self._filled: dict[str, int] = {}
        self._parsed: dict[str, int] = {}
        self._text: set[str] = set()
        self._float: set[str] = set()
        self._other: set[str] = set()  # booleans, datetimes ...: left as read
        self.numeric_: set[str] | None = None

    def observe(self, chunk: Any) -> None:
        import pandas as pd

        for column in chunk.columns:
            if column in self.skip:
                continue
            values = chunk[column]
            if pd.api.types.is_bool_dtype(values) or not (
                pd.api.types.is_numeric_dtype(values) or pd.api.types.is_object_dtype(values)
                or pd.api.types.is_string_dtype(values)
            ):
                self._other.add(column)
                continue
            present = values.dropna()
            self._filled[column] = self._filled.get(column, 0) + len(present)
            if pd.api.types.is_numeric_dtype(values):
                self._parsed[column] = self._parsed.get(column, 0) + len(present)
                if pd.api.types.is_float_dtype(values):
                    self._float.add(column)
            else:
                self._text.add(column)
                numbers = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
                self._parsed[column] = self._parsed.get(column, 0) + int(numbers.notna().sum())
        self.numeric_ = None

    @property
    def numeric(self) -> set[str]:
        """Columns read as numbers in every chunk."""
        from dataaudit.io.loading import NUMERIC_SHARE

        if self.numeric_ is None:
            self.numeric_ = {
                c for c, filled in self._filled.items() if c not in self._other
                and (c not in self._text or (filled and self._parsed.get(c, 0) >= NUMERIC_SHARE * filled))
            }
        return self.numeric_

    def coerce(self, frame: Any) -> Any:
        """``frame`` with the numeric columns as numbers (float64 where any chunk needed it)."""
        import pandas as pd

        for column in self.numeric:
            if column not in frame.columns:
                continue
            values = frame[column]
            if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                text = values.where(values.isna(), values.astype(str).str.strip())
                frame[column] = pd.to_numeric(text, errors="coerce").astype(np.float64)
            elif (column in self._float or column in self._text) and values.dtype != np.float64:
                frame[column] = values.astype(np.float64)
        return frame
