"""What the learning benchmarks share: reading evaluator curves of finished runs."""

import os
from typing import Optional, Tuple

import numpy as np

from behavior_transfer.launching import reports


def finished(run_dir: str, max_actor_steps: int) -> bool:
  """Whether `run_dir` holds a run that already used `max_actor_steps`."""
  return (os.path.exists(os.path.join(run_dir, 'config.json')) and
          reports.summarize(run_dir)['actor_steps'] >= max_actor_steps)


def evaluator_curve(run_dir: str, window: int = 3, min_periods: int = 1,
                    column: str = 'episode_return'):
  """(actor steps, the evaluator's `column` (its return by default) averaged
  over the last `window` episodes, NaN until `min_periods` episodes exist)."""
  evaluator = reports.read_logs(run_dir)['evaluator']
  smoothed = evaluator[column].rolling(window, min_periods).mean()
  return evaluator['actor_steps'].to_numpy(), smoothed.to_numpy()


def evaluator_results(run_dir: str, threshold: float
                      ) -> Tuple[Optional[int], float]:
  """Actor steps when the evaluator's mean over 3 episodes first reached
  `threshold` (None if never; a lucky first episode alone does not count),
  and its final mean of 3."""
  steps, smoothed = evaluator_curve(run_dir, min_periods=3)
  reached = steps[smoothed >= threshold]
  first = int(reached[0]) if len(reached) else None
  return first, float(smoothed[-1])


def on_grid(steps: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
  """A curve logged at irregular steps, held constant onto a common grid
  (before its first point it is the first value)."""
  index = np.clip(np.searchsorted(steps, grid, side='right') - 1, 0, None)
  return values[index]
