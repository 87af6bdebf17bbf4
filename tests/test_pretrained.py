"""pi_p sources: export and reload in a fresh process, checkpoints, bad input."""

import json
import os
import subprocess
import sys

from acme import specs
from acme.tf import savers as tf2_savers
from acme.tf import utils as tf2_utils
import numpy as np
import pytest
import tensorflow as tf

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer import networks
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.r2d2 import learning
from behavior_transfer.policies import pretrained
from behavior_transfer.policies import sources
from tests import test_learner

ENVIRONMENT = 'minigrid:MiniGrid-FourRooms-v0'

# Runs in a fresh interpreter that cannot import this project: the exported
# directory alone must be enough.
RELOAD_SCRIPT = r'''
import collections, json, sys
sys.modules['behavior_transfer'] = None  # Any import of the project fails.
import numpy as np
import tensorflow as tf

policy = tf.saved_model.load(sys.argv[1])
inputs = np.load(sys.argv[2])
OAR = collections.namedtuple('OAR', ['observation', 'action', 'reward'])
state, actions = policy.initial_state(), []
for t in range(len(inputs['observation'])):
  observation = OAR(*(tf.constant(inputs[k][t:t + 1])
                      for k in ('observation', 'action', 'reward')))
  action, state = policy.step(observation, state)
  actions.append(int(action[0]))
print(json.dumps(actions))
'''


def rollout(environment, num_steps, seed=0):
  """Observations of a random walk, for stepping policies offline."""
  rng = np.random.RandomState(seed)
  timestep, observations = environment.reset(), []
  for _ in range(num_steps):
    if timestep.last():
      timestep = environment.reset()
    observations.append(timestep.observation)
    timestep = environment.step(np.int32(rng.randint(7)))
  return observations


def step_through(policy, observations):
  state, actions = policy.initial_state(), []
  for observation in observations:
    action, state = policy.step(observation, state)
    actions.append(action)
  return actions


def make_policy_network(environment_spec, seed=0):
  tf.random.set_seed(seed)
  network = networks.make_small_network(environment_spec.actions.num_values)
  tf2_utils.create_variables(network, [environment_spec.observations])
  return network


def test_exported_policy_reloads_in_a_fresh_process_with_identical_actions(tmp_path):
  environment = environments.make_environment(ENVIRONMENT)
  spec = specs.make_environment_spec(environment)
  network = make_policy_network(spec)
  path = pretrained.export_policy(network, spec, str(tmp_path / 'pi_p'))
  with open(os.path.join(path, 'pretrained_policy.json')) as f:
    assert json.load(f)['num_actions'] == 7

  observations = rollout(environment, 60)
  expected = step_through(pretrained.GreedyNetworkPolicy(network, 7), observations)
  assert len(set(expected)) > 1  # Otherwise equality would prove little.
  inputs = str(tmp_path / 'inputs.npz')
  np.savez(inputs, **{k: np.stack([getattr(o, k) for o in observations])
                      for k in ('observation', 'action', 'reward')})
  result = subprocess.run(
      [sys.executable, '-c', RELOAD_SCRIPT, path, inputs], capture_output=True,
      text=True, check=True, timeout=300,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3', CUDA_VISIBLE_DEVICES=''))
  assert json.loads(result.stdout.strip().splitlines()[-1]) == expected

  # The project's own loader agrees, in this process too.
  assert step_through(pretrained.ExportedPolicy(path), observations) == expected


def test_checkpoint_source_restores_the_learners_network(tmp_path):
  environment = environments.make_environment(ENVIRONMENT)
  spec = specs.make_environment_spec(environment)
  network = make_policy_network(spec, seed=1)
  target = make_policy_network(spec, seed=2)
  learner = learning.R2D2Learner(network, target, test_learner.make_config())
  tf2_savers.Checkpointer({'learner': learner.state}, directory=str(tmp_path),
                          subdirectory='learner', add_uid=False).save(force=True)
  checkpoint_dir = str(tmp_path / 'checkpoints' / 'learner')
  assert tf.train.latest_checkpoint(checkpoint_dir)

  factory = sources.policy_factory(f'checkpoint:{checkpoint_dir}',
                                   ENVIRONMENT)
  observations = rollout(environment, 30, seed=1)
  assert (step_through(factory(spec), observations) ==
          step_through(pretrained.GreedyNetworkPolicy(network, 7), observations))


def test_missing_or_corrupt_sources_name_the_file(tmp_path):
  spec = specs.make_environment_spec(environments.make_environment(ENVIRONMENT))
  with pytest.raises(FileNotFoundError, match='nowhere'):
    pretrained.ExportedPolicy(str(tmp_path / 'nowhere'))
  (tmp_path / 'broken').mkdir()
  (tmp_path / 'broken' / 'saved_model.pb').write_bytes(b'not a model')
  with pytest.raises(ValueError, match='broken'):
    pretrained.ExportedPolicy(str(tmp_path / 'broken'))
  with pytest.raises(FileNotFoundError, match='empty'):
    (tmp_path / 'empty').mkdir()
    sources.policy_factory(f'checkpoint:{tmp_path / "empty"}',
                           ENVIRONMENT)(spec)
  with pytest.raises(ValueError, match='door_seeker'):
    sources.policy_factory('scripted:wall_hugger', ENVIRONMENT)
  with pytest.raises(ValueError, match='exported:<dir>'):
    sources.policy_factory('imagined', ENVIRONMENT)


def test_mismatching_action_space_is_refused_when_the_program_is_built(tmp_path):
  # A pi_p exported for Atari-like 18 actions cannot drive MiniGrid's 7.
  minigrid_spec = specs.make_environment_spec(
      environments.make_environment(ENVIRONMENT))
  wider_spec = minigrid_spec._replace(
      actions=specs.DiscreteArray(18, name='action'))
  path = pretrained.export_policy(make_policy_network(wider_spec), wider_spec,
                                  str(tmp_path / 'pi_p'))
  spec = experiments.from_preset('bt', ENVIRONMENT, 1000,
                                 pretrained=f'exported:{path}')
  with pytest.raises(ValueError) as error:
    experiments.make_layout(spec, str(tmp_path / 'run'))
  message = str(error.value)
  assert '18 actions' in message and 'num_values=7' in message
  assert not os.path.exists(tmp_path / 'run')  # Nothing was started.
  # Baselines that do not use pi_p ignore it.
  experiments.make_layout(
      experiments.override(spec, config=dict(
          exploration=bt_config.Exploration.EPSILON_GREEDY)),
      str(tmp_path / 'run'))


class _CountingLoop(pretrained.PretrainedPolicy):
  """Always action 2; its state counts the observations it has seen."""

  @property
  def num_actions(self):
    return 7

  def initial_state(self):
    return 0

  def step(self, observation, state):
    del observation
    return 2, state + 1


def test_epsilon_policy_mixes_in_uniform_actions_and_keeps_the_state():
  # epsilon 0 is the policy itself; otherwise a random action replaces its
  # own at rate epsilon (each of the 7 at epsilon / 7), while its state
  # advances on every step as if it had acted.
  steps = 7000
  for epsilon in (0., 0.3):
    policy = pretrained.EpsilonPolicy(_CountingLoop(), epsilon, seed=3)
    state, actions = policy.initial_state(), []
    for _ in range(steps):
      action, state = policy.step(None, state)
      actions.append(action)
    assert state == steps
    counts = np.bincount(actions, minlength=7) / steps
    expected = np.full(7, epsilon / 7)
    expected[2] += 1 - epsilon
    # Binomial standard error at these rates is below 0.006.
    np.testing.assert_allclose(counts, expected, atol=0.02)
  with pytest.raises(ValueError, match='epsilon must be in'):
    pretrained.EpsilonPolicy(_CountingLoop(), 1.5)
