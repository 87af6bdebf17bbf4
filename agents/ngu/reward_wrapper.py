"""The environment as the pre-training agent sees it: intrinsic reward only.

Each new observation's NGU (or RND, or constant) reward replaces the task's
reward, so the unchanged R2D2 actor and adder store intrinsic rewards in
replay. The embedding and RND networks run here, on the actor, with variables
fetched from the learner.
"""

from typing import Optional

from acme import wrappers
from acme.tf import variable_utils
import dm_env
import numpy as np
import tensorflow as tf

from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import networks
from behavior_transfer.agents.ngu import rewards


class IntrinsicRewardWrapper(wrappers.EnvironmentWrapper):
  """Replaces the reward with the intrinsic reward of the new observation."""

  def __init__(self, environment: dm_env.Environment,
               models: networks.IntrinsicModels,
               config: ngu_config.NGUConfig,
               variable_client: Optional[variable_utils.VariableClient] = None):
    super().__init__(environment)
    self._reward = rewards.IntrinsicReward(config)
    self._uses_models = (config.intrinsic_reward !=
                         ngu_config.IntrinsicReward.CONSTANT)
    self._variable_client = variable_client
    self._features = tf.function(lambda image: models(image[None]))

  def _intrinsic_reward(self, image) -> float:
    if not self._uses_models:
      return self._reward(None, None)
    embedding, error = self._features(image)
    return self._reward(embedding[0].numpy(), float(error[0]))

  def reset(self) -> dm_env.TimeStep:
    timestep = self._environment.reset()
    self._reward.reset()
    self._intrinsic_reward(timestep.observation)  # Enters the memory.
    return timestep

  def step(self, action) -> dm_env.TimeStep:
    timestep = self._environment.step(action)
    if timestep.first():  # The wrapped environment reset itself.
      self._reward.reset()
      self._intrinsic_reward(timestep.observation)
      return timestep
    if self._variable_client is not None:
      self._variable_client.update()
    return timestep._replace(
        reward=np.float32(self._intrinsic_reward(timestep.observation)))
