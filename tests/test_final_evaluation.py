"""A finished run's score is its final policy's, over many episodes."""

import os

import dm_env
import numpy as np
import pytest

from behavior_transfer import experiments
from behavior_transfer.acting import batched_loop
from behavior_transfer.acting import environment_batch
from behavior_transfer.experiments import evaluation
from behavior_transfer.studies import study
from tests.helpers import finished_runs

ENVIRONMENT = 'minigrid:MiniGrid-Empty-8x8-v0'
NUM_ACTIONS = 7


class _FixedLengthEpisodes(dm_env.Environment):
  """Episodes of exactly `length` steps, reward 1 on the last."""

  def __init__(self, length: int):
    self._length = length
    self._t = 0

  def reset(self):
    self._t = 0
    return dm_env.restart(np.zeros(1, np.float32))

  def step(self, action):
    self._t += 1
    if self._t == self._length:
      return dm_env.termination(1., np.zeros(1, np.float32))
    return dm_env.transition(0., np.zeros(1, np.float32))

  def observation_spec(self):
    return dm_env.specs.Array((1,), np.float32)

  def action_spec(self):
    return dm_env.specs.DiscreteArray(2)


class _FirstAction(batched_loop.BatchedActor):

  def __init__(self, count: int):
    self._count = count

  @property
  def num_environments(self):
    return self._count

  def observe_first(self, index, timestep):
    pass

  def select_actions(self, observations):
    return np.zeros(len(observations), np.int64)

  def observe(self, index, action, next_timestep):
    pass


def test_loop_stops_once_num_episodes_have_ended():
  """Episodes of 3 and 5 steps: steps 3, 5 and 6 end episodes, so the loop
  stops after 6 batched steps (12 environment steps)."""
  batch = environment_batch.EnvironmentBatch(
      [_FixedLengthEpisodes(3), _FixedLengthEpisodes(5)])
  rows = []

  class _Rows:
    def write(self, row):
      rows.append(row)

    def close(self):
      pass

  loop = batched_loop.BatchedEnvironmentLoop(batch, _FirstAction(2),
                                             logger=_Rows())
  assert loop.run(num_episodes=3) == 12
  assert [row['episode_length'] for row in rows] == [3, 5, 3]
  assert loop.run(num_steps=2, num_episodes=10) == 2  # Whichever is first.


def _finished_run(tmp_path, extra_action_bias: float) -> str:
  """A BT run directory (config.json and a learner checkpoint) whose
  Q-network prefers a+ by `extra_action_bias` in every state."""
  return finished_runs.biased_bt_run(str(tmp_path / 'run'), ENVIRONMENT,
                                     {NUM_ACTIONS: extra_action_bias})


@pytest.mark.parametrize('bias,fraction', [(100., 1.), (-100., 0.)])
def test_final_policy_acts_with_the_checkpoints_weights(tmp_path, bias,
                                                        fraction):
  """Greedy over A+ with the checkpoint's Q: a+ on every step when its value
  dominates, never when it is far below; the run's logs are left alone."""
  run_dir = _finished_run(tmp_path, bias)
  episodes = evaluation.final_policy_episodes(run_dir, 3)
  assert len(episodes) == 3
  np.testing.assert_array_equal(episodes['greedy_extra_action_fraction'],
                                fraction)
  np.testing.assert_array_equal(episodes['extra_action_fraction'], fraction)
  assert (episodes['flight_fraction'] == 0).all()  # The evaluator's policy.
  assert not os.path.exists(os.path.join(run_dir, 'logs'))
  scores = study.final_scores(run_dir, 'game', num_episodes=2)
  assert scores['final_episodes'] == 2
  assert scores['final_greedy_extra_action_fraction'] == fraction
  assert 0 <= scores['success'] <= 1 and 'final_distinct_cells' in scores


def test_missing_settings_or_checkpoint_say_which_file(tmp_path):
  with pytest.raises(ValueError, match='config.json'):
    evaluation.final_policy_episodes(str(tmp_path), 3)
  run_dir = _finished_run(tmp_path, 0.)
  checkpoints = experiments.weights_dir(run_dir)
  for name in os.listdir(checkpoints):
    os.remove(os.path.join(checkpoints, name))
  with pytest.raises(FileNotFoundError, match='No checkpoint in'):
    evaluation.final_policy_episodes(run_dir, 3)
