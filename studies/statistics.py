"""The study's statistics, as Agarwal et al. (2021) ask of deep RL results,
computed with their `rliable` package: interquartile means (IQM) with 95%
stratified bootstrap confidence intervals, probabilities of improvement and
performance profiles, per level and task family and aggregated over them.

Scores come from run summaries (studies/study.py): `success` is the fraction
of the greedy evaluator's episodes in the last quarter of the budget that
solved the task; `normalised_return` puts the evaluator's task return there
between a uniformly random policy's (0) and the best run's on that level and
task (1).
"""

import contextlib
import hashlib
import json
import os
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from absl import logging
import numpy as np
from rliable import library as rly
from rliable import metrics

# rliable 1.2 draws its stratified resamples from numpy's global generator
# (np.random.choice), whatever `random_state` says (and arch 7 warns that
# `random_state` is deprecated): each estimate here seeds the global
# generator instead, so the same scores always give the same intervals.
CONFIDENCE_SIZE = 0.95
BOOTSTRAP_REPS = 2000
# rliable's probability of improvement runs a Mann-Whitney test per cell and
# resample (about 6 ms each): its interval gets fewer resamples.
IMPROVEMENT_BOOTSTRAP_REPS = 200
Cell = Tuple[str, str]  # (level, family).
# Where a report keeps the intervals it computed, in its results directory.
CACHE_NAME = '.statistics_cache.json'

# Interval estimates by what determines them (scores, seed, resamples): a
# study's report after one more slice recomputes only the cells it changed,
# rather than spending minutes of rliable's bootstrap on all of them again.
_cache: Dict[str, Any] = {}
# The keys estimates read inside `persistent_cache`: what its file keeps.
_used: Optional[set] = None


def _key(kind: str, arrays: Sequence[np.ndarray], *settings: Any) -> str:
  digest = hashlib.sha256(f'{kind}{settings}'.encode())
  for array in arrays:
    array = np.ascontiguousarray(array, dtype=np.float64)
    digest.update(repr(array.shape).encode())
    digest.update(array.tobytes())
  return digest.hexdigest()


def _cached(key: str, compute: Callable[[], Any]) -> Any:
  """compute(), as JSON values (arrays as lists), from the cache if there."""
  if key not in _cache:
    _cache[key] = json.loads(json.dumps(compute(), default=lambda x: (
        np.asarray(x, dtype=float).tolist())))
  if _used is not None:
    _used.add(key)
  return _cache[key]


@contextlib.contextmanager
def persistent_cache(path: str) -> Iterator[None]:
  """Keeps the interval estimates read inside the block in `path` (a JSON
  file) for the next report, and only those, so cells a study no longer has
  drop out; a file that cannot be read is reported and rebuilt, since
  everything in it can be recomputed."""
  global _used
  _used = set()
  try:
    with open(path) as f:
      _cache.update(json.load(f))
  except FileNotFoundError:
    pass
  except (OSError, ValueError) as error:
    logging.warning('Statistics cache %s unreadable (%s); recomputing it.',
                    path, error)
  try:
    yield
  finally:
    kept, _used = {key: _cache[key] for key in _used}, None
    with open(path + '.tmp', 'w') as f:
      json.dump(kept, f)
    os.replace(path + '.tmp', path)


def score_table(summaries: Sequence[Dict[str, Any]], score: str,
                random_returns: Optional[Dict[str, Dict[str, float]]] = None
                ) -> Dict[Cell, Dict[str, np.ndarray]]:
  """{(level, family): {arm: scores over seeds, in seed order}}.
  `score` is a summary field ('success', 'actor_success') or
  'normalised_return', which needs each level's random returns."""
  table: Dict[Cell, Dict[str, Dict[int, float]]] = {}
  for summary in summaries:
    cell = (summary['level'], summary['family'])
    table.setdefault(cell, {}).setdefault(summary['arm'], {})[
        summary['seed']] = summary['return' if score == 'normalised_return'
                                   else score]
  result = {}
  for cell, arms in table.items():
    result[cell] = {arm: np.array([by_seed[s] for s in sorted(by_seed)],
                                  float) for arm, by_seed in arms.items()}
    if score == 'normalised_return':
      low = random_returns[cell[0]][cell[1]]
      high = max(v.max() for v in result[cell].values())
      span = high - low if high > low else 1.
      result[cell] = {arm: (v - low) / span
                      for arm, v in result[cell].items()}
  return result


def matrix(table: Dict[Cell, Dict[str, np.ndarray]], arm: str,
           cells: Sequence[Cell]) -> np.ndarray:
  """[runs, cells] scores of `arm` for rliable: one column per cell, as
  many rows as the arm's fewest seeds over those cells."""
  columns = [table[cell][arm] for cell in cells]
  runs = min(len(c) for c in columns)
  return np.stack([c[:runs] for c in columns], axis=1)


def cells_with(table: Dict[Cell, Dict[str, np.ndarray]],
               arms: Sequence[str]) -> List[Cell]:
  """The cells where every one of `arms` has at least one run."""
  return sorted(cell for cell, by_arm in table.items()
                if all(arm in by_arm for arm in arms))


def _iqm(scores: np.ndarray) -> np.ndarray:
  return np.array([metrics.aggregate_iqm(scores)])


def iqm_interval(scores: np.ndarray, seed: int = 0,
                 reps: Optional[int] = None) -> Tuple[float, float, float]:
  """(IQM, low, high) of [runs, cells] scores: the 95% stratified bootstrap
  interval, from resamples seeded `seed`."""
  reps = reps or BOOTSTRAP_REPS

  def compute():
    np.random.seed(seed)
    point, interval = rly.get_interval_estimates(
        {'scores': scores}, _iqm, reps=reps,
        confidence_interval_size=CONFIDENCE_SIZE)
    return (float(point['scores'][0]), float(interval['scores'][0, 0]),
            float(interval['scores'][1, 0]))
  return tuple(_cached(_key('iqm', [scores], seed, reps), compute))


def iqm_intervals(matrices: Dict[str, np.ndarray], seed: int = 0,
                  reps: Optional[int] = None
                  ) -> Dict[str, Tuple[float, float, float]]:
  """{arm: iqm_interval of its scores}."""
  return {arm: iqm_interval(scores, seed, reps)
          for arm, scores in matrices.items()}


def probability_of_improvement(x: np.ndarray, y: np.ndarray, seed: int = 0
                               ) -> Tuple[float, float, float]:
  """P(X > Y) of arm scores x over y ([runs, cells] each), with its 95%
  stratified bootstrap interval."""
  def compute():
    np.random.seed(seed)
    point, interval = rly.get_interval_estimates(
        {'pair': (x, y)}, metrics.probability_of_improvement,
        reps=IMPROVEMENT_BOOTSTRAP_REPS,
        confidence_interval_size=CONFIDENCE_SIZE)
    return (float(point['pair']), float(interval['pair'][0]),
            float(interval['pair'][1]))
  return tuple(_cached(
      _key('improvement', [x, y], seed, IMPROVEMENT_BOOTSTRAP_REPS), compute))


def performance_profiles(matrices: Dict[str, np.ndarray],
                         thresholds: np.ndarray, seed: int = 0
                         ) -> Tuple[Dict[str, np.ndarray],
                                    Dict[str, np.ndarray]]:
  """Fraction of runs scoring above each threshold, with 95% intervals."""
  def compute():
    np.random.seed(seed)
    return rly.create_performance_profile(
        matrices, thresholds, reps=BOOTSTRAP_REPS,
        confidence_interval_size=CONFIDENCE_SIZE)
  arms = sorted(matrices)
  profiles, intervals = _cached(_key(
      f'profiles{arms}', [thresholds, *(matrices[a] for a in arms)], seed,
      BOOTSTRAP_REPS), compute)
  return ({arm: np.array(v) for arm, v in profiles.items()},
          {arm: np.array(v) for arm, v in intervals.items()})


def steps_to_threshold(summary: Dict[str, Any], threshold: float,
                       curve: str = 'evaluator_success') -> float:
  """The first budget point where the curve reaches `threshold`; infinity
  for a run that never does (counted as unsolved, not dropped)."""
  for steps, value in zip(summary['budget_points'], summary['curves'][curve]):
    if value is not None and value >= threshold:
      return float(steps)
  return float('inf')
