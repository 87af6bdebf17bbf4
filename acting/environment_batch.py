"""K dm_env environments stepped in lockstep, for batched actors.

An actor node steps all its environments with one batched network call per
step. Each environment keeps its own episode: the loop resets only the ones
whose episode ended (`reset(indices)`), so their steps stay those of K
independent single-environment actors.
"""

from typing import Dict, List, Optional, Sequence

from acme.wrappers import observation_action_reward
import dm_env
import numpy as np


class EnvironmentBatch:
  """A list of environments with one spec, reset and stepped together."""

  def __init__(self, environments: Sequence[dm_env.Environment]):
    if not environments:
      raise ValueError('An environment batch needs at least one environment.')
    self._environments = list(environments)

  @property
  def environments(self) -> List[dm_env.Environment]:
    return self._environments

  def __len__(self) -> int:
    return len(self._environments)

  def reset(self, indices: Optional[Sequence[int]] = None
            ) -> List[dm_env.TimeStep]:
    """Starts new episodes in `indices` (all by default), in that order."""
    if indices is None:
      indices = range(len(self._environments))
    return [self._environments[i].reset() for i in indices]

  def step(self, actions: Sequence) -> List[dm_env.TimeStep]:
    """Steps every environment with its action; none may be at a LAST step."""
    return [env.step(action)
            for env, action in zip(self._environments, actions)]

  def action_spec(self):
    return self._environments[0].action_spec()

  def episode_metrics(self, index: int) -> Dict[str, float]:
    """Extra columns for the log row of environment `index`'s episode (a
    wrapper's measure of it, say), read before the environment resets."""
    del index
    return {}

  def close(self) -> None:
    for env in self._environments:
      env.close()


class EnvironmentBatchWrapper(EnvironmentBatch):
  """Base for wrappers that change what a whole batch returns."""

  def __init__(self, batch: EnvironmentBatch):  # pylint: disable=super-init-not-called
    self._batch = batch

  @property
  def environments(self) -> List[dm_env.Environment]:
    return self._batch.environments

  def __len__(self) -> int:
    return len(self._batch)

  def reset(self, indices=None):
    return self._batch.reset(indices)

  def step(self, actions):
    return self._batch.step(actions)

  def action_spec(self):
    return self._batch.action_spec()

  def episode_metrics(self, index: int) -> Dict[str, float]:
    return self._batch.episode_metrics(index)

  def close(self) -> None:
    self._batch.close()


class ObservationActionRewardBatch(EnvironmentBatchWrapper):
  """Acme's ObservationActionRewardWrapper for each environment of a batch:
  observations become OAR(observation, previous action, previous reward)."""

  def __init__(self, batch: EnvironmentBatch):
    super().__init__(batch)
    spec = batch.action_spec()
    self._no_action = np.zeros(spec.shape, spec.dtype)

  def reset(self, indices=None):
    return [timestep._replace(observation=observation_action_reward.OAR(
        timestep.observation, self._no_action, np.zeros((), np.float32)))
            for timestep in self._batch.reset(indices)]

  def step(self, actions):
    spec = self._batch.action_spec()
    return [timestep._replace(observation=observation_action_reward.OAR(
        timestep.observation, np.asarray(action, spec.dtype),
        np.asarray(timestep.reward, np.float32)))
            for timestep, action in zip(self._batch.step(actions), actions)]
