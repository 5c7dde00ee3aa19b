"""A fully vectorized NumPy MLP with its own backward pass.

Layers: ``Linear -> [BatchNorm] -> activation -> [inverted dropout]`` per hidden layer, then a
linear output layer. Classification uses softmax cross-entropy, regression the mean squared
error. Parameters are named ``W{i}`` (shape ``(n_in, n_out)``), ``b{i}``, and with batch norm
``gamma{i}``/``beta{i}`` instead of ``b{i}`` (a bias before batch norm is cancelled by the mean
subtraction); running statistics are ``running_mean{i}``/``running_var{i}``.

Speed: the training step reuses preallocated buffers per batch size, writes matmuls with
``out=`` and applies activations in place, so an epoch allocates almost nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dataaudit.exceptions import ConfigError, InputError
from dataaudit.training.optim import SGD, Adam, make_optimizer

__all__ = ["NumpyMLP", "LEAKY_SLOPE", "BN_EPS", "BN_MOMENTUM", "GELU_C", "init_output_bias"]

LEAKY_SLOPE = 0.01  # leaky ReLU slope for negative inputs (torch's default)
BN_EPS = 1e-5  # batch-norm variance floor (torch's default)
BN_MOMENTUM = 0.1  # running statistics: new = (1 - m) * old + m * batch (torch's convention)
GELU_C = math.sqrt(2.0 / math.pi)  # GELU uses the tanh approximation (torch approximate="tanh")
OUTPUT_INIT_SCALE = 0.1  # small last-layer weights so the loss at init is the prior's entropy
_MAX_BUFFER_SETS = 6  # distinct batch sizes whose buffers are kept
_PREDICT_CHUNK = 8192


def init_output_bias(task: str, n_outputs: int, y_train: np.ndarray | None) -> np.ndarray:
    """Last-layer bias from the data: log class priors (classification) or the target mean.

    With small last-layer weights the network then starts out predicting the priors, so the
    loss at init is the label entropy instead of a "hockey stick" that first learns the bias.
    """
    bias = np.zeros(n_outputs, dtype=np.float64)
    if y_train is None or len(y_train) == 0:
        return bias
    y = np.asarray(y_train)
    if task == "classification":
        counts = np.bincount(y.astype(np.int64), minlength=n_outputs)[:n_outputs].astype(np.float64)
        # A class absent from train still gets a finite logit (half an example's worth).
        priors = np.maximum(counts, 0.5) / max(counts.sum(), 1.0)
        log_priors = np.log(priors)
        return log_priors - log_priors.mean()
    bias[:] = float(np.mean(y))
    return bias


def target_standardization(task: str, y_train: np.ndarray | None) -> dict[str, np.ndarray]:
    """Buffers ``target_mean`` and ``target_scale`` (shape (1,)) of a regression model; none otherwise.

    A regression network learns the standardized target ``(y - mean) / scale`` (train mean and
    standard deviation; a constant target keeps scale 1), so its MSE starts near 1 whatever the
    units (not 15.6M for prices in dollars) and the learning rate means the same on every table.
    ``predict`` maps back to the original units. Saved with the weights, like batch-norm statistics.
    """
    if task != "regression":
        return {}
    mean, scale = 0.0, 1.0
    if y_train is not None and len(y_train):
        y = np.asarray(y_train, dtype=np.float64)
        mean = float(np.mean(y))
        std = float(np.std(y))
        scale = std if std > 0 and np.isfinite(std) else 1.0
    return {"target_mean": np.array([mean]), "target_scale": np.array([scale])}


class OutputHeads:
    """``predict_proba`` and ``predict`` from a model's ``forward`` (shared by both backends)."""

    task: str
    buffers: Any

    def forward(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def target_scaling(self) -> tuple[float, float]:
        """(mean, scale) that map the network's regression output to the target's units."""
        buffers = getattr(self, "buffers", {})
        if self.task != "regression" or "target_mean" not in buffers:
            return 0.0, 1.0
        return float(buffers["target_mean"][0]), float(buffers["target_scale"][0])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n, C) (classification only)."""
        if self.task != "classification":
            raise ConfigError("predict_proba is for classifiers; use predict for regression.")
        logits = self.forward(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class indices (classification) or values (regression), shape (n,)."""
        out = self.forward(X)
        if self.task == "classification":
            return out.argmax(axis=1)
        mean, scale = self.target_scaling()
        return out[:, 0].astype(np.float64) * scale + mean


class NumpyMLP(OutputHeads):
    """Multi-layer perceptron in NumPy with an analytic backward pass.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Input width ``d`` and output width (number of classes ``C``, or 1 for regression).
    hidden : tuple of int
        Hidden layer widths.
    activation : str
        relu, leaky_relu, tanh, sigmoid or gelu. He init for the ReLU family and GELU,
        Glorot for tanh and sigmoid.
    dropout : float
        Inverted-dropout probability after each hidden activation (training only).
    batch_norm : bool
        Batch normalization before each hidden activation.
    task : str
        "classification" (softmax cross-entropy) or "regression" (MSE).
    dtype : str
        "float32" (speed) or "float64" (gradient checks).
    seed : int
        Seeds the initialization and the dropout masks.
    y_train : ndarray, optional
        Training targets, used to set the output bias (log priors / mean).
    l1, l2 : float
        L1 and L2 penalties on weight matrices, part of the loss being differentiated.
    """

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        *,
        hidden: tuple[int, ...] = (256, 256),
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
        task: str = "classification",
        dtype: str = "float32",
        seed: int = 0,
        y_train: np.ndarray | None = None,
        l1: float = 0.0,
        l2: float = 0.0,
    ) -> None:
        if task not in ("classification", "regression"):
            raise ConfigError(f"task={task!r} must be 'classification' or 'regression'.")
        if task == "regression" and n_outputs != 1:
            raise ConfigError(f"A regression MLP has one output, got n_outputs={n_outputs}.")
        if task == "classification" and n_outputs < 2:
            raise ConfigError(f"A classifier needs at least 2 classes, got n_outputs={n_outputs}.")
        self.n_inputs = int(n_inputs)
        self.n_outputs = int(n_outputs)
        self.hidden = tuple(int(h) for h in hidden)
        self.activation = activation
        self.dropout = float(dropout)
        self.batch_norm = bool(batch_norm)
        self.task = task
        self.dtype = np.dtype(dtype)
        self.l1 = float(l1)
        self.l2 = float(l2)
        self.rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.buffers.update(target_standardization(task, y_train))
        self._init_params(self._standardized(y_train) if y_train is not None else None)
        self.grads = {k: np.zeros_like(p) for k, p in self.params.items()}
        self._buffer_sets: dict[int, dict[str, Any]] = {}
        self.optimizer: SGD | Adam | None = None

    # ------------------------------------------------------------------ construction
    @property
    def n_layers(self) -> int:
        """Number of linear layers (hidden + output)."""
        return len(self.hidden) + 1

    @property
    def weight_keys(self) -> list[str]:
        """Names of the weight matrices (the only parameters regularized)."""
        return [f"W{i}" for i in range(self.n_layers)]

    def _init_params(self, y_train: np.ndarray | None) -> None:
        widths = (self.n_inputs, *self.hidden, self.n_outputs)
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
            last = i == self.n_layers - 1
            if last or self.activation in ("tanh", "sigmoid"):
                # Glorot/Xavier uniform keeps tanh/sigmoid in their linear range.
                limit = math.sqrt(6.0 / (fan_in + fan_out))
                weight = self.rng.uniform(-limit, limit, size=(fan_in, fan_out))
            else:
                # He/Kaiming normal for rectifiers: keeps the activation variance constant.
                slope = LEAKY_SLOPE if self.activation == "leaky_relu" else 0.0
                std = math.sqrt(2.0 / ((1.0 + slope**2) * fan_in))
                weight = self.rng.normal(0.0, std, size=(fan_in, fan_out))
            if last:
                weight *= OUTPUT_INIT_SCALE
            self.params[f"W{i}"] = weight.astype(self.dtype)
            if self.batch_norm and not last:
                self.params[f"gamma{i}"] = np.ones(fan_out, dtype=self.dtype)
                self.params[f"beta{i}"] = np.zeros(fan_out, dtype=self.dtype)
                self.buffers[f"running_mean{i}"] = np.zeros(fan_out, dtype=self.dtype)
                self.buffers[f"running_var{i}"] = np.ones(fan_out, dtype=self.dtype)
            elif last:
                bias = init_output_bias(self.task, fan_out, y_train)
                self.params[f"b{i}"] = bias.astype(self.dtype)
            else:
                self.params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)

    def configure_optimizer(
        self,
        name: str = "adam",
        *,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 0.0,
    ) -> None:
        """Attach the optimizer that ``train_step`` uses (decay applies to weight matrices only)."""
        self.optimizer = make_optimizer(
            name,
            self.params,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=weight_decay,
            decay_keys=self.weight_keys,
        )

    # ------------------------------------------------------------------ parameters
    def get_params(self) -> dict[str, np.ndarray]:
        """Copies of all parameters and batch-norm running statistics."""
        out = {k: v.copy() for k, v in self.params.items()}
        out.update({k: v.copy() for k, v in self.buffers.items()})
        return out

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        """Load parameters (in place, so an attached optimizer keeps working).

        Raises
        ------
        InputError
            If names or shapes differ from this model's.
        """
        expected = {**self.params, **self.buffers}
        missing = sorted(set(expected) - set(params))
        extra = sorted(set(params) - set(expected))
        if missing or extra:
            raise InputError(
                f"Parameters do not fit this MLP: missing {missing}, unexpected {extra}; "
                "were they saved from a model with another architecture?"
            )
        for key, target in expected.items():
            value = np.asarray(params[key])
            if value.shape != target.shape:
                raise InputError(
                    f"Parameter {key!r} has shape {value.shape}, this MLP expects {target.shape}."
                )
            target[...] = value

    # ------------------------------------------------------------------ buffers
    def _buffers_for(self, n: int) -> dict[str, Any]:
        bufs = self._buffer_sets.get(n)
        if bufs is not None:
            return bufs
        if len(self._buffer_sets) >= _MAX_BUFFER_SETS:
            self._buffer_sets.pop(next(iter(self._buffer_sets)))
        dt = self.dtype
        bufs = {"z": [], "a": [], "xhat": [], "mask": [], "drop": [], "bool": [], "dh": []}
        for width in self.hidden:
            bufs["z"].append(np.empty((n, width), dt))
            bufs["a"].append(np.empty((n, width), dt))
            bufs["xhat"].append(np.empty((n, width), dt) if self.batch_norm else None)
            bufs["mask"].append(np.empty((n, width), dt) if self.dropout > 0 else None)
            bufs["drop"].append(np.empty((n, width), dt) if self.dropout > 0 else None)
            bufs["bool"].append(np.empty((n, width), np.bool_))
            bufs["dh"].append(np.empty((n, width), dt))
        bufs["out"] = np.empty((n, self.n_outputs), dt)
        bufs["dout"] = np.empty((n, self.n_outputs), dt)
        bufs["inv_std"] = [None] * len(self.hidden)
        self._buffer_sets[n] = bufs
        return bufs

    # ------------------------------------------------------------------ forward
    def _forward(
        self, X: np.ndarray, *, training: bool, dropout: bool, update_stats: bool
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Forward pass into the buffers of batch size ``len(X)``; returns (output, buffers).

        ``training`` selects batch statistics for batch norm; ``dropout`` turns dropout on.
        """
        n = X.shape[0]
        bufs = self._buffers_for(n)
        h = X
        for i in range(len(self.hidden)):
            z, a = bufs["z"][i], bufs["a"][i]
            np.matmul(h, self.params[f"W{i}"], out=z)
            if self.batch_norm:
                z = self._batch_norm_forward(i, z, bufs, training=training, update_stats=update_stats)
            else:
                z += self.params[f"b{i}"]
            self._activate(z, a)
            h = a
            if dropout and self.dropout > 0:
                mask, drop = bufs["mask"][i], bufs["drop"][i]
                keep = 1.0 - self.dropout
                # Inverted dropout: scale kept units by 1/keep so eval needs no rescaling.
                np.less(self.rng.random(mask.shape, dtype=self.dtype), keep, out=bufs["bool"][i])
                np.multiply(bufs["bool"][i], 1.0 / keep, out=mask)
                np.multiply(a, mask, out=drop)
                h = drop
        out = bufs["out"]
        last = self.n_layers - 1
        np.matmul(h, self.params[f"W{last}"], out=out)
        out += self.params[f"b{last}"]
        bufs["h_last"] = h
        bufs["dropout_on"] = dropout and self.dropout > 0
        return out, bufs

    def _batch_norm_forward(
        self, i: int, z: np.ndarray, bufs: dict[str, Any], *, training: bool, update_stats: bool
    ) -> np.ndarray:
        xhat = bufs["xhat"][i]
        if training:
            mean = z.mean(axis=0)
            var = z.var(axis=0)
            if update_stats:
                n = z.shape[0]
                unbiased = var * (n / max(n - 1, 1))  # running variance is unbiased, as in torch
                rm, rv = self.buffers[f"running_mean{i}"], self.buffers[f"running_var{i}"]
                rm *= 1.0 - BN_MOMENTUM
                rm += BN_MOMENTUM * mean
                rv *= 1.0 - BN_MOMENTUM
                rv += BN_MOMENTUM * unbiased
        else:
            mean = self.buffers[f"running_mean{i}"]
            var = self.buffers[f"running_var{i}"]
        inv_std = (1.0 / np.sqrt(var + BN_EPS)).astype(self.dtype)
        bufs["inv_std"][i] = inv_std
        np.subtract(z, mean, out=xhat)
        xhat *= inv_std
        np.multiply(xhat, self.params[f"gamma{i}"], out=z)
        z += self.params[f"beta{i}"]
        return z

    def _activate(self, z: np.ndarray, out: np.ndarray) -> None:
        act = self.activation
        if act == "relu":
            np.maximum(z, 0, out=out)
        elif act == "leaky_relu":
            np.multiply(z, LEAKY_SLOPE, out=out)
            np.maximum(z, out, out=out)
        elif act == "tanh":
            np.tanh(z, out=out)
        elif act == "sigmoid":
            # 0.5 * (1 + tanh(z / 2)) is the logistic function without exp overflow.
            np.multiply(z, 0.5, out=out)
            np.tanh(out, out=out)
            out += 1.0
            out *= 0.5
        else:  # gelu (tanh approximation)
            np.multiply(z, z, out=out)
            out *= 0.044715
            out += 1.0
            out *= z
            out *= GELU_C
            np.tanh(out, out=out)
            out += 1.0
            out *= z
            out *= 0.5

    def _activation_grad(self, i: int, bufs: dict[str, Any], da: np.ndarray) -> None:
        """Multiply ``da`` in place by the activation's derivative at layer ``i``."""
        act = self.activation
        a = bufs["a"][i]
        if act == "relu":
            np.greater(a, 0, out=bufs["bool"][i])
            np.multiply(da, bufs["bool"][i], out=da)
        elif act == "leaky_relu":
            # derivative = slope + (1 - slope) * [a > 0]; the pre-activation buffer is free now.
            scratch = bufs["z"][i]
            np.greater(a, 0, out=bufs["bool"][i])
            np.multiply(bufs["bool"][i], 1.0 - LEAKY_SLOPE, out=scratch)
            scratch += LEAKY_SLOPE
            da *= scratch
        elif act == "tanh":
            da *= 1.0 - a * a
        elif act == "sigmoid":
            da *= a * (1.0 - a)
        else:  # gelu: d/dz 0.5 z (1 + t), t = tanh(c (z + 0.044715 z^3))
            z = bufs["z"][i]
            z2 = z * z
            t = np.tanh(GELU_C * (z + 0.044715 * z2 * z))
            deriv = 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * GELU_C * (1.0 + 3 * 0.044715 * z2)
            da *= deriv

    # ------------------------------------------------------------------ loss and backward
    def _data_loss_and_dout(self, out: np.ndarray, y: np.ndarray, dout: np.ndarray) -> float:
        """Mean loss over the batch; writes d(loss)/d(out) into ``dout``."""
        n = out.shape[0]
        if self.task == "classification":
            np.subtract(out, out.max(axis=1, keepdims=True), out=dout)
            np.exp(dout, out=dout)
            dout /= dout.sum(axis=1, keepdims=True)
            rows = np.arange(n)
            picked = dout[rows, y]
            loss = -float(np.mean(np.log(np.maximum(picked, np.finfo(self.dtype).tiny), dtype=np.float64)))
            dout[rows, y] -= 1.0
            dout *= 1.0 / n
            return loss
        residual = out[:, 0] - self._standardized(y)
        loss = float(np.mean(np.square(residual, dtype=np.float64)))
        dout[:, 0] = residual * (2.0 / n)
        return loss

    def _standardized(self, y: np.ndarray) -> np.ndarray:
        """Regression targets in the units the network learns (see ``target_standardization``)."""
        if self.task != "regression":
            return y
        mean, scale = self.target_scaling()
        return ((np.asarray(y, dtype=np.float64) - mean) / scale).astype(self.dtype)

    def regularization_loss(self) -> float:
        """The L1 + L2 penalty on the weight matrices (added to the data loss in training)."""
        total = 0.0
        if self.l2:
            total += 0.5 * self.l2 * sum(float(np.sum(np.square(self.params[k], dtype=np.float64))) for k in self.weight_keys)
        if self.l1:
            total += self.l1 * sum(float(np.sum(np.abs(self.params[k]), dtype=np.float64)) for k in self.weight_keys)
        return total

    def loss_and_grads(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        dropout: bool = True,
        update_stats: bool = True,
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Total training loss (data + L1/L2) and its gradients for one batch.

        The returned gradient arrays are reused by the next call; copy them to keep them.
        Batch norm uses batch statistics (training mode).
        """
        out, bufs = self._forward(X, training=True, dropout=dropout, update_stats=update_stats)
        loss, dout = self.data_loss(out, y, bufs)
        self.backward(X, bufs, dout)
        loss += self.regularization_loss() if (self.l1 or self.l2) else 0.0
        return loss, self.grads

    def _backward(self, X: np.ndarray, bufs: dict[str, Any], dout: np.ndarray) -> None:
        grads = self.grads
        last = self.n_layers - 1
        np.matmul(bufs["h_last"].T, dout, out=grads[f"W{last}"])
        np.sum(dout, axis=0, out=grads[f"b{last}"])
        upstream = dout
        for i in reversed(range(len(self.hidden))):
            dh = bufs["dh"][i]
            W_next = self.params[f"W{i + 1}"]
            np.matmul(upstream, W_next.T, out=dh)
            if bufs["dropout_on"]:
                dh *= bufs["mask"][i]
            self._activation_grad(i, bufs, dh)
            if self.batch_norm:
                self._batch_norm_backward(i, bufs, dh)
            else:
                np.sum(dh, axis=0, out=grads[f"b{i}"])
            h_prev = X if i == 0 else (bufs["drop"][i - 1] if bufs["dropout_on"] else bufs["a"][i - 1])
            np.matmul(h_prev.T, dh, out=grads[f"W{i}"])
            upstream = dh

    def _batch_norm_backward(self, i: int, bufs: dict[str, Any], dz: np.ndarray) -> None:
        """Turn d(loss)/d(bn output) in ``dz`` into d(loss)/d(bn input), in place."""
        xhat, inv_std = bufs["xhat"][i], bufs["inv_std"][i]
        np.sum(dz * xhat, axis=0, out=self.grads[f"gamma{i}"])
        np.sum(dz, axis=0, out=self.grads[f"beta{i}"])
        dz *= self.params[f"gamma{i}"]  # now d/d(xhat)
        mean_dxhat = dz.mean(axis=0)
        mean_dxhat_xhat = (dz * xhat).mean(axis=0)
        dz -= mean_dxhat
        dz -= xhat * mean_dxhat_xhat
        dz *= inv_std

    # ------------------------------------------------------------------ training step
    # The training loop drives these four in order (forward, loss, backward, optimizer step), so
    # the step reads in the loop itself; ``train_step`` chains them for callers that want one call.
    def forward_train(self, X: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """Training-mode forward pass (dropout on, batch norm on batch statistics): outputs and cache."""
        return self._forward(X, training=True, dropout=True, update_stats=True)

    def data_loss(self, out: np.ndarray, y: np.ndarray, cache: dict[str, Any]) -> tuple[float, np.ndarray]:
        """Mean data loss of the batch (without L1/L2) and d(loss)/d(out), kept in the cache."""
        dout = cache["dout"]
        return self._data_loss_and_dout(out, y, dout), dout

    def backward(self, X: np.ndarray, cache: dict[str, Any], dout: np.ndarray) -> dict[str, np.ndarray]:
        """Backward pass: gradients of data loss + L1/L2 penalty into ``self.grads`` (returned)."""
        self._backward(X, cache, dout)
        for key in self.weight_keys if (self.l2 or self.l1) else ():
            if self.l2:
                self.grads[key] += self.l2 * self.params[key]
            if self.l1:
                self.grads[key] += self.l1 * np.sign(self.params[key])
        return self.grads

    def optimizer_step(self, grads: dict[str, np.ndarray], lr: float) -> None:
        """Apply the attached optimizer (``configure_optimizer``) with learning rate ``lr``."""
        if self.optimizer is None:
            self.configure_optimizer()
        assert self.optimizer is not None
        self.optimizer.step(grads, lr)

    def train_step(self, X: np.ndarray, y: np.ndarray, lr: float) -> float:
        """One optimizer step on a batch; returns the batch's data loss (without L1/L2)."""
        out, cache = self.forward_train(X)
        loss, dout = self.data_loss(out, y, cache)
        self.optimizer_step(self.backward(X, cache, dout), lr)
        return loss

    # ------------------------------------------------------------------ inference
    def _as_input(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise InputError(f"Expected X of shape (n, {self.n_inputs}), got {X.shape}.")
        return np.ascontiguousarray(X, dtype=self.dtype)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Eval-mode outputs (logits, or the regression prediction in column 0), a new array."""
        X = self._as_input(X)
        outs = []
        for start in range(0, X.shape[0], _PREDICT_CHUNK):
            out, _ = self._forward(
                X[start : start + _PREDICT_CHUNK], training=False, dropout=False, update_stats=False
            )
            outs.append(out.copy())
        if not outs:
            return np.empty((0, self.n_outputs), self.dtype)
        return np.concatenate(outs, axis=0)

    def hidden_activations(self, X: np.ndarray) -> list[np.ndarray]:
        """Eval-mode post-activation values of every hidden layer (for dead-unit checks)."""
        X = self._as_input(X)
        _, bufs = self._forward(X, training=False, dropout=False, update_stats=False)
        return [a.copy() for a in bufs["a"]]
