"""NGU's intrinsic reward, computed online by each actor (as docs/agents.md
states it).

  r_t = r_episodic * min(max(alpha_t, 1), L)

Episodic novelty, from the episode's memory M of embeddings f(s_0..s_{t-1}):
  d_i^2     squared distances from f(s_t) to its k nearest neighbours in M;
  d_m^2     running mean of all squared k-NN distances seen so far;
  K_i       = eps / (max(d_i^2 / d_m^2 - xi, 0) + eps);
  s         = sqrt(sum_i K_i) + c;
  r_episodic = 1 / s, or 0 when s exceeds the maximum similarity s_m.
M is emptied at each episode start; the first step of an episode, with nothing
to compare against, gets r_episodic = 0.

Life-long novelty, from RND's prediction error err_t = ||g_hat(s_t) - g(s_t)||^2:
  alpha_t = 1 + (err_t - mean(err)) / std(err), with running statistics.

Everything is computed for a batch of environments at once (an actor's K
environments): each has its own memory, d_m^2 and RND statistics, exactly as
K single-environment actors would keep, and the k-NN search is one vectorised
computation over all their memories. Calls take the embeddings (and errors)
of environments `indices`, all of them by default.
"""

from typing import Optional, Sequence, Tuple

import numpy as np

from behavior_transfer.agents.ngu import config as ngu_config

Indices = Optional[Sequence[int]]


def _rows(indices: Indices, count: int) -> np.ndarray:
  return np.arange(count) if indices is None else np.asarray(indices, np.int64)


def _batch(values, rows: np.ndarray, what: str, ndim: int) -> np.ndarray:
  """`values` as float64 with one entry (of `ndim` - 1 dimensions) per row;
  anything else is refused with the shape the call needs."""
  values = np.asarray(values, np.float64)
  if values.ndim != ndim or len(values) != len(rows):
    needed = (f'[{len(rows)}, embedding size]' if ndim == 2 else
              f'[{len(rows)}]')
    raise ValueError(
        f'{what} take one row per environment: shape {needed} for '
        f'{len(rows)} environment(s), got shape {values.shape}. For one '
        'environment, pass a batch of one (e.g. values[None]).')
  return values


class RunningMeanStd:
  """Mean and standard deviation of the values seen, one stream per
  environment. Over the first `horizon` values of a stream they are exact
  (Welford's method); after that each new value weighs 1 / `horizon`, so the
  statistics follow the latest ~`horizon` values. 0: every value ever seen
  weighs the same."""

  def __init__(self, num_streams: int = 1, horizon: int = 0):
    if horizon < 0:
      raise ValueError(f'horizon must be a count of values (0: all of them), '
                       f'got {horizon}.')
    self._horizon = horizon
    self.count = np.zeros(num_streams)
    self.mean = np.zeros(num_streams)
    self.variance = np.zeros(num_streams)

  def update(self, rows: np.ndarray, values: np.ndarray) -> None:
    self.count[rows] += 1
    weight = 1. / self.count[rows]
    if self._horizon:
      weight = np.maximum(weight, 1. / self._horizon)
    delta = values - self.mean[rows]
    self.mean[rows] += weight * delta
    # With weight 1/n this is the population variance of the n values.
    self.variance[rows] = (1. - weight) * (
        self.variance[rows] + weight * np.square(delta))

  def std(self, rows: np.ndarray) -> np.ndarray:
    return np.sqrt(self.variance[rows])


class EpisodicNovelty:
  """r_episodic from per-environment memories emptied at episode starts."""

  def __init__(self, config: ngu_config.NGUConfig, num_environments: int = 1):
    self._config = config
    self._count = num_environments
    if config.episodic_memory_capacity < 1:
      raise ValueError('episodic_memory_capacity must be at least 1, got '
                       f'{config.episodic_memory_capacity}.')
    self._capacity = config.episodic_memory_capacity
    # [K, buffer, D]; environment i's memory is row i's first
    # min(sizes[i], capacity) entries, written round-robin once full.
    self._memory = None
    self._sizes = np.zeros(num_environments, np.int64)  # Embeddings seen.
    # d_m^2: the mean of every k-NN squared distance each environment saw.
    self._distance_sums = np.zeros(num_environments)
    self._distance_counts = np.zeros(num_environments)

  def reset(self, indices: Indices = None) -> None:
    """Empties the memories of `indices` at their episode starts (d_m^2
    carries on)."""
    self._sizes[_rows(indices, self._count)] = 0

  def __call__(self, embeddings: np.ndarray,
               indices: Indices = None) -> np.ndarray:
    """r_episodic of each environment's new embedding, which then joins its
    memory; 0 for an environment whose memory is empty."""
    config = self._config
    rows = _rows(indices, self._count)
    embeddings = _batch(embeddings, rows, 'Embeddings', 2)
    self._make_room(embeddings.shape[-1])
    sizes = self._sizes[rows]
    stored = np.minimum(sizes, self._capacity)
    longest = int(stored.max()) if len(rows) else 0
    rewards = np.zeros(len(rows))
    if longest:
      memories = self._memory[rows, :longest]
      squared = np.sum((memories - embeddings[:, None]) ** 2, axis=-1)
      squared[np.arange(longest)[None] >= stored[:, None]] = np.inf
      k = min(config.num_neighbours, longest)
      if k < longest:
        squared = np.partition(squared, k - 1, axis=1)
      nearest = squared[:, :k]  # Unordered; inf where a memory is short.
      found = np.isfinite(nearest)
      self._distance_sums[rows] += np.where(found, nearest, 0.).sum(axis=1)
      self._distance_counts[rows] += found.sum(axis=1)
      mean = self._distance_sums[rows] / np.maximum(
          self._distance_counts[rows], 1)
      normalised = nearest / np.maximum(mean, 1e-12)[:, None]
      normalised = np.maximum(normalised - config.cluster_distance, 0.)
      kernel = config.kernel_epsilon / (normalised + config.kernel_epsilon)
      similarity = np.sqrt(np.sum(kernel, axis=1)) + config.pseudo_count_constant
      rewards = np.where(
          (sizes == 0) | (similarity > config.maximum_similarity), 0.,
          1. / similarity)
    self._memory[rows, sizes % self._capacity] = embeddings
    self._sizes[rows] += 1
    return rewards

  def _make_room(self, size: int) -> None:
    """Makes room for one more embedding per environment, doubling the
    buffer up to the capacity when one is full (no per-step copy of whole
    episodes)."""
    if self._memory is None or self._memory.shape[2] != size:
      self._memory = np.zeros((self._count, min(64, self._capacity), size))
      self._sizes[:] = 0
    elif (self._sizes.max() == self._memory.shape[1] < self._capacity):
      grown = np.zeros((self._count, min(2 * self._memory.shape[1],
                                         self._capacity), size))
      grown[:, :self._memory.shape[1]] = self._memory
      self._memory = grown


class LifelongModulator:
  """alpha_t from RND errors with per-environment running statistics,
  clipped to [1, L]."""

  def __init__(self, max_modulation: float, num_environments: int = 1,
               horizon: int = 0):
    """`horizon`: the statistics follow each environment's latest ~horizon
    errors (`RunningMeanStd`); 0: all its errors since it started."""
    self._max_modulation = max_modulation
    self._count = num_environments
    self._errors = RunningMeanStd(num_environments, horizon)

  def __call__(self, errors: np.ndarray, indices: Indices = None) -> np.ndarray:
    rows = _rows(indices, self._count)
    errors = _batch(errors, rows, 'RND errors', 1)
    self._errors.update(rows, errors)
    std = self._errors.std(rows)
    alpha = 1. + (errors - self._errors.mean[rows]) / np.where(std > 0, std, 1.)
    alpha = np.where(std > 0, alpha, 1.)
    return np.clip(alpha, 1., self._max_modulation)

  def normalised(self, errors: np.ndarray,
                 indices: Indices = None) -> np.ndarray:
    """err_t / std(err): the RND-only baseline's reward."""
    rows = _rows(indices, self._count)
    errors = _batch(errors, rows, 'RND errors', 1)
    self._errors.update(rows, errors)
    std = self._errors.std(rows)
    return np.where(std > 0, errors / np.where(std > 0, std, 1.), 0.)


class IntrinsicRewardFunction:
  """The intrinsic reward of the configured kind, per environment."""

  def __init__(self, config: ngu_config.NGUConfig, num_environments: int = 1):
    self._kind = config.intrinsic_reward
    self._count = num_environments
    self._episodic = EpisodicNovelty(config, num_environments)
    self._lifelong = LifelongModulator(config.max_modulation, num_environments,
                                       config.rnd_statistics_horizon)

  def reset(self, indices: Indices = None) -> None:
    self._episodic.reset(indices)

  def __call__(self, embeddings: Optional[np.ndarray],
               rnd_errors: Optional[np.ndarray],
               indices: Indices = None) -> np.ndarray:
    return self.with_modulation(embeddings, rnd_errors, indices)[0]

  def with_modulation(self, embeddings: Optional[np.ndarray],
                      rnd_errors: Optional[np.ndarray],
                      indices: Indices = None
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """The rewards and NGU's life-long modulation alpha, clipped to [1, L],
    that scaled them (NaN for the other kinds)."""
    Kind = ngu_config.IntrinsicReward  # pylint: disable=invalid-name
    count = len(_rows(indices, self._count))
    if self._kind == Kind.CONSTANT:
      return np.ones(count), np.full(count, np.nan)
    if self._kind == Kind.RND:
      return (self._lifelong.normalised(rnd_errors, indices),
              np.full(count, np.nan))
    alpha = self._lifelong(rnd_errors, indices)
    return self._episodic(embeddings, indices) * alpha, alpha
