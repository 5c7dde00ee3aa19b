"""Transform stage: scaling, PCA/ZCA whitening and streamed moments (scikit-learn estimators).

Names are re-exported lazily so that importing ``dataaudit.transforms`` does not import
scikit-learn; ``from dataaudit.transforms import PCATransformer`` loads it on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["MeanCenterer", "Standardizer", "PCATransformer", "StreamingMoments"]

_LAZY = {
    "MeanCenterer": "dataaudit.transforms.scaling",
    "Standardizer": "dataaudit.transforms.scaling",
    "PCATransformer": "dataaudit.transforms.whitening",
    "StreamingMoments": "dataaudit.transforms.streaming",
}

if TYPE_CHECKING:
    from dataaudit.transforms.scaling import MeanCenterer, Standardizer
    from dataaudit.transforms.streaming import StreamingMoments
    from dataaudit.transforms.whitening import PCATransformer


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dataaudit.transforms' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
