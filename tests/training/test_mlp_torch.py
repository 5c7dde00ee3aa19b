"""The Torch MLP is the NumPy MLP op for op: same weights give the same outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest

from dataaudit.training.config import ACTIVATIONS, TrainConfig
from dataaudit.training.loop import TrainData, fit
from dataaudit.training.mlp_numpy import NumpyMLP

torch = pytest.importorskip("torch", reason="torch is not installed: pip install 'dataaudit[torch]' (torch==2.13.0)")
from dataaudit.training.mlp_torch import TorchMLP  # noqa: E402


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_same_weights_same_outputs_and_gradients(activation: str, batch_norm: bool, task: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, 5))
    y = rng.integers(0, 3, size=9) if task == "classification" else rng.normal(size=9)
    n_out = 3 if task == "classification" else 1
    kw = dict(hidden=(6, 4), activation=activation, batch_norm=batch_norm, task=task, dtype="float64",
              l1=0.01, l2=0.1)
    reference = NumpyMLP(5, n_out, seed=1, y_train=y, **kw)
    twin = TorchMLP(5, n_out, seed=2, device="cpu", **kw)  # other seed: weights come from set_params
    twin.set_params(reference.get_params())
    loss_np, grads_np = reference.loss_and_grads(X, y, dropout=False)
    loss_t, grads_t = twin.loss_and_grads(X, y, dropout=False)
    assert loss_t == pytest.approx(loss_np, abs=1e-6)
    for key in grads_np:
        np.testing.assert_allclose(grads_t[key], grads_np[key], atol=1e-6, rtol=0)
    np.testing.assert_allclose(twin.forward(X), reference.forward(X), atol=1e-6, rtol=0)
    for key, value in reference.get_params().items():  # running stats were updated the same way
        np.testing.assert_allclose(twin.get_params()[key], value, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_same_seed_same_init_and_same_training_run(optimizer: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(160, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    data = TrainData(X[:120], y[:120], X[120:], y[120:])
    config = TrainConfig(hidden=(16,), max_epochs=3, batch_size=32, dtype="float64", optimizer=optimizer,
                         lr=0.05 if optimizer == "sgd" else 1e-3, weight_decay=0.01, l2=1e-3)
    a = fit(config, data)
    b = fit(config.replace(backend="torch"), data)
    assert [r["step"] for r in a.history] == [r["step"] for r in b.history]
    np.testing.assert_allclose([r["val_loss"] for r in b.history], [r["val_loss"] for r in a.history], atol=1e-9)
    for key, value in a.params.items():
        np.testing.assert_allclose(b.params[key], value, atol=1e-9)
