"""Epoch time of the NumPy MLP vs the Torch MLP on CPU, same network, same threads.

Default workload (the issue's): 200,000 × 64 inputs → 256 → 256 → 10, batch 256, float32,
Adam, one epoch = shuffle once + 782 training steps (no evaluation). Prints one JSON object.

    python benchmarks/bench_train.py                 # full size
    python benchmarks/bench_train.py --rows 20000    # quick version for a busy machine
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dataaudit.training.config import TrainConfig  # noqa: E402
from dataaudit.training.loop import build_model  # noqa: E402


def one_epoch(model: Any, X: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator) -> float:
    """Seconds for one epoch as ``fit`` runs it: one shuffled copy, contiguous batches."""
    start = time.perf_counter()
    order = rng.permutation(len(X))
    X_epoch, y_epoch = X[order], y[order]
    for first in range(0, len(X), batch_size):
        model.train_step(X_epoch[first : first + batch_size], y_epoch[first : first + batch_size], 1e-3)
    return time.perf_counter() - start


def blas_threads() -> int:
    from threadpoolctl import threadpool_info

    counts = [info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"]
    return max(counts) if counts else 1


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--hidden", default="256,256")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per backend (the best is kept)")
    parser.add_argument("--threads", type=int, default=0, help="BLAS/torch threads (0 = numpy's BLAS default)")
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    threads = args.threads or blas_threads()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.rows, args.features)).astype(args.dtype)
    y = rng.integers(0, args.classes, size=args.rows)
    config = TrainConfig(hidden=args.hidden, batch_size=args.batch_size, dtype=args.dtype)
    results: dict[str, Any] = {
        "workload": {
            "rows": args.rows, "features": args.features, "hidden": list(config.hidden), "classes": args.classes,
            "batch_size": args.batch_size, "dtype": args.dtype, "optimizer": config.optimizer,
            "steps_per_epoch": -(-args.rows // args.batch_size),
        },
        "threads": threads,
        "machine": {"python": platform.python_version(), "processor": platform.machine(), "numpy": np.__version__},
    }
    backends = ["numpy"]
    try:
        import torch

        torch.set_num_threads(threads)
        results["machine"]["torch"] = torch.__version__
        backends.append("torch")
    except ImportError:
        results["torch_skipped"] = "torch is not installed (pip install 'dataaudit[torch]')"
    with threadpool_limits(limits=threads):
        for backend in backends:
            if backend == "torch":
                from dataaudit.training.mlp_torch import TorchMLP

                # Built directly to pin it to the CPU even where CUDA exists: CPU vs CPU.
                model = TorchMLP(args.features, args.classes, hidden=config.hidden, dtype=args.dtype,
                                 y_train=y, device="cpu")
                model.configure_optimizer(config.optimizer)
            else:
                model = build_model(config, args.features, args.classes, "classification", y)
            warm = min(len(X), 20 * args.batch_size)
            one_epoch(model, X[:warm], y[:warm], args.batch_size, np.random.default_rng(1))  # warm-up
            times = [one_epoch(model, X, y, args.batch_size, np.random.default_rng(e)) for e in range(args.epochs)]
            results[f"{backend}_epoch_s"] = min(times)
            results[f"{backend}_epoch_s_all"] = times
            results[f"{backend}_ms_per_step"] = 1000 * min(times) / results["workload"]["steps_per_epoch"]
    if "torch_epoch_s" in results:
        results["numpy_over_torch"] = results["numpy_epoch_s"] / results["torch_epoch_s"]
        results["target"] = "numpy_over_torch <= 1.5"
        results["meets_target"] = results["numpy_over_torch"] <= 1.5
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
