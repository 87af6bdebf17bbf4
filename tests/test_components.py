"""The pieces another Acme project picks up: the README's example, the BT
actor over any recurrent core, the adder's Acme arguments (and Acme's own
adder test cases), the learner's sequence-length check."""

import os
import re
from unittest import mock

from absl.testing import parameterized
import acme
from acme import specs
from acme import wrappers
from acme.adders import reverb as adders
from acme.adders.reverb import test_cases as acme_adder_test_cases
from acme.adders.reverb import test_utils as acme_adder_test_utils
import numpy as np
import pytest
import reverb
import sonnet as snt
import tensorflow as tf

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer.agents import bt
from behavior_transfer.agents import ngu
from behavior_transfer.agents import r2d2
from behavior_transfer.agents.r2d2 import learning
from tests import test_bt_actor
from tests import test_learner

README = os.path.join(os.path.dirname(os.path.dirname(__file__)), 'README.md')


def readme_example(section: str = 'Use BT in your own Acme agent') -> str:
  """The code block of a README section."""
  with open(README) as f:
    text = f.read()
  section = text.split(f'## {section}', 1)[1]
  return re.search(r'```python\n(.*?)```', section, re.DOTALL).group(1)


def test_the_readme_example_acts_writes_replay_and_learns():
  namespace = {}
  exec(compile(readme_example(), README, 'exec'), namespace)  # pylint: disable=exec-used
  client, learner, network = (namespace[k] for k in
                              ('client', 'learner', 'network'))
  # BT's per-episode metrics reached the EnvironmentLoop's results.
  result = namespace['result']
  for metric in ('greedy_extra_action_fraction', 'flight_fraction',
                 'extra_action_fraction'):
    assert 0. <= result[metric] <= 1., result
  table = client.server_info()[adders.DEFAULT_PRIORITY_TABLE]
  assert table.current_size > 0
  before = [v.numpy() for v in network.trainable_variables]
  learner.step()
  assert any(not np.allclose(b, v.numpy())
             for b, v in zip(before, network.trainable_variables))
  namespace['server'].stop()


def test_the_readme_run_example_builds_its_program(tmp_path):
  # The run itself takes minutes; its spec and program are checked here.
  runs = []

  def build_instead_of_run(spec, run_dir, **kwargs):
    runs.append((spec, run_dir, kwargs))
    return experiments.make_layout(spec, str(tmp_path)).build()

  with mock.patch.object(experiments, 'run', build_instead_of_run):
    exec(compile(readme_example('Run any agent from Python'), README, 'exec'),  # pylint: disable=exec-used
         {})
  [(spec, run_dir, _)] = runs
  assert (spec.agent, spec.task, spec.program.num_actors) == (
      'bt', 'reach_third_room', 1)
  assert run_dir == 'runs/bt'


def _acme_loop_result(exploration, levy_epsilon, epsilon=0.):
  """One episode of a BT actor with a fixed Q in Acme's EnvironmentLoop."""
  environment = environments.make_environment(
      'minigrid:MiniGrid-MultiRoom-N2-S4-v0', seed=0)
  outputs = 7 + int(bt.Exploration(exploration).uses_extra_action)
  actor = bt.make_actor(
      test_bt_actor.FixedQ([0.] * (outputs - 1) + [1.]), 7, epsilon,
      levy_epsilon, test_bt_actor.CountingPolicy(), exploration)
  loop = acme.EnvironmentLoop(environment, actor,
                              observers=[bt.ActorMetricsObserver(actor)],
                              should_update=False)
  return loop.run_episode()


def test_bt_metrics_reach_acme_environment_loop_results():
  # Always in flight: every step is a flight step, a+ is never executed.
  flights = _acme_loop_result(bt.Exploration.FLIGHTS, levy_epsilon=1.)
  assert flights['flight_fraction'] == 1.
  assert flights['extra_action_fraction'] == 0.
  # Never in flight, a+ greedy on every step (Q favours the last output).
  extra = _acme_loop_result(bt.Exploration.EXTRA_ACTION, levy_epsilon=1.)
  assert extra['flight_fraction'] == 0.
  assert extra['greedy_extra_action_fraction'] == 1.
  assert extra['extra_action_fraction'] == 1.
  assert extra['episode_length'] > 1


def test_a_batched_actor_in_acme_environment_loop_names_the_adapter():
  environment = environments.make_environment(
      'minigrid:MiniGrid-MultiRoom-N2-S4-v0', seed=0)
  batched = bt.BehaviorTransferActor(
      test_bt_actor.FixedQ([0.] * 7), 7, bt.Exploration.FLIGHTS, [0.], [0.5],
      test_bt_actor.CountingPolicy())
  loop = acme.EnvironmentLoop(environment, batched, should_update=False)
  with pytest.raises(TypeError, match='SingleEnvironmentActor'):
    loop.run_episode()
  with pytest.raises(TypeError, match='not an Acme core.Actor'):
    batched.select_action(environment.reset().observation)
  # The batched interface itself still works.
  batched.observe_first(0, environment.reset())


def test_old_call_shapes_get_a_clear_error():
  with pytest.raises(ValueError, match='one rate per environment'):
    bt.BehaviorTransferActor(test_bt_actor.FixedQ([0.] * 7), 7,
                             bt.Exploration.FLIGHTS, 0.1, [0.5],
                             test_bt_actor.CountingPolicy())
  with pytest.raises(ValueError, match='one rate per environment'):
    r2d2.EpsilonGreedyActor(test_bt_actor.FixedQ([0.] * 7), 0.1)
  novelty = ngu.EpisodicNovelty(ngu.NGUConfig())
  with pytest.raises(ValueError, match=r'shape \[1, embedding size\]'):
    novelty(np.zeros(32))
  assert novelty(np.zeros((1, 32))).shape == (1,)
  with pytest.raises(ValueError, match=r'shape \[1\]'):
    ngu.LifelongModulator(5.)(0.3)


class PlainCore(snt.RNNCore):
  """A recurrent core without `num_outputs`: values from the observation."""

  def __init__(self, outputs):
    super().__init__()
    self._linear = snt.Linear(outputs)

  def __call__(self, observations, state):
    flat = snt.Flatten()(tf.cast(observations.observation, tf.float32))
    return self._linear(flat), state + 1

  def initial_state(self, batch_size):
    return tf.zeros([batch_size, 1])


def _actor(network, exploration, observation_spec=None):
  return bt.BehaviorTransferActor(
      network, test_bt_actor.NUM_ACTIONS, exploration, [0.], [0.],
      test_bt_actor.CountingPolicy(), observation_spec=observation_spec)


def test_the_actor_takes_any_recurrent_core_with_the_right_outputs():
  spec = specs.make_environment_spec(
      environments.make_environment(test_bt_actor.ENVIRONMENT))
  actions = test_bt_actor.NUM_ACTIONS
  actor = _actor(PlainCore(actions + 1), bt.Exploration.BT, spec.observations)
  records = test_bt_actor.run_actor(actor, 5)
  assert all(0 <= r['executed'] < actions for r in records)
  _actor(PlainCore(actions), bt.Exploration.FLIGHTS, spec.observations)
  with pytest.raises(ValueError, match=r'needs a network with 8 outputs '
                     r'\(\|A\| \+ 1 for a\+\), got 7'):
    _actor(PlainCore(actions), bt.Exploration.BT, spec.observations)
  with pytest.raises(ValueError, match='needs a network with 7 outputs'):
    _actor(PlainCore(actions + 1), bt.Exploration.FLIGHTS, spec.observations)
  with pytest.raises(ValueError, match='pass observation_spec'):
    _actor(PlainCore(actions + 1), bt.Exploration.BT)


def test_make_adder_takes_acmes_table_priority_and_episode_end():
  server = reverb.Server([reverb.Table.queue('bt_sequences', 100)])
  client = reverb.Client(f'localhost:{server.port}')
  try:
    adder = bt.make_adder(
        client, sequence_length=4, period=4,
        priority_fns={'bt_sequences': lambda step: 3.},
        end_of_episode_behavior=adders.EndBehavior.TRUNCATE)
    actor = bt.BehaviorTransferActor(
        test_bt_actor.FixedQ([0.] * (test_bt_actor.NUM_ACTIONS + 1)),
        test_bt_actor.NUM_ACTIONS, bt.Exploration.BT, [0.5], [0.1],
        test_bt_actor.CountingPolicy(), [adder], seeds=[0])
    # One 9-step episode: 10 timesteps, so items of 4, 4 and the last 2.
    test_bt_actor.run_actor(actor, num_episodes=1, environment=(
        wrappers.StepLimitWrapper(environments.make_environment(
            test_bt_actor.ENVIRONMENT), step_limit=9)))
    size = client.server_info()['bt_sequences'].current_size
    items = list(client.sample('bt_sequences', num_samples=size,
                               emit_timesteps=False))
  finally:
    server.stop()
  assert items and all(item.info.priority == 3. for item in items)
  assert sorted(item.data[0].shape[0] for item in items) == [2, 4, 4]


def test_the_learner_refuses_sequences_of_another_length():
  config = test_learner.make_config()
  online, target = test_learner.make_networks()
  learner = learning.R2D2Learner(online, target, config)
  longer = test_learner.make_sample(test_learner.make_config(trace_length=8))
  with pytest.raises(ValueError, match=r'hold 11 steps but .* expects '
                     r'burn_in_length \+ trace_length \+ 1 = 9'):
    learner.loss_and_priorities(longer)
  learner.loss_and_priorities(test_learner.make_sample(config))


class AdderConformanceTest(acme_adder_test_utils.AdderTestMixin,
                           parameterized.TestCase):
  """Acme's own SequenceAdder test cases, through `bt.make_adder`."""

  @parameterized.named_parameters(
      *acme_adder_test_cases.TEST_CASES_FOR_SEQUENCE_ADDER)
  def test_adder(self, sequence_length, period, first, steps,
                 expected_sequences,
                 end_behavior=adders.EndBehavior.ZERO_PAD,
                 repeat_episode_times=1):
    adder = bt.make_adder(self.client, sequence_length, period,
                          end_of_episode_behavior=end_behavior)
    self.run_test_adder(
        adder=adder, first=first, steps=steps,
        expected_items=expected_sequences,
        repeat_episode_times=repeat_episode_times, end_behavior=end_behavior,
        signature=adder.signature(
            *acme_adder_test_utils.get_specs(steps[0])))
