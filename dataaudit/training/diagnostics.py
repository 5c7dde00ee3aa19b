"""What the loop measures at each evaluation besides the loss: update ratios and dead units."""

from __future__ import annotations

import numpy as np

__all__ = ["update_ratios", "dead_unit_share"]


def update_ratios(
    before: dict[str, np.ndarray], after: dict[str, np.ndarray], keys: list[str]
) -> dict[str, float]:
    """std(update) / std(weights) per weight matrix (the recipe's ~1e-3 rule of thumb)."""
    ratios = {}
    for key in keys:
        scale = float(np.std(after[key], dtype=np.float64))
        change = float(np.std(after[key].astype(np.float64) - before[key], dtype=np.float64))
        ratios[key] = change / scale if scale > 0 else float("nan")
    return ratios


def dead_unit_share(activation: str, activations: list[np.ndarray]) -> list[float]:
    """Per hidden layer, the share of units that never respond on the probe rows.

    ReLU family and GELU: the unit's output is <= 0 on every row; tanh / sigmoid: the unit is
    saturated (|tanh| > 0.99, sigmoid < 0.01 or > 0.99) on every row.
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
