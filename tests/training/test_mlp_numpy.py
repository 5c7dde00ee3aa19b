"""NumPy MLP: gradients against centred finite differences, init, dropout, batch norm, optimizers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dataaudit.exceptions import ConfigError, InputError
from dataaudit.training.config import ACTIVATIONS
from dataaudit.training.mlp_numpy import NumpyMLP, init_output_bias
from dataaudit.training.optim import SGD, Adam, lr_at

STEP = 1e-5


def numerical_gradients(model: NumpyMLP, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Centred differences of the total loss for every entry of every parameter."""
    out = {}
    for key, param in model.params.items():
        grad = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            original = param[index]
            param[index] = original + STEP
            plus, _ = model.loss_and_grads(X, y, dropout=False, update_stats=False)
            param[index] = original - STEP
            minus, _ = model.loss_and_grads(X, y, dropout=False, update_stats=False)
            param[index] = original
            grad[index] = (plus - minus) / (2 * STEP)
        out[key] = grad
    return out


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-7))


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradients_match_finite_differences(activation: str, batch_norm: bool, task: str) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 5))
    y = rng.integers(0, 3, size=7) if task == "classification" else rng.normal(size=7)
    model = NumpyMLP(
        5, 3 if task == "classification" else 1, hidden=(6, 4), activation=activation,
        batch_norm=batch_norm, task=task, dtype="float64", y_train=y, l1=0.01, l2=0.1,
    )
    _, grads = model.loss_and_grads(X, y, dropout=False, update_stats=False)
    analytic = {k: v.copy() for k, v in grads.items()}
    numeric = numerical_gradients(model, X, y)
    assert set(analytic) == set(numeric)
    for key in analytic:
        assert relative_error(analytic[key], numeric[key]) < 1e-6, key


@pytest.mark.parametrize("penalty", [{"l1": 0.05}, {"l2": 0.3}, {"l1": 0.02, "l2": 0.2}])
def test_regularization_penalty_and_gradient(penalty: dict[str, float]) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 4))
    y = rng.integers(0, 2, size=6)
    plain = NumpyMLP(4, 2, hidden=(5,), dtype="float64", seed=3)
    reg = NumpyMLP(4, 2, hidden=(5,), dtype="float64", seed=3, **penalty)
    weights = [reg.params[k] for k in reg.weight_keys]
    expected = penalty.get("l1", 0.0) * sum(np.abs(w).sum() for w in weights) + 0.5 * penalty.get(
        "l2", 0.0) * sum((w**2).sum() for w in weights)
    assert reg.regularization_loss() == pytest.approx(expected, rel=1e-12)
    loss_plain, g_plain = plain.loss_and_grads(X, y, dropout=False)
    g_plain = {k: v.copy() for k, v in g_plain.items()}
    loss_reg, g_reg = reg.loss_and_grads(X, y, dropout=False)
    g_reg = {k: v.copy() for k, v in g_reg.items()}  # the live arrays are reused by the next call
    assert loss_reg == pytest.approx(loss_plain + expected, rel=1e-12)
    for key in reg.weight_keys:
        extra = penalty.get("l2", 0.0) * reg.params[key] + penalty.get("l1", 0.0) * np.sign(reg.params[key])
        np.testing.assert_allclose(g_reg[key], g_plain[key] + extra, rtol=1e-10, atol=1e-12)
    # biases are never penalized
    np.testing.assert_allclose(g_reg["b0"], g_plain["b0"], rtol=1e-12)
    numeric = numerical_gradients(reg, X, y)
    for key in reg.params:
        assert relative_error(g_reg[key], numeric[key]) < 1e-6, key


def test_dropout_gradient_with_a_fixed_mask() -> None:
    # Dropout draws its mask from the model's RNG; replaying the RNG state replays the mask,
    # so finite differences see the same sub-network as the analytic pass.
    rng = np.random.default_rng(2)
    X = rng.normal(size=(6, 4))
    y = rng.integers(0, 3, size=6)
    model = NumpyMLP(4, 3, hidden=(8, 8), dropout=0.4, dtype="float64", seed=5, activation="tanh")
    state = model.rng.bit_generator.state
    _, grads = model.loss_and_grads(X, y, dropout=True)
    analytic = {k: v.copy() for k, v in grads.items()}
    for key, param in model.params.items():
        numeric = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            original = param[index]
            values = []
            for delta in (STEP, -STEP):
                param[index] = original + delta
                model.rng.bit_generator.state = state
                values.append(model.loss_and_grads(X, y, dropout=True)[0])
            param[index] = original
            numeric[index] = (values[0] - values[1]) / (2 * STEP)
        assert relative_error(analytic[key], numeric) < 1e-6, key


def test_inverted_dropout_keeps_the_expected_activation() -> None:
    model = NumpyMLP(3, 2, hidden=(4000,), dropout=0.5, dtype="float64", seed=0)
    X = np.ones((1, 3))
    out, bufs = model._forward(X, training=True, dropout=True, update_stats=False)
    kept = bufs["mask"][0] > 0
    assert 0.45 < kept.mean() < 0.55
    np.testing.assert_allclose(bufs["mask"][0][kept], 2.0)
    # E[dropped activation] = activation: the mean over 4000 units stays close
    assert bufs["drop"][0].mean() == pytest.approx(bufs["a"][0].mean(), rel=0.1)


def test_init_he_glorot_never_zero_and_output_bias_from_priors() -> None:
    y = np.array([0] * 70 + [1] * 20 + [2] * 10)
    relu = NumpyMLP(400, 3, hidden=(400,), activation="relu", dtype="float64", y_train=y)
    tanh = NumpyMLP(400, 3, hidden=(400,), activation="tanh", dtype="float64", y_train=y)
    assert np.std(relu.params["W0"]) == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert np.std(tanh.params["W0"]) == pytest.approx(math.sqrt(2 / 800), rel=0.02)
    assert all(np.any(relu.params[k] != 0) for k in relu.weight_keys)
    proba = np.exp(relu.params["b1"]) / np.exp(relu.params["b1"]).sum()
    np.testing.assert_allclose(proba, [0.7, 0.2, 0.1], rtol=1e-12)
    assert init_output_bias("regression", 1, np.array([1.0, 2.0, 6.0]))[0] == pytest.approx(3.0)
    # an absent class still gets a finite logit
    assert np.all(np.isfinite(init_output_bias("classification", 4, np.array([0, 1, 1]))))


def test_batch_norm_running_statistics_and_eval_mode() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(loc=2.0, scale=3.0, size=(64, 3))
    model = NumpyMLP(3, 2, hidden=(5,), batch_norm=True, dtype="float64", seed=1)
    z = X @ model.params["W0"]
    for _ in range(200):
        model.loss_and_grads(X, np.zeros(64, dtype=np.int64), dropout=False)
    np.testing.assert_allclose(model.buffers["running_mean0"], z.mean(axis=0), rtol=1e-8)
    np.testing.assert_allclose(model.buffers["running_var0"], z.var(axis=0, ddof=1), rtol=1e-8)
    # eval mode with converged running stats equals train mode (up to the n/(n-1) variance factor)
    train_out, _ = model._forward(X, training=True, dropout=False, update_stats=False)
    train_out = train_out.copy()
    np.testing.assert_allclose(model.forward(X), train_out, atol=0.05)


def test_params_roundtrip_and_shape_errors() -> None:
    a = NumpyMLP(4, 3, hidden=(6,), batch_norm=True, seed=0)
    b = NumpyMLP(4, 3, hidden=(6,), batch_norm=True, seed=1)
    X = np.random.default_rng(0).normal(size=(5, 4))
    assert not np.allclose(a.forward(X), b.forward(X))
    b.set_params(a.get_params())
    np.testing.assert_array_equal(a.forward(X), b.forward(X))
    with pytest.raises(InputError, match="missing"):
        b.set_params({"W0": a.params["W0"]})
    bad = a.get_params()
    bad["W0"] = np.zeros((3, 3))
    with pytest.raises(InputError, match="shape"):
        b.set_params(bad)
    with pytest.raises(InputError, match=r"shape \(n, 4\)"):
        a.predict(np.zeros((2, 5)))
    with pytest.raises(ConfigError):
        NumpyMLP(4, 1, task="classification")


def test_predict_proba_rows_sum_to_one_and_predict_matches() -> None:
    X = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    model = NumpyMLP(4, 3, hidden=(6,))
    proba = model.predict_proba(X)
    assert proba.shape == (10, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(model.predict(X), proba.argmax(axis=1))


def test_adam_and_sgd_match_reference_formulas() -> None:
    p = {"W": np.array([1.0, -2.0])}
    g = {"W": np.array([0.5, 0.25])}
    adam = Adam(p, weight_decay=0.1, decay_keys=["W"])
    adam.step(g, lr=0.01)
    # step 1: m_hat = g, v_hat = g^2 -> update = lr * sign(g); decay first: p *= 1 - lr * wd
    expected = np.array([1.0, -2.0]) * (1 - 0.001) - 0.01 * g["W"] / (np.abs(g["W"]) + 1e-8)
    np.testing.assert_allclose(p["W"], expected, rtol=1e-12)
    q = {"W": np.array([1.0])}
    sgd = SGD(q, momentum=0.9, nesterov=True)
    sgd.step({"W": np.array([1.0])}, lr=0.1)  # v = 1; step = g + 0.9 v = 1.9
    sgd.step({"W": np.array([1.0])}, lr=0.1)  # v = 1.9; step = 1 + 1.71 = 2.71
    np.testing.assert_allclose(q["W"], [1.0 - 0.19 - 0.271], rtol=1e-12)


def test_lr_schedules() -> None:
    kw = dict(lr=1.0, total_steps=100)
    assert lr_at(0, schedule="cosine", **kw) == pytest.approx(1.0)
    assert lr_at(50, schedule="cosine", **kw) == pytest.approx(0.5)
    assert lr_at(100, schedule="cosine", **kw) == pytest.approx(0.0)
    assert lr_at(4, schedule="constant", warmup_steps=10, **kw) == pytest.approx(0.5)
    assert lr_at(25, schedule="step", step_size=10, gamma=0.5, **kw) == pytest.approx(0.25)
    assert lr_at(10, schedule="cosine", warmup_steps=10, **kw) == pytest.approx(1.0)
