"""A variable cache node between the learner and many actors."""

import threading
import time
from typing import List, Sequence

import numpy as np


class FixedVariables:
  """A variable source that serves one list of arrays under every name, as
  the learner serves its network's variables: for acting with fixed weights
  (a finished run's final policy) and for load tests without a learner."""

  def __init__(self, variables: Sequence[np.ndarray]):
    self._variables = list(variables)

  def get_variables(self, names: Sequence[str]) -> List[List[np.ndarray]]:
    return [self._variables for _ in names]


class VariableCache:
  """Serves the learner's variables to actors from a copy refreshed at most
  every `refresh_seconds`, so that many actors cost the learner one fetch.

  Launchpad 0.5 has no CacherNode; this is its role as a CourierNode.
  """

  def __init__(self, source, refresh_seconds: float = 2.0):
    self._source = source
    self._refresh_seconds = refresh_seconds
    self._lock = threading.Lock()
    self._cache = {}  # names -> (fetch time, variables)

  def get_variables(self, names):
    key = tuple(names)
    with self._lock:
      fetched_at, variables = self._cache.get(key, (None, None))
      if fetched_at is None or time.time() - fetched_at > self._refresh_seconds:
        variables = self._source.get_variables(names)
        self._cache[key] = (time.time(), variables)
      return variables
