"""Optimizers and learning-rate schedules for the NumPy MLP (updates happen in place).

The Torch backend uses ``torch.optim`` with the same hyperparameters and the same ``lr_at``
schedule, so both backends follow one recipe.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

__all__ = ["SGD", "Adam", "lr_at", "make_optimizer"]


def lr_at(
    step: int,
    *,
    lr: float,
    schedule: str,
    total_steps: int,
    warmup_steps: int = 0,
    step_size: int = 1000,
    gamma: float = 0.5,
) -> float:
    """Learning rate for the 0-based ``step``: linear warm-up, then constant, step or cosine decay.

    The cosine schedule goes from ``lr`` right after warm-up to 0 at ``total_steps``.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    if schedule == "constant":
        return lr
    if schedule == "step":
        return lr * gamma ** ((step - warmup_steps) // step_size)
    # cosine
    span = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / span, 1.0)
    return lr * 0.5 * (1.0 + math.cos(math.pi * progress))


class SGD:
    """SGD with (Nesterov) momentum and decoupled weight decay on the keys in ``decay_keys``.

    Same update as ``torch.optim.SGD(momentum, nesterov, dampening=0)``:
    ``v = mu * v + g``; step ``g + mu * v`` (Nesterov) or ``v``.
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        *,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 0.0,
        decay_keys: Iterable[str] = (),
    ) -> None:
        self.params = params
        self.momentum = momentum
        self.nesterov = nesterov and momentum > 0
        self.weight_decay = weight_decay
        self.decay_keys = frozenset(decay_keys)
        self.velocity = {k: np.zeros_like(p) for k, p in params.items()} if momentum > 0 else {}
        self._tmp = {k: np.empty_like(p) for k, p in params.items()}

    def step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        """Apply one update with learning rate ``lr``."""
        for key, param in self.params.items():
            grad = grads[key]
            if self.weight_decay and key in self.decay_keys:
                param *= 1.0 - lr * self.weight_decay
            tmp = self._tmp[key]
            if self.momentum > 0:
                velocity = self.velocity[key]
                velocity *= self.momentum
                velocity += grad
                if self.nesterov:
                    np.multiply(velocity, self.momentum, out=tmp)
                    tmp += grad
                else:
                    tmp[...] = velocity
            else:
                tmp[...] = grad
            tmp *= lr
            param -= tmp


class Adam:
    """Adam with bias correction; decoupled weight decay (AdamW) on the keys in ``decay_keys``."""

    def __init__(
        self,
        params: dict[str, np.ndarray],
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decay_keys: Iterable[str] = (),
    ) -> None:
        self.params = params
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.decay_keys = frozenset(decay_keys)
        self.t = 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self._tmp = {k: np.empty_like(p) for k, p in params.items()}

    def step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        """Apply one update with learning rate ``lr`` (in place, no temporaries per step)."""
        self.t += 1
        correction1 = 1.0 - self.beta1**self.t
        correction2 = 1.0 - self.beta2**self.t
        step_size = lr / correction1
        for key, param in self.params.items():
            grad, m, v, tmp = grads[key], self.m[key], self.v[key], self._tmp[key]
            if self.weight_decay and key in self.decay_keys:
                param *= 1.0 - lr * self.weight_decay
            m *= self.beta1
            np.multiply(grad, 1.0 - self.beta1, out=tmp)
            m += tmp
            v *= self.beta2
            np.multiply(grad, grad, out=tmp)
            tmp *= 1.0 - self.beta2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp *= 1.0 / math.sqrt(correction2)
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            param -= tmp


def make_optimizer(
    name: str,
    params: dict[str, np.ndarray],
    *,
    momentum: float,
    nesterov: bool,
    weight_decay: float,
    decay_keys: Iterable[str],
) -> SGD | Adam:
    """The optimizer called ``name`` ("sgd" or "adam") over ``params``."""
    if name == "sgd":
        return SGD(
            params, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay, decay_keys=decay_keys
        )
    return Adam(params, weight_decay=weight_decay, decay_keys=decay_keys)
