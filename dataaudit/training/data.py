"""TrainData: the arrays ``fit`` trains on, and how they are loaded from an artifact folder.

Loading goes through the one artifact reader, :func:`dataaudit.io.artifacts.load_artifacts`
(checksums of every file, the typed manifest, .npz members checked before they are read), and the
fitted transform is rebuilt once so that a folder whose transform.npz or encoder state does not
load is refused by ``train`` exactly as by ``transform``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dataaudit.exceptions import ArtifactError, InputError
from dataaudit.io.manifest import TASKS

__all__ = ["TrainData", "load_train_data"]


@dataclass
class TrainData:
    """Train/validation(/test) arrays for ``fit``.

    ``y`` holds class indices ``0..n_classes-1`` (classification) or floats (regression).
    ``n_classes`` is inferred from the labels when not given.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    task: str = "classification"
    n_classes: int | None = None
    classes: list[Any] | None = None  # class names in index order, when known
    label_name: str | None = None
    source: str = "arrays"  # where the arrays came from (an artifacts folder path, or "arrays")
    # What inspect's out-of-fold label models reached on the table (manifest cleaning.label_ceiling):
    # {"out_of_fold_accuracy": float, "models": [...]}, or None.
    label_ceiling: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise InputError(f"task={self.task!r} must be one of {list(TASKS)}.")
        splits = [("train", self.X_train, self.y_train), ("val", self.X_val, self.y_val)]
        if (self.X_test is None) != (self.y_test is None):
            raise InputError("Give both X_test and y_test, or neither.")
        if self.X_test is not None and self.y_test is not None:  # both or neither, checked above
            splits.append(("test", self.X_test, self.y_test))
        width = None
        for name, X, y in splits:
            X = np.asarray(X)
            y = np.asarray(y)
            where = f"{name} split of {self.source}"
            if X.ndim != 2:
                raise InputError(f"X of the {where} must be 2-D (n, d), got shape {X.shape}.")
            if y.ndim != 1 or len(y) != len(X):
                raise InputError(f"y of the {where} must be 1-D with {len(X)} entries, got shape {y.shape}.")
            if not np.issubdtype(X.dtype, np.floating):
                raise InputError(f"X of the {where} must be float32/float64, got {X.dtype}.")
            if not np.all(np.isfinite(X)):
                raise InputError(f"X of the {where} holds NaN or infinite values; impute or drop them first.")
            if width is None:
                width = X.shape[1]
            elif X.shape[1] != width:
                raise InputError(f"X of the {where} has {X.shape[1]} columns, train has {width}.")
            if len(X) == 0 and name != "test":
                raise InputError(f"The {where} is empty; training needs rows in train and val.")
        if self.task == "classification":
            for name, _, y in splits:
                y = np.asarray(y)
                if not np.issubdtype(y.dtype, np.integer):
                    raise InputError(
                        f"y of the {name} split of {self.source} must hold integer class indices, got {y.dtype}."
                    )
            largest = max(int(np.max(y)) if len(y) else -1 for _, _, y in splits)
            smallest = min(int(np.min(y)) if len(y) else 0 for _, _, y in splits)
            if smallest < 0:
                raise InputError(f"Class indices must be >= 0; {self.source} has {smallest}.")
            if self.n_classes is None:
                self.n_classes = max(largest + 1, 2)
            elif largest >= self.n_classes:
                raise InputError(
                    f"Class index {largest} found in {self.source}, but there are only {self.n_classes} classes."
                )
        else:
            for name, _, y in splits:
                if not np.all(np.isfinite(np.asarray(y, dtype=np.float64))):
                    raise InputError(f"y of the {name} split of {self.source} holds NaN or infinite targets.")

    @property
    def n_features(self) -> int:
        """Input width ``d``."""
        return int(np.asarray(self.X_train).shape[1])

    @property
    def n_outputs(self) -> int:
        """Network output width: the number of classes, or 1 for regression."""
        return int(self.n_classes) if self.task == "classification" else 1  # type: ignore[arg-type]

    @classmethod
    def from_artifacts(cls, path: str | Path) -> TrainData:
        """Load the arrays written by ``dataaudit fit-transform`` (see :func:`load_train_data`)."""
        return load_train_data(path)


def _ceiling(record: Any) -> dict[str, Any] | None:
    """The manifest's ``cleaning.label_ceiling`` when it is well formed (older manifests have none)."""
    if not isinstance(record, dict):
        return None
    accuracy = record.get("out_of_fold_accuracy")
    if isinstance(accuracy, bool) or not isinstance(accuracy, int | float) or not 0.0 <= accuracy <= 1.0:
        return None
    return {"out_of_fold_accuracy": float(accuracy), "models": [str(m) for m in record.get("models") or []]}


def load_train_data(path: str | Path) -> TrainData:
    """Train/val/test arrays of an artifact folder, verified by ``io.load_artifacts``.

    Parameters
    ----------
    path : str or Path
        The ARTIFACTS folder of ``dataaudit fit-transform``.

    Raises
    ------
    ArtifactError
        Anything ``load_artifacts`` refuses (missing, changed, foreign, other-version or
        inconsistent files), or arrays that cannot be trained on.
    """
    from dataaudit.io.artifacts import load_artifacts
    from dataaudit.transforms.fitted import fitted_transform

    artifacts = load_artifacts(path)
    fitted_transform(artifacts)  # transform.npz and the encoder state must load, as for `transform`
    label = artifacts.manifest.label
    classes = list(label.classes) if label.task == "classification" else None
    train, val, test = (artifacts.split(name) for name in ("train", "val", "test"))
    try:
        return TrainData(
            X_train=train[0], y_train=train[1], X_val=val[0], y_val=val[1], X_test=test[0], y_test=test[1],
            task=label.task, n_classes=len(classes) if classes else None, classes=classes,
            label_name=label.name, source=str(artifacts.path),
            label_ceiling=_ceiling(artifacts.manifest.cleaning.get("label_ceiling")),
        )
    except InputError as exc:
        raise ArtifactError(f"Artifacts in {artifacts.path} cannot be trained on: {exc}") from exc
