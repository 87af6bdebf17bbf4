"""The environments as the pre-training agent sees them: intrinsic reward only.

`IntrinsicRewardBatch` serves this project's batched actors;
`IntrinsicRewardWrapper` is the same reward as a `dm_env` wrapper of one
environment, for Acme's `EnvironmentLoop` and other single-environment code.

Each new observation's NGU (or RND, or constant) reward replaces the task's
reward, so the unchanged R2D2 actor and adder store intrinsic rewards in
replay. The embedding and RND networks run here, on the actor, with variables
fetched from the learner: one batched call per step computes f(s) and the RND
error of every environment's new observation, together with the first
observations of episodes that started since the previous step (they enter
their episode's memory and the RND statistics, but earn no reward).
"""

from typing import Any, Dict, List, Optional

from acme import wrappers
from acme.tf import variable_utils
import dm_env
import numpy as np
import tensorflow as tf

from behavior_transfer.acting import environment_batch
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import networks
from behavior_transfer.agents.ngu import rewards


def _image(observation: Any) -> np.ndarray:
  """The image of a raw or an observation-action-reward observation."""
  return getattr(observation, 'observation', observation)


class IntrinsicRewardBatch(environment_batch.EnvironmentBatchWrapper):
  """Replaces each environment's reward with the intrinsic reward of its new
  observation; every environment keeps its own episodic memory.

  Wrap it around the observation-action-reward view, not inside it: the
  Q-network's previous-reward input is then the dynamics' own reward (0 when
  reward-free), which is what pi_p sees wherever it acts later. Fed the
  intrinsic reward instead (5 to 10 a step), pi_p met inputs after
  pre-training that it never saw during it, and explored less.
  """

  def __init__(self, batch: environment_batch.EnvironmentBatch,
               models: networks.IntrinsicModels,
               config: ngu_config.NGUConfig,
               observation_spec,
               variable_client: Optional[variable_utils.VariableClient] = None):
    super().__init__(batch)
    self._reward = rewards.IntrinsicRewardFunction(config, len(batch))
    self._uses_models = (config.intrinsic_reward !=
                         ngu_config.IntrinsicReward.CONSTANT)
    self._variable_client = variable_client
    # Any number of images per call without retracing.
    self._features = tf.function(models, input_signature=[tf.TensorSpec(
        (None,) + tuple(observation_spec.shape), observation_spec.dtype)])
    self._bootstrap_at_level_end = config.bootstrap_at_level_end
    self._started: List[int] = []  # Episodes started since the last step.
    self._started_images: List[np.ndarray] = []
    # Each environment's sum of alpha over its episode's steps, and steps.
    self._modulation_sums = np.zeros(len(batch))
    self._steps = np.zeros(len(batch), np.int64)

  def reset(self, indices=None):
    timesteps = self._batch.reset(indices)
    indices = list(range(len(self)) if indices is None else indices)
    self._reward.reset(indices)
    self._modulation_sums[indices] = 0.
    self._steps[indices] = 0
    self._started += indices
    self._started_images += [_image(t.observation) for t in timesteps]
    return timesteps

  def step(self, actions):
    timesteps = self._batch.step(actions)
    started, self._started = self._started, []
    images = self._started_images + [_image(t.observation) for t in timesteps]
    self._started_images = []
    if self._uses_models:
      embeddings, errors = (x.numpy() for x in self._features(np.stack(images)))
    else:
      embeddings = errors = np.zeros(len(images))
    if started:  # First observations enter their memories: no reward.
      self._reward(embeddings[:len(started)], errors[:len(started)], started)
    intrinsic, modulation = self._reward.with_modulation(
        embeddings[len(started):], errors[len(started):])
    self._modulation_sums += modulation
    self._steps += 1
    if self._variable_client is not None:
      self._variable_client.update()
    timesteps = [t._replace(reward=np.float32(r))
                 for t, r in zip(timesteps, intrinsic)]
    if self._bootstrap_at_level_end:
      timesteps = [t._replace(discount=np.ones_like(t.discount)) if t.last()
                   else t for t in timesteps]
    return timesteps

  def episode_metrics(self, index: int) -> Dict[str, float]:
    """The inner batch's columns and `mean_lifelong_modulation`: alpha over
    environment `index`'s episode so far (NaN for non-NGU rewards). Near 1,
    RND's life-long novelty changes nothing."""
    return {**self._batch.episode_metrics(index),
            'mean_lifelong_modulation': float(
                self._modulation_sums[index] / max(self._steps[index], 1))}


class IntrinsicRewardWrapper(wrappers.EnvironmentWrapper):
  """One environment whose reward is the intrinsic reward of each new
  observation: the batched path over a batch of one, so it gives the same
  rewards. For a recurrent Q-network, wrap the observation-action-reward
  view of the dynamics (its previous reward stays the dynamics' own, as
  where pi_p acts later); raw dynamics (image observations) work too."""

  def __init__(self, environment: dm_env.Environment,
               models: networks.IntrinsicModels,
               config: ngu_config.NGUConfig,
               variable_client: Optional[variable_utils.VariableClient] = None):
    """`models` must have their variables (`models.create_variables`);
    `variable_client` keeps them in sync with a learner's."""
    super().__init__(environment)
    observation_spec = _image(environment.observation_spec())
    self._batch = IntrinsicRewardBatch(
        environment_batch.EnvironmentBatch([environment]), models, config,
        observation_spec, variable_client)
    self._needs_reset = True

  def reset(self) -> dm_env.TimeStep:
    self._needs_reset = False
    return self._batch.reset()[0]

  def step(self, action) -> dm_env.TimeStep:
    if self._needs_reset:  # dm_env: a step after the last one resets.
      return self.reset()
    timestep = self._batch.step([action])[0]
    self._needs_reset = timestep.last()
    return timestep
