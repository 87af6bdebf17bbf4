"""NGU's intrinsic reward, computed online by each actor (SPEC section 8).

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
"""

from typing import Optional

import numpy as np

from behavior_transfer.agents.ngu import config as ngu_config


class RunningMeanStd:
  """Mean and standard deviation of every value seen (Welford's method)."""

  def __init__(self):
    self.count = 0
    self.mean = 0.
    self._sum_squares = 0.

  def update(self, values) -> None:
    for value in np.ravel(values):
      self.count += 1
      delta = value - self.mean
      self.mean += delta / self.count
      self._sum_squares += delta * (value - self.mean)

  @property
  def std(self) -> float:
    return float(np.sqrt(self._sum_squares / self.count)) if self.count else 0.


class EpisodicNovelty:
  """r_episodic from an episodic memory that is emptied each episode."""

  def __init__(self, config: ngu_config.NGUConfig):
    self._config = config
    self._memory = np.zeros((0, 0))  # Rows [:self._size] are this episode's.
    self._size = 0
    self._distances = RunningMeanStd()  # Its mean is d_m^2.

  def reset(self) -> None:
    """Empties the memory at an episode start (d_m^2 carries on)."""
    self._size = 0

  def __call__(self, embedding: np.ndarray) -> float:
    """r_episodic of `embedding`, which then joins the memory."""
    config = self._config
    embedding = np.asarray(embedding, np.float64)
    if self._size == 0:
      self._remember(embedding)
      return 0.
    squared = np.sum((self._memory[:self._size] - embedding)**2, axis=-1)
    nearest = np.sort(squared)[:config.num_neighbours]
    self._distances.update(nearest)
    self._remember(embedding)
    normalised = nearest / max(self._distances.mean, 1e-12)
    normalised = np.maximum(normalised - config.cluster_distance, 0.)
    kernel = config.kernel_epsilon / (normalised + config.kernel_epsilon)
    similarity = np.sqrt(np.sum(kernel)) + config.pseudo_count_constant
    if similarity > config.maximum_similarity:
      return 0.
    return float(1. / similarity)


  def _remember(self, embedding: np.ndarray) -> None:
    """Appends to the memory, doubling its buffer when full (no per-step
    copy of the whole episode)."""
    if (self._size == len(self._memory) or
        self._memory.shape[1:] != embedding.shape):
      grown = np.zeros((max(2 * self._size, 64),) + embedding.shape)
      if self._size:
        grown[:self._size] = self._memory[:self._size]
      self._memory = grown
    self._memory[self._size] = embedding
    self._size += 1


class LifelongModulator:
  """alpha_t from RND errors with running statistics, clipped to [1, L]."""

  def __init__(self, max_modulation: float):
    self._max_modulation = max_modulation
    self._errors = RunningMeanStd()

  def __call__(self, error: float) -> float:
    self._errors.update(error)
    std = self._errors.std
    alpha = 1. + (error - self._errors.mean) / std if std > 0 else 1.
    return float(min(max(alpha, 1.), self._max_modulation))

  def normalised(self, error: float) -> float:
    """err_t / std(err): the RND-only baseline's reward."""
    self._errors.update(error)
    std = self._errors.std
    return float(error / std) if std > 0 else 0.


class IntrinsicReward:
  """One actor's intrinsic reward per step, for the configured kind."""

  def __init__(self, config: ngu_config.NGUConfig):
    self._kind = config.intrinsic_reward
    self._episodic = EpisodicNovelty(config)
    self._lifelong = LifelongModulator(config.max_modulation)

  def reset(self) -> None:
    self._episodic.reset()

  def __call__(self, embedding: Optional[np.ndarray],
               rnd_error: Optional[float]) -> float:
    Kind = ngu_config.IntrinsicReward  # pylint: disable=invalid-name
    if self._kind == Kind.CONSTANT:
      return 1.
    if self._kind == Kind.RND:
      return self._lifelong.normalised(rnd_error)
    return self._episodic(embedding) * self._lifelong(rnd_error)
