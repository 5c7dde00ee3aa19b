"""The recipe's sanity checks, run before and during training."""

from __future__ import annotations

import numpy as np

__all__ = ["dead_unit_share"]


def dead_unit_share(activation: str, activations: list[np.ndarray]) -> list[float]:
    """Per hidden layer, the share of units that never respond on the probe rows.

    ReLU family and GELU: the unit's output is <= 0 (ReLU, GELU) or negative (leaky) on every row;
    tanh / sigmoid: the unit is saturated (|tanh| > 0.99, sigmoid < 0.01 or > 0.99) on every row.
    """
    shares = []
    for a in activations:
        if a.shape[0] == 0:
            shares.append(float("nan"))
            continue
        if activation in ("relu", "leaky_relu", "gelu"):
            dead = np.all(a <= 0, axis=0)
        elif activation == "tanh":
            dead = np.all(np.abs(a) > 0.99, axis=0)
        else:
            dead = np.all((a < 0.01) | (a > 0.99), axis=0)
        shares.append(float(np.mean(dead)))
    return shares
