"""The same MLP as ``mlp_numpy`` in PyTorch (autograd backward); uses CUDA when available.

torch is imported only inside this module. The model is written with plain tensor operations
(not ``nn.Linear``/``nn.BatchNorm1d``) so that it is the NumPy model op for op: same parameter
names and shapes (``W{i}`` is ``(n_in, n_out)``), same initialization (drawn by the NumPy model
with the same seed), same GELU approximation and batch-norm conventions. That is what lets a
test load one set of weights into both and compare outputs and gradients to 1e-6.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dataaudit.exceptions import ConfigError, InputError
from dataaudit.training.mlp_numpy import BN_EPS, BN_MOMENTUM, LEAKY_SLOPE, NumpyMLP, OutputHeads

try:
    import torch
    import torch.nn.functional as F
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ConfigError(
        "The torch backend needs PyTorch: pip install 'dataaudit[torch]' (torch==2.13.0), "
        "or use --backend numpy."
    ) from exc

__all__ = ["TorchMLP", "default_device"]

_PREDICT_CHUNK = 65536


def default_device() -> str:
    """"cuda" when a GPU is visible to torch, else "cpu"."""
    return "cuda" if torch.cuda.is_available() else "cpu"


class TorchMLP(OutputHeads):
    """PyTorch twin of :class:`~dataaudit.training.mlp_numpy.NumpyMLP` (same arguments).

    Parameters
    ----------
    device : str, optional
        "cuda", "cpu", ... Default: CUDA when available.
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
        device: str | None = None,
    ) -> None:
        # The NumPy model validates the arguments and draws the initial weights (in float64).
        reference = NumpyMLP(
            n_inputs, n_outputs, hidden=hidden, activation=activation, dropout=dropout,
            batch_norm=batch_norm, task=task, dtype="float64", seed=seed, y_train=y_train,
        )
        self.n_inputs, self.n_outputs = reference.n_inputs, reference.n_outputs
        self.hidden = reference.hidden
        self.activation = activation
        self.dropout = float(dropout)
        self.batch_norm = bool(batch_norm)
        self.task = task
        self.np_dtype = np.dtype(dtype)
        self.dtype = torch.float64 if dtype == "float64" else torch.float32
        self.device = torch.device(device or default_device())
        self.l1, self.l2 = float(l1), float(l2)
        self.params: dict[str, torch.Tensor] = {
            k: torch.tensor(v, dtype=self.dtype, device=self.device, requires_grad=True)
            for k, v in reference.params.items()
        }
        self.buffers: dict[str, torch.Tensor] = {
            k: torch.tensor(v, dtype=self.dtype, device=self.device) for k, v in reference.buffers.items()
        }
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(int(seed))
        self.optimizer: Any = None
        self._decoupled_decay = 0.0

    @property
    def n_layers(self) -> int:
        """Number of linear layers (hidden + output)."""
        return len(self.hidden) + 1

    @property
    def weight_keys(self) -> list[str]:
        """Names of the weight matrices (the only parameters regularized)."""
        return [f"W{i}" for i in range(self.n_layers)]

    def configure_optimizer(
        self,
        name: str = "adam",
        *,
        momentum: float = 0.9,
        nesterov: bool = True,
        weight_decay: float = 0.0,
    ) -> None:
        """Attach a torch optimizer with the NumPy optimizer's exact update rule."""
        weights = [self.params[k] for k in self.weight_keys]
        others = [p for k, p in self.params.items() if k not in self.weight_keys]
        if name == "adam":
            groups = [{"params": weights, "weight_decay": weight_decay}, {"params": others, "weight_decay": 0.0}]
            # AdamW's decay is decoupled (p *= 1 - lr * wd), as in optim.Adam.
            self.optimizer = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
            self._decoupled_decay = 0.0
        else:
            # torch's SGD couples decay into the gradient; decay by hand instead (see train_step).
            self.optimizer = torch.optim.SGD(
                weights + others, lr=1e-3, momentum=momentum, nesterov=nesterov and momentum > 0
            )
            self._decoupled_decay = weight_decay

    # ------------------------------------------------------------------ parameters
    def get_params(self) -> dict[str, np.ndarray]:
        """Copies of all parameters and running statistics as NumPy arrays."""
        out = {k: v.detach().cpu().numpy().astype(self.np_dtype, copy=True) for k, v in self.params.items()}
        out.update({k: v.detach().cpu().numpy().astype(self.np_dtype, copy=True) for k, v in self.buffers.items()})
        return out

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        """Load parameters in place (the optimizer keeps its references)."""
        expected = {**self.params, **self.buffers}
        missing = sorted(set(expected) - set(params))
        extra = sorted(set(params) - set(expected))
        if missing or extra:
            raise InputError(
                f"Parameters do not fit this MLP: missing {missing}, unexpected {extra}; "
                "were they saved from a model with another architecture?"
            )
        with torch.no_grad():
            for key, target in expected.items():
                value = np.asarray(params[key])
                if tuple(value.shape) != tuple(target.shape):
                    raise InputError(
                        f"Parameter {key!r} has shape {value.shape}, this MLP expects {tuple(target.shape)}."
                    )
                target.copy_(torch.as_tensor(value, dtype=self.dtype))

    # ------------------------------------------------------------------ forward
    def _tensor(self, X: np.ndarray) -> torch.Tensor:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise InputError(f"Expected X of shape (n, {self.n_inputs}), got {X.shape}.")
        return torch.as_tensor(np.ascontiguousarray(X, dtype=self.np_dtype)).to(self.device)

    def _forward(
        self, x: torch.Tensor, *, training: bool, dropout: bool, update_stats: bool
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = x
        activations = []
        for i in range(len(self.hidden)):
            z = h @ self.params[f"W{i}"]
            if self.batch_norm:
                if training:
                    mean = z.mean(dim=0)
                    var = z.var(dim=0, unbiased=False)
                    if update_stats:
                        with torch.no_grad():
                            n = z.shape[0]
                            unbiased = var.detach() * (n / max(n - 1, 1))
                            self.buffers[f"running_mean{i}"].mul_(1 - BN_MOMENTUM).add_(BN_MOMENTUM * mean.detach())
                            self.buffers[f"running_var{i}"].mul_(1 - BN_MOMENTUM).add_(BN_MOMENTUM * unbiased)
                else:
                    mean = self.buffers[f"running_mean{i}"]
                    var = self.buffers[f"running_var{i}"]
                z = (z - mean) * torch.rsqrt(var + BN_EPS) * self.params[f"gamma{i}"] + self.params[f"beta{i}"]
            else:
                z = z + self.params[f"b{i}"]
            a = self._activate(z)
            activations.append(a)
            if dropout and self.dropout > 0:
                keep = 1.0 - self.dropout
                mask = torch.rand(a.shape, generator=self.generator, device=self.device, dtype=self.dtype) < keep
                a = a * mask / keep
            h = a
        last = self.n_layers - 1
        return h @ self.params[f"W{last}"] + self.params[f"b{last}"], activations

    def _activate(self, z: torch.Tensor) -> torch.Tensor:
        if self.activation == "relu":
            return torch.relu(z)
        if self.activation == "leaky_relu":
            return F.leaky_relu(z, LEAKY_SLOPE)
        if self.activation == "tanh":
            return torch.tanh(z)
        if self.activation == "sigmoid":
            return torch.sigmoid(z)
        return F.gelu(z, approximate="tanh")

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(total loss with L1/L2, data loss)."""
        if self.task == "classification":
            data = F.cross_entropy(out, y)
        else:
            data = torch.mean((out[:, 0] - y) ** 2)
        total = data
        if self.l2:
            total = total + 0.5 * self.l2 * sum(torch.sum(self.params[k] ** 2) for k in self.weight_keys)
        if self.l1:
            total = total + self.l1 * sum(torch.sum(torch.abs(self.params[k])) for k in self.weight_keys)
        return total, data

    def _targets(self, y: np.ndarray) -> torch.Tensor:
        if self.task == "classification":
            return torch.as_tensor(np.asarray(y, dtype=np.int64)).to(self.device)
        mean, scale = self.target_scaling()  # the network learns the standardized target
        standardized = (np.asarray(y, dtype=np.float64) - mean) / scale
        return torch.as_tensor(standardized.astype(self.np_dtype)).to(self.device)

    def regularization_loss(self) -> float:
        """The L1 + L2 penalty on the weight matrices."""
        with torch.no_grad():
            total = 0.0
            if self.l2:
                total += 0.5 * self.l2 * float(sum(torch.sum(self.params[k].double() ** 2) for k in self.weight_keys))
            if self.l1:
                total += self.l1 * float(sum(torch.sum(torch.abs(self.params[k].double())) for k in self.weight_keys))
        return total

    def loss_and_grads(
        self, X: np.ndarray, y: np.ndarray, *, dropout: bool = True, update_stats: bool = True
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Total loss (data + L1/L2) and its gradients as NumPy arrays (training-mode batch norm)."""
        for p in self.params.values():
            p.grad = None
        out, _ = self._forward(self._tensor(X), training=True, dropout=dropout, update_stats=update_stats)
        total, _ = self._loss(out, self._targets(y))
        total.backward()
        grads = {k: p.grad.detach().cpu().numpy().copy() for k, p in self.params.items()}  # type: ignore[union-attr]
        return float(total.detach()), grads

    # The training loop drives these four in order, as for the NumPy MLP; autograd keeps the
    # graph, so the "cache" is the input tensor and ``data_loss`` hands back the total-loss tensor.
    def forward_train(self, X: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Training-mode forward pass (dropout on, batch statistics): outputs and the input tensor."""
        if self.optimizer is None:
            self.configure_optimizer()
        self.optimizer.zero_grad(set_to_none=True)
        x = self._tensor(X)
        out, _ = self._forward(x, training=True, dropout=True, update_stats=True)
        return out, x

    def data_loss(self, out: torch.Tensor, y: np.ndarray, cache: torch.Tensor) -> tuple[float, torch.Tensor]:
        """Mean data loss of the batch (without L1/L2) and the total loss tensor to differentiate."""
        total, data = self._loss(out, self._targets(y))
        return float(data.detach()), total

    def backward(self, X: np.ndarray, cache: torch.Tensor, total: torch.Tensor) -> dict[str, torch.Tensor]:
        """Backward pass (autograd): gradients land on the parameters' ``.grad``."""
        total.backward()
        return {k: p.grad for k, p in self.params.items() if p.grad is not None}

    def optimizer_step(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        """Apply the attached torch optimizer (the gradients sit on the parameters) at ``lr``."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        if self._decoupled_decay:
            with torch.no_grad():
                for key in self.weight_keys:
                    self.params[key].mul_(1.0 - lr * self._decoupled_decay)
        self.optimizer.step()

    def train_step(self, X: np.ndarray, y: np.ndarray, lr: float) -> float:
        """One optimizer step on a batch; returns the batch's data loss (without L1/L2)."""
        out, cache = self.forward_train(X)
        loss, total = self.data_loss(out, y, cache)
        self.optimizer_step(self.backward(X, cache, total), lr)
        return loss

    # ------------------------------------------------------------------ inference
    def forward(self, X: np.ndarray) -> np.ndarray:
        """Eval-mode outputs as a NumPy array (logits, or the regression value in column 0)."""
        x = self._tensor(X)
        outs = []
        with torch.no_grad():
            for start in range(0, x.shape[0], _PREDICT_CHUNK):
                out, _ = self._forward(x[start : start + _PREDICT_CHUNK], training=False, dropout=False, update_stats=False)
                outs.append(out.cpu().numpy())
        if not outs:
            return np.empty((0, self.n_outputs), self.np_dtype)
        return np.concatenate(outs, axis=0)

    def hidden_activations(self, X: np.ndarray) -> list[np.ndarray]:
        """Eval-mode post-activation values of every hidden layer."""
        with torch.no_grad():
            _, acts = self._forward(self._tensor(X), training=False, dropout=False, update_stats=False)
        return [a.cpu().numpy() for a in acts]
