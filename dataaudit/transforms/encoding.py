"""TabularEncoder: turn a typed table into a float64 matrix, column by column, using Dataset roles.

Per role (``dataaudit.dataset.ROLES``):

- ``numeric``: missing values (and ±inf) are imputed with the training median. A 0/1
  ``<col>__missing`` indicator column is added when the training share of missing values is
  between ``indicator_min`` (1 %) and ``indicator_max`` (99 %): below 1 % the indicator is almost
  constant and carries too little signal to be worth a feature; a column missing in ≥ 99 % of the
  rows is dropped (``mostly_missing``) because its median is estimated from a handful of values.
- ``categorical`` / ``boolean``: one-hot over the categories seen in training (at most
  ``max_categories``, the most frequent; rarer ones share an ``<col>=__other__`` column); missing
  values get an ``<col>=__missing__`` column when training had any. Categories never seen in
  training produce an all-zero row block (or ``__other__``) and are counted in ``unknown_counts_``.
- ``datetime``: parsed and expanded to year, month, day-of-week and ordinal day (days since
  1970-01-01), then treated like numeric columns (median imputation, indicator rule).
- ``id``, ``constant``, ``text`` and the label: dropped, with the reason in ``dropped_``.

The fitted state is plain JSON (``get_state`` / ``from_state``): medians and category lists, no
pickle. Everything is vectorized per column, so 1M rows × 43 columns encode in about a second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dataaudit.exceptions import InputError

__all__ = ["TabularEncoder", "DROP_REASONS"]

# Why a column may be left out of the feature matrix (recorded in the manifest).
DROP_REASONS: dict[str, str] = {
    "id": "ID-like column (unique per row): memorizes rows, generalizes to nothing",
    "constant": "constant column: carries no information",
    "text": "free-text column: needs a text model, not one-hot or scaling",
    "unsupported": "nested or binary Parquet column: not a feature (flatten or decode it first)",
    "mostly_missing": "missing in 99% or more of the training rows",
    "label": "the label column",
    "unparseable_datetime": "datetime column with no parseable value in training",
    "user": "dropped by the user (--drop)",
    "leakage": "label_leakage: determines the label, a copy or proxy of the target (--keep-leaky keeps it)",
}
_EPOCH = np.datetime64("1970-01-01", "D")
_DATETIME_PARTS = ("year", "month", "dayofweek", "ordinal")


# Rows per piece when gathering and transposing numeric columns into the row-major output.
_TRANSPOSE_ROWS = 4096


def _to_float(values: pd.Series) -> np.ndarray:
    """float64 copy of a column with ±inf turned into NaN."""
    out = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    out[np.isinf(out)] = np.nan
    return out


def _datetime_parts(values: pd.Series) -> np.ndarray:
    """(n, 4) float64: year, month, day-of-week, days since 1970-01-01 (NaN where unparseable)."""
    if isinstance(values.dtype, pd.ArrowDtype):  # date32/timestamp/time from Parquet: no .dt.tz
        values = pd.Series(values.to_numpy(dtype=object), index=values.index)
    if not pd.api.types.is_datetime64_any_dtype(values):
        # utc=True: text mixing UTC offsets (or offsets and none) parses instead of raising.
        values = pd.to_datetime(values, errors="coerce", format="mixed", utc=True)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    out = np.full((len(values), 4), np.nan)
    present = values.notna().to_numpy()
    if present.any():
        valid = values[present]
        out[present, 0] = valid.dt.year.to_numpy(dtype=np.float64)
        out[present, 1] = valid.dt.month.to_numpy(dtype=np.float64)
        out[present, 2] = valid.dt.day_of_week.to_numpy(dtype=np.float64)
        days = valid.to_numpy().astype("datetime64[D]")
        out[present, 3] = (days - _EPOCH).astype(np.float64)
    return out


def _category_keys(values: pd.Series) -> pd.Series:
    """Categories as strings, so that 1, '1' and True/'True' from CSV and Parquet compare alike."""
    return values.astype("string").astype(object).where(values.notna(), None)


class TabularEncoder:
    """Encode a table into a float64 matrix using column roles (see the module docstring).

    Parameters
    ----------
    roles : dict
        Column -> role (``Dataset.roles``).
    label : str, optional
        Label column (never encoded).
    max_categories : int
        One-hot columns per categorical column (the most frequent; the rest share ``__other__``).
    indicator_min, indicator_max : float
        Missing share range in which a numeric column gets a missing-indicator column.

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [1.0, None, 3.0], "c": ["a", "b", "a"]})
    >>> enc = TabularEncoder({"x": "numeric", "c": "categorical"}).fit(frame)
    >>> enc.get_feature_names_out()
    ['x', 'x__missing', 'c=a', 'c=b']
    """

    def __init__(
        self,
        roles: dict[str, str],
        label: str | None = None,
        *,
        max_categories: int = 20,
        indicator_min: float = 0.01,
        indicator_max: float = 0.99,
    ) -> None:
        self.roles = dict(roles)
        self.label = label
        self.max_categories = max_categories
        self.indicator_min = indicator_min
        self.indicator_max = indicator_max

    # ---- fit ----------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, rows: np.ndarray | None = None) -> TabularEncoder:
        """Learn medians, indicator columns and category lists from the training rows.

        ``rows`` (positions) selects the training rows of ``frame`` column by column, which saves
        a copy of the whole table.
        """

        def column_values(column: str) -> pd.Series:
            values = frame[column]
            return values if rows is None else values.iloc[rows]

        missing = [c for c in self.roles if c not in frame.columns]
        if missing:
            raise InputError(f"Columns {missing} are missing from the training table.")
        self.columns_: list[str] = [str(c) for c in frame.columns if c in self.roles]
        self.numeric_: list[dict[str, Any]] = []
        self.categorical_: list[dict[str, Any]] = []
        self.datetime_: list[dict[str, Any]] = []
        self.dropped_: dict[str, str] = {}
        for column in self.columns_:
            role = self.roles[column]
            if column == self.label or role == "label":
                continue
            if role in ("id", "constant", "text", "user", "unsupported", "leakage"):
                self.dropped_[column] = role
            elif role == "numeric":
                spec = self._numeric_spec(column, _to_float(column_values(column)))
                if spec is not None:
                    self.numeric_.append(spec)
            elif role == "datetime":
                parts = _datetime_parts(column_values(column))
                if np.isnan(parts[:, 3]).all():
                    self.dropped_[column] = "unparseable_datetime"
                    continue
                specs = [self._numeric_spec(f"{column}__{p}", parts[:, i]) for i, p in enumerate(_DATETIME_PARTS)]
                self.datetime_.append({"column": column, "parts": [s for s in specs if s is not None]})
            else:  # categorical and boolean
                self.categorical_.append(self._categorical_spec(column, column_values(column)))
        self.unknown_counts_: dict[str, int] = {}
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def _numeric_spec(self, name: str, values: np.ndarray) -> dict[str, Any] | None:
        missing_share = float(np.isnan(values).mean()) if len(values) else 0.0
        if missing_share >= self.indicator_max:
            self.dropped_[name] = "mostly_missing"
            return None
        median = float(np.nanmedian(values)) if missing_share < 1.0 else 0.0
        indicator = self.indicator_min <= missing_share < self.indicator_max
        return {"name": name, "median": median, "indicator": bool(indicator), "missing_share": missing_share}

    def _categorical_spec(self, column: str, values: pd.Series) -> dict[str, Any]:
        keys = _category_keys(values)
        counts = keys.value_counts(dropna=True)
        # Most frequent first; ties broken by the category text so the order is reproducible.
        order = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
        categories = [str(k) for k, _ in order[: self.max_categories]]
        return {
            "column": column,
            "categories": categories,
            "other": len(order) > self.max_categories,
            "missing": bool(keys.isna().any()),
        }

    # ---- transform ----------------------------------------------------------------------------
    def get_feature_names_out(self) -> list[str]:
        """Output column names, in output order."""
        names: list[str] = []
        for spec in self.numeric_:
            names.append(spec["name"])
            if spec["indicator"]:
                names.append(f"{spec['name']}__missing")
        for dt in self.datetime_:
            for spec in dt["parts"]:
                names.append(spec["name"])
                if spec["indicator"]:
                    names.append(f"{spec['name']}__missing")
        for spec in self.categorical_:
            names.extend(f"{spec['column']}={c}" for c in spec["categories"])
            if spec["other"]:
                names.append(f"{spec['column']}=__other__")
            if spec["missing"]:
                names.append(f"{spec['column']}=__missing__")
        return names

    def _check_fitted(self) -> None:
        if not hasattr(self, "columns_"):
            raise InputError("This TabularEncoder is not fitted yet; call fit(frame) first.")

    def transform(
        self, frame: pd.DataFrame, dtype: Any = np.float64, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """Encode ``frame`` (or its ``rows``) into an (n, n_features_out_) matrix.

        Raises
        ------
        InputError
            If a column used at fit time is missing.
        """
        self._check_fitted()
        needed = [s["name"] for s in self.numeric_] + [d["column"] for d in self.datetime_] + [
            s["column"] for s in self.categorical_
        ]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise InputError(
                f"Columns {missing} were used at fit time but are missing from the data; "
                f"columns are {list(frame.columns)}."
            )

        def column_values(column: str) -> pd.Series:
            values = frame[column]
            return values if rows is None else values.iloc[rows]

        n = len(frame) if rows is None else len(rows)
        out = np.empty((n, self.n_features_out_), dtype=dtype)
        j = self._put_numeric_block(out, frame, rows)
        for dt in self.datetime_:
            parts = _datetime_parts(column_values(dt["column"]))
            for spec in dt["parts"]:
                index = _DATETIME_PARTS.index(spec["name"].rsplit("__", 1)[1])
                j = self._put_numeric(out, j, spec, parts[:, index])
        for spec in self.categorical_:
            j = self._put_categorical(out, j, spec, column_values(spec["column"]))
        return out

    def _put_numeric_block(self, out: np.ndarray, frame: pd.DataFrame, rows: np.ndarray | None) -> int:
        """All numeric columns at once; returns the next free output column.

        pandas stores a float block column-major and ``out`` is row-major, so the rows are
        gathered, imputed and transposed a few thousand at a time: each piece stays in cache,
        which makes this several times faster than one whole-array transposing copy.
        """
        if not self.numeric_:
            return 0
        names = [spec["name"] for spec in self.numeric_]
        block = frame[names]
        if all(pd.api.types.is_numeric_dtype(block[c]) and not pd.api.types.is_bool_dtype(block[c]) for c in names):
            columns = block.to_numpy(dtype=np.float64, na_value=np.nan).T  # (k, n), a view when possible
        else:
            columns = np.vstack([_to_float(block[c]) for c in names])
        medians = np.array([spec["median"] for spec in self.numeric_], dtype=np.float64)[:, None]
        # Output position of each value column; an indicator column follows its value column.
        indicator = np.array([bool(spec["indicator"]) for spec in self.numeric_])
        positions = np.arange(len(names)) + np.concatenate([[0], np.cumsum(indicator)[:-1]])
        value_slot: slice | np.ndarray = slice(0, len(names)) if not indicator.any() else positions
        n = out.shape[0]
        for start in range(0, n, _TRANSPOSE_ROWS):
            stop = min(start + _TRANSPOSE_ROWS, n)
            piece = columns[:, rows[start:stop]] if rows is not None else columns[:, start:stop].copy()
            missing = ~np.isfinite(piece)  # NaN and ±inf are both imputed (and flagged as missing)
            if missing.any():
                np.copyto(piece, np.broadcast_to(medians, piece.shape), where=missing)
            out[start:stop, value_slot] = piece.T
            if indicator.any():
                out[start:stop, positions[indicator] + 1] = missing[indicator].T
        return int(len(names) + indicator.sum())

    @staticmethod
    def _put_numeric(out: np.ndarray, j: int, spec: dict[str, Any], values: np.ndarray) -> int:
        nan = np.isnan(values)
        values[nan] = spec["median"]
        out[:, j] = values
        j += 1
        if spec["indicator"]:
            out[:, j] = nan
            j += 1
        return j

    def _put_categorical(self, out: np.ndarray, j: int, spec: dict[str, Any], values: pd.Series) -> int:
        categories = spec["categories"]
        width = len(categories) + int(spec["other"]) + int(spec["missing"])
        block = out[:, j : j + width]
        block[:] = 0
        keys = _category_keys(values)
        # get_indexer maps unseen values to -1 (pd.Categorical would warn about them).
        codes = pd.Index(categories, dtype=object).get_indexer(keys.to_numpy(dtype=object)).astype(np.int64)
        codes[keys.isna().to_numpy()] = -1
        is_missing = keys.isna().to_numpy()
        unseen = (codes < 0) & ~is_missing
        rows = np.flatnonzero(codes >= 0)
        block[rows, codes[rows]] = 1
        k = len(categories)
        if spec["other"]:
            block[unseen, k] = 1
            k += 1
        else:
            n_unknown = int(unseen.sum())
            if n_unknown:
                # Unknown categories become an all-zero block; counted so the caller can report them.
                self.unknown_counts_[spec["column"]] = self.unknown_counts_.get(spec["column"], 0) + n_unknown
        if spec["missing"]:
            block[is_missing, k] = 1
        elif is_missing.any():
            self.unknown_counts_[spec["column"]] = (
                self.unknown_counts_.get(spec["column"], 0) + int(is_missing.sum())
            )
        return j + width

    def fit_transform(self, frame: pd.DataFrame, dtype: Any = np.float64) -> np.ndarray:
        return self.fit(frame).transform(frame, dtype=dtype)

    # ---- state --------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """JSON-ready fitted state (stored in manifest.json)."""
        self._check_fitted()
        return {
            "roles": self.roles,
            "label": self.label,
            "max_categories": self.max_categories,
            "indicator_min": self.indicator_min,
            "indicator_max": self.indicator_max,
            "columns": self.columns_,
            "numeric": self.numeric_,
            "datetime": self.datetime_,
            "categorical": self.categorical_,
            "dropped": self.dropped_,
            "feature_names": self.get_feature_names_out(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TabularEncoder:
        """Rebuild a fitted encoder from :meth:`get_state` output."""
        try:
            enc = cls(
                state["roles"], state["label"], max_categories=state["max_categories"],
                indicator_min=state["indicator_min"], indicator_max=state["indicator_max"],
            )
            enc.columns_ = list(state["columns"])
            enc.numeric_ = [dict(s) for s in state["numeric"]]
            enc.datetime_ = [dict(d) for d in state["datetime"]]
            enc.categorical_ = [dict(s) for s in state["categorical"]]
            enc.dropped_ = dict(state["dropped"])
        except (KeyError, TypeError) as exc:
            raise InputError(f"Encoder state is incomplete or malformed ({exc!r}).") from exc
        enc.unknown_counts_ = {}
        enc.n_features_out_ = len(enc.get_feature_names_out())
        if state.get("feature_names") is not None and state["feature_names"] != enc.get_feature_names_out():
            raise InputError("Encoder state is inconsistent: its feature names do not match its columns.")
        return enc

    def dropped_with_reasons(self) -> dict[str, str]:
        """Column -> human-readable reason it is not a feature."""
        return {c: DROP_REASONS.get(r, r) for c, r in self.dropped_.items()}
