"""Coarse-to-fine random hyperparameter search for the MLP trainer, run by parallel workers.

Random search, not grid search (Bergstra & Bengio 2012; CS231n): the learning rate and the weight
decay are sampled log-uniformly, the hidden width and the dropout uniformly. The search runs in
rounds: after each round the ranges narrow around the top-k trials, and the next round samples
inside the narrowed ranges. Trials are judged on the validation split only; the test split is
stripped from the data before any trial sees it (``workers.train_val_only``), so it cannot influence the
choice even by accident.

Who trains the trials (the master samples, collects and narrows; workers fit):

- ``workers=None`` or ``1``: serially, in this process.
- ``workers=N``: joblib's loky process pool; joblib memory-maps the arrays to the workers, so
  they are not pickled again for every trial.
- ``scheduler="local"`` or ``scheduler="HOST:PORT"`` (``dataaudit[dask]``): joblib's Dask
  backend on a ``LocalCluster``, the user's own scheduler or a given ``distributed.Client``; the
  data is scattered to the workers once. Workers of a remote cluster need dataaudit installed.

Examples
--------
>>> from dataaudit.training.search import SearchSpace
>>> SearchSpace(lr=(1e-3, 1e-1), width=None).searched()
('lr', 'weight_decay', 'dropout')
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dataaudit.exceptions import ArtifactError, ConfigError
from dataaudit.training.config import TrainConfig
from dataaudit.training.search_space import SearchSpace, _rank_key, narrow_space, sample_configs
from dataaudit.training.workers import TrialRunner

if TYPE_CHECKING:
    from dataaudit.training.loop import TrainData

__all__ = [
    "SearchSpace",
    "Trial",
    "SearchResult",
    "random_search",
    "sample_configs",
    "narrow_space",
    "save_search",
    "format_trial_line",
    "load_search",
    "SEARCH_FORMAT_VERSION",
]

SEARCH_FORMAT_VERSION = 1

@dataclass
class Trial:
    """One trained configuration of the search.

    ``sampled`` holds the values drawn for the searched parameters; ``val_loss`` and
    ``val_accuracy`` are the best validation numbers of the run (early-stopping point);
    ``val_accuracy`` is ``None`` for regression. A trial that failed has ``val_loss = inf`` and its
    error message in ``error``.
    """

    index: int
    round: int
    config: TrainConfig
    sampled: dict[str, float]
    val_loss: float
    val_accuracy: float | None
    best_step: int | None
    seconds: float
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (a non-finite loss becomes ``None``)."""
        return {
            "index": self.index,
            "round": self.round,
            "sampled": dict(self.sampled),
            "val_loss": self.val_loss if math.isfinite(self.val_loss) else None,
            "val_accuracy": self.val_accuracy,
            "best_step": self.best_step,
            "seconds": self.seconds,
            "error": self.error,
            "config": self.config.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trial:
        """Inverse of ``to_dict``."""
        loss = d.get("val_loss")
        return cls(
            index=int(d["index"]),
            round=int(d["round"]),
            config=TrainConfig.from_dict(d["config"]),
            sampled={k: float(v) for k, v in d["sampled"].items()},
            val_loss=math.inf if loss is None else float(loss),
            val_accuracy=None if d.get("val_accuracy") is None else float(d["val_accuracy"]),
            best_step=None if d.get("best_step") is None else int(d["best_step"]),
            seconds=float(d["seconds"]),
            error=d.get("error"),
        )


@dataclass
class SearchResult:
    """Everything a search produced.

    Attributes
    ----------
    trials : list of Trial
        In the order they were sampled (``trial.index``).
    best : Trial
        The trial with the lowest validation loss over all rounds.
    spaces : list of SearchSpace
        The space each round sampled from: ``spaces[0]`` is the given one, later ones are narrowed.
    seed, n_trials, rounds, top_k, backend : search settings, kept for the record.
    seconds : float
        Wall-clock time of the whole search.
    """

    trials: list[Trial]
    best: Trial
    spaces: list[SearchSpace]
    seed: int
    n_trials: int
    rounds: int
    top_k: int
    runner: str
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def best_config(self) -> TrainConfig:
        """The configuration of the best trial."""
        return self.best.config

    def ranked(self) -> list[Trial]:
        """Trials sorted best first (validation loss, then higher accuracy, then index)."""
        return sorted(self.trials, key=_rank_key)

    def top_configs(self, k: int) -> list[TrainConfig]:
        """The configurations of the ``k`` best successful trials."""
        return [t.config for t in self.ranked() if t.error is None][:k]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; ``load_search`` reads it back."""
        return {
            "format_version": SEARCH_FORMAT_VERSION,
            "seed": self.seed,
            "n_trials": self.n_trials,
            "rounds": self.rounds,
            "top_k": self.top_k,
            "runner": self.runner,
            "seconds": self.seconds,
            "best_index": self.best.index,
            "best_config": self.best.config.to_dict(),
            "ranges": [space.ranges() for space in self.spaces],
            "trials": [t.to_dict() for t in self.trials],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SearchResult:
        """Inverse of ``to_dict``.

        Raises
        ------
        ArtifactError
            If the format version is not one this version can read.
        """
        if d.get("format_version") != SEARCH_FORMAT_VERSION:
            raise ArtifactError(
                f"search.json has format_version {d.get('format_version')!r}; this dataaudit reads"
                f" version {SEARCH_FORMAT_VERSION}. Re-run the search."
            )
        trials = [Trial.from_dict(t) for t in d["trials"]]
        by_index = {t.index: t for t in trials}
        return cls(
            trials=trials,
            best=by_index[int(d["best_index"])],
            spaces=[
                SearchSpace.from_dict({name: d_range for name, d_range in r.items()})
                if r
                else SearchSpace(lr=None, weight_decay=None, width=None, dropout=None)
                for r in d["ranges"]
            ],
            seed=int(d["seed"]),
            n_trials=int(d["n_trials"]),
            rounds=int(d["rounds"]),
            top_k=int(d["top_k"]),
            runner=str(d["runner"]),
            seconds=float(d["seconds"]),
        )


# --------------------------------------------------------------------------- the search


def _split_trials(n_trials: int, rounds: int) -> list[int]:
    """Trials per round: as even as possible, the remainder going to the first (widest) rounds."""
    base, extra = divmod(n_trials, rounds)
    return [base + (1 if r < extra else 0) for r in range(rounds)]


def random_search(
    data: TrainData,
    base: TrainConfig,
    *,
    n_trials: int = 16,
    rounds: int = 2,
    space: SearchSpace | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    seed: int = 0,
    top_k: int | None = None,
    on_trial: Callable[[Trial], None] | None = None,
) -> SearchResult:
    """Coarse-to-fine random search over lr, weight decay, width and dropout, judged on val.

    Parameters
    ----------
    data : TrainData
        Train and validation arrays. Its test split, if any, is dropped before anything runs:
        trials never receive it.
    base : TrainConfig
        The configuration every trial starts from; the sampled parameters replace its values.
        All trials share ``base.seed`` so they differ only in the sampled hyperparameters.
    n_trials : int, default 16
        Total number of trials over all rounds (split as evenly as possible).
    rounds : int, default 2
        Number of rounds; each round after the first samples around the top-k of the previous one.
    space : SearchSpace, optional
        The first round's ranges (default ``SearchSpace()``).
    workers : int, optional
        ``None``/``1`` trains serially here; ``N > 1`` uses a spawn process pool of N workers; with
        ``scheduler="local"`` it is the number of Dask workers (default: CPU count).
    scheduler : str or distributed.Client, optional
        ``"local"`` for a Dask ``LocalCluster``, a scheduler address (``"tcp://host:8786"``) to run
        on an existing cluster, or a ``distributed.Client``. Needs ``dataaudit[dask]``.
    seed : int, default 0
        Seeds the sampling. The same seed, data and base give the same trials and the same best.
    top_k : int, optional
        How many of a round's best trials define the next round's ranges
        (default ``max(2, ceil(trials_in_round / 4))``).
    on_trial : callable, optional
        Called with each finished ``Trial`` (in completion order), e.g. to print a line.

    Returns
    -------
    SearchResult

    Raises
    ------
    ConfigError
        On invalid arguments, when Dask is requested but not installed or unreachable, or when
        every trial failed.

    Examples
    --------
    >>> result = random_search(data, TrainConfig(hidden=(64,), max_epochs=20), n_trials=8)  # doctest: +SKIP
    >>> result.best_config.lr  # doctest: +SKIP
    """
    if rounds < 1:
        raise ConfigError(f"rounds={rounds!r} must be >= 1.")
    if n_trials < rounds:
        raise ConfigError(
            f"n_trials={n_trials!r} must be at least rounds={rounds!r} (each round needs a trial)."
        )
    if top_k is not None and top_k < 1:
        raise ConfigError(f"top_k={top_k!r} must be >= 1.")
    space = space or SearchSpace()
    per_round = _split_trials(n_trials, rounds)
    chosen_top_k = top_k or max(2, math.ceil(per_round[0] / 4))
    start = time.perf_counter()
    trials: list[Trial] = []
    spaces = [space]
    with TrialRunner(data, workers, scheduler) as runner:
        for round_index, count in enumerate(per_round):
            rng = np.random.default_rng(np.random.SeedSequence([seed, round_index]))
            drawn = sample_configs(base, spaces[-1], count, rng)
            first = len(trials)
            round_trials: list[Trial | None] = [None] * count
            for position, outcome in runner.run([config for config, _ in drawn]):
                config, values = drawn[position]
                trial = Trial(
                    index=first + position,
                    round=round_index,
                    config=config,
                    sampled=values,
                    val_loss=outcome.get("val_loss", math.inf),
                    val_accuracy=outcome.get("val_accuracy"),
                    best_step=outcome.get("best_step"),
                    seconds=float(outcome["seconds"]),
                    error=outcome.get("error"),
                )
                round_trials[position] = trial
                if on_trial is not None:
                    on_trial(trial)
            finished = [t for t in round_trials if t is not None]
            trials.extend(finished)
            if round_index + 1 < rounds:
                good = [
                    t
                    for t in sorted(finished, key=_rank_key)
                    if t.error is None and math.isfinite(t.val_loss)
                ]
                spaces.append(narrow_space(spaces[-1], good[:chosen_top_k]) if good else spaces[-1])
        runner_kind = runner.kind
    succeeded = [t for t in trials if t.error is None and math.isfinite(t.val_loss)]
    if not succeeded:
        first_error = next(
            (t.error for t in trials if t.error), "every validation loss was not finite"
        )
        raise ConfigError(
            f"All {len(trials)} search trials failed; the first error was: {first_error}. Check the"
            " base configuration (try it with `dataaudit train` alone) or narrow the search space."
        )
    return SearchResult(
        trials=trials,
        best=min(succeeded, key=_rank_key),
        spaces=spaces,
        seed=seed,
        n_trials=n_trials,
        rounds=rounds,
        top_k=chosen_top_k,
        runner=runner_kind,
        seconds=time.perf_counter() - start,
    )


def format_trial_line(trial: Trial) -> str:
    """One log line per finished trial, in the trainer's ``a | b | c`` style.

    Examples
    --------
    >>> t = Trial(3, 0, TrainConfig(hidden=(128,), lr=1.2e-3, weight_decay=3e-5, dropout=0.125),
    ...           {}, 0.455, 0.912, 200, 1.34)
    >>> format_trial_line(t)
    'trial 3 (round 0) | lr 1.20e-03 | wd 3.00e-05 | hidden 128 | dropout 0.12 | val loss 0.4550 | val acc 0.912 | 1.3 s'
    """
    parts = [
        f"trial {trial.index} (round {trial.round})",
        f"lr {trial.config.lr:.2e}",
        f"wd {trial.config.weight_decay:.2e}",
        f"hidden {','.join(str(w) for w in trial.config.hidden) or 'linear'}",
        f"dropout {trial.config.dropout:.2f}",
    ]
    if trial.error is not None:
        parts.append(f"failed: {trial.error}")
    else:
        parts.append(f"val loss {trial.val_loss:.4f}")
        if trial.val_accuracy is not None:
            parts.append(f"val acc {trial.val_accuracy:.3f}")
    parts.append(f"{trial.seconds:.1f} s")
    return " | ".join(parts)


# --------------------------------------------------------------------------- saving


def save_search(result: SearchResult, folder: str | Path) -> Path:
    """Write ``folder/search.json`` (atomically, recorded in ``folder/.dataaudit.json``); return its path."""
    from dataaudit.io.output_set import output_folder
    from dataaudit.io.outputs import atomic_write_json

    with output_folder(folder, "train", atomic=False) as target:
        return atomic_write_json(target / "search.json", result.to_dict())


def load_search(path: str | Path) -> SearchResult:
    """Read a ``search.json`` written by ``save_search`` (a folder is also accepted).

    Raises
    ------
    ArtifactError
        If the file is missing, not JSON, or of another format version.
    """
    import json

    path = Path(path)
    if path.is_dir():
        path = path / "search.json"
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ArtifactError(
            f"{path} not found; run `dataaudit train ... --search N` first."
        ) from exc
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path} could not be read as JSON: {exc}.") from exc
    try:
        return SearchResult.from_dict(payload)
    except (ArtifactError, ConfigError):
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(
            f"{path} is not a valid search result: missing or bad field {exc}."
        ) from exc
