"""Timesteps whose rewards and discounts match the specs exactly.

Every environment here declares float32 scalar rewards and discounts. dm_env's
own constructors keep a Python float discount (float64 as an array), which
fails dm_env's conformance test against a float32 spec; these cast both.
"""

from typing import Any

import dm_env
from dm_env import specs
import numpy as np


def reward_spec() -> specs.Array:
  return specs.Array((), np.float32, name='reward')


def discount_spec() -> specs.BoundedArray:
  return specs.BoundedArray((), np.float32, 0., 1., name='discount')


def transition(reward: float, observation: Any) -> dm_env.TimeStep:
  """A MID step: the episode goes on (discount 1)."""
  return dm_env.transition(np.float32(reward), observation, np.float32(1.))


def termination(reward: float, observation: Any) -> dm_env.TimeStep:
  """A LAST step of an episode that ended (discount 0)."""
  return dm_env.TimeStep(dm_env.StepType.LAST, np.float32(reward),
                         np.float32(0.), observation)


def truncation(reward: float, observation: Any) -> dm_env.TimeStep:
  """A LAST step of an episode cut by a time limit (discount 1)."""
  return dm_env.truncation(np.float32(reward), observation, np.float32(1.))
