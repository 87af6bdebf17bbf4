"""Acme's ObservationActionRewardWrapper, valid also on step()'s FIRST steps."""

from acme import types
from acme.wrappers import observation_action_reward
import dm_env
import tree


class ObservationActionRewardWrapper(
    observation_action_reward.ObservationActionRewardWrapper):
  """Puts the previous action and reward into the observation, as Acme's
  wrapper does.

  Our environments start a new episode by themselves when step() is called on
  a fresh environment or after a LAST, and return a FIRST step. Acme's wrapper
  then pairs it with the ignored action and the reward None, which do not
  match the observation spec; here a FIRST step gets the previous action and
  reward that reset() gives it, the specs' generated (zero) values.
  """

  def step(self, action: types.NestedArray) -> dm_env.TimeStep:
    timestep = self._environment.step(action)
    if not timestep.first():
      return self._augment_observation(action, timestep.reward, timestep)
    return self._augment_observation(
        _generate_value(self._environment.action_spec()),
        _generate_value(self._environment.reward_spec()), timestep)


def _generate_value(spec: types.NestedSpec) -> types.NestedArray:
  return tree.map_structure(lambda s: s.generate_value(), spec)
