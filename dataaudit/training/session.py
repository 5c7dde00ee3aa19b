"""One training session: search (optional) -> train -> ensembles (optional), written once.

``dataaudit train`` and ``dataaudit run`` both call :func:`train_session`. The artifact folder is
loaded and verified once (``training.data.load_train_data``, through ``io.load_artifacts``) and
the same arrays serve the search, the training and the ensembles.

Where the session writes, inside ``out`` (the caller owns the folder as an output set):
``search.json`` (with a search), the training files of ``api.save_training``, and
``ensemble/`` (with ensembles). The caller decides what to do with :attr:`SessionResult.sections`
(the search/ensemble section of a report).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dataaudit.training.api import TrainingReport, train_loaded
from dataaudit.training.config import TrainConfig
from dataaudit.training.data import TrainData, load_train_data

if TYPE_CHECKING:
    from dataaudit.report.section import Section
    from dataaudit.training.ensemble import EnsembleReport
    from dataaudit.training.search import SearchResult, Trial

__all__ = ["SessionResult", "train_session"]


def _say_nothing(message: str) -> None:
    return None


def format_scores(scores: dict[str, float]) -> str:
    """Scores for a person, four significant digits: ``loss 0.1362, accuracy 0.9639``."""
    return ", ".join(f"{name} {value:.4g}" for name, value in scores.items())


@dataclass
class SessionResult:
    """What one session produced: the single model's report, the search, the ensembles."""

    report: TrainingReport = field(repr=False)
    config: TrainConfig  # the configuration trained (the search's best when there was a search)
    search: SearchResult | None = field(default=None, repr=False)
    ensemble: EnsembleReport | None = field(default=None, repr=False)
    sections: list[Section] = field(default_factory=list, repr=False)

    @property
    def final(self) -> dict[str, Any]:
        """The final model's test accuracy and its name (``single`` or the chosen ensemble)."""
        accuracy = self.report.metrics.get("test_accuracy")
        if self.ensemble is None:
            return {"test_accuracy": accuracy, "final_model": "single"}
        test = self.ensemble.test or {}
        return {"test_accuracy": test.get("accuracy", accuracy), "final_model": self.ensemble.chosen}


def train_session(
    artifacts: str | Path,
    config: TrainConfig,
    out: str | Path,
    *,
    search_trials: int = 0,
    search_rounds: int = 2,
    ensemble: int = 0,
    workers: int | None = None,
    scheduler: Any = None,
    run_checks: bool = True,
    write_html: bool = True,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    on_trial: Callable[[Trial], None] | None = None,
    on_train_start: Callable[[TrainConfig], None] | None = None,
    say: Callable[[str], None] = _say_nothing,
    data: TrainData | None = None,
    say_test: bool = True,
) -> SessionResult:
    """Search ``search_trials`` configurations (if any), train the best, compare ensembles of ``ensemble``.

    Parameters
    ----------
    artifacts : str or Path
        Folder written by ``dataaudit fit-transform``; read and verified once.
    config : TrainConfig
        The configuration (the search's base when searching).
    out : str or Path
        The training output folder.
    search_trials, search_rounds : int
        Random-search trials (0: no search) and coarse-to-fine rounds.
    ensemble : int
        Members per ensemble to compare on val (0: none).
    workers, scheduler
        Search/ensemble workers (joblib's loky processes, or a Dask scheduler).
    run_checks, write_html : bool
        As for ``train_artifacts``.
    on_log, on_trial, on_train_start, say : callable, optional
        Each history row; each search trial; the configuration about to be trained; one line per
        search/ensemble stage.
    data : TrainData, optional
        Arrays already loaded from ``artifacts`` (then nothing is read again).
    say_test : bool
        Put the chosen ensemble's test scores in its ``say`` line (``dataaudit run`` prints the
        test score once, at its end, and passes False).

    Returns
    -------
    SessionResult
    """
    artifacts = Path(artifacts)
    out = Path(out)
    if data is None:
        data = load_train_data(artifacts)
    search_result = None
    if search_trials:
        from dataaudit.training.search import random_search, save_search

        search_result = random_search(data, config, n_trials=search_trials, rounds=search_rounds, workers=workers,
                                      scheduler=scheduler, seed=config.seed, on_trial=on_trial)
        save_search(search_result, out)
        config = search_result.best_config
        say(f"search: {len(search_result.trials)} trials, best trial {search_result.best.index}, "
            f"val loss {search_result.best.val_loss:.4f}")
    if on_train_start is not None:
        on_train_start(config)
    report = train_loaded(data, config, out, on_log=on_log, run_checks=run_checks, write_html=write_html)
    ensemble_report = None
    if ensemble:
        from dataaudit.training.ensemble import compare_ensembles, save_ensemble

        ensemble_report = compare_ensembles(data, config, k=ensemble, search=search_result, workers=workers,
                                            scheduler=scheduler)
        save_ensemble(ensemble_report, out / "ensemble")
        chosen = ensemble_report.row(ensemble_report.chosen)
        say(f"ensembles: chose {chosen.kind} (val loss {chosen.val_loss:.4f})"
            + (f"; test {format_scores(ensemble_report.test)}" if ensemble_report.test and say_test else ""))
    sections: list[Section] = []
    if search_result is not None or ensemble_report is not None:
        from dataaudit.training.search_section import search_section

        sections.append(search_section(search_result, ensemble_report))
    return SessionResult(report=report, config=config, search=search_result, ensemble=ensemble_report,
                         sections=sections)
