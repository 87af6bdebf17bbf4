"""Beyond the paper: several pi_p in one BT agent, episode-start guidance,
value-ended flights and other flight lengths."""

import os

from absl.testing import parameterized
from acme import specs
from acme.tf import utils as tf2_utils
from matplotlib import pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats
import sonnet as snt
import tensorflow as tf

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer import networks
from behavior_transfer.agents.bt import actor as bt_actor
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.bt import handover
from behavior_transfer.agents.bt import learning as bt_learning
from behavior_transfer.launching import reports
from behavior_transfer.studies import pipeline
from behavior_transfer.studies import study
from behavior_transfer.studies import suite
from behavior_transfer.policies import pretrained
from tests import test_bt_actor
from tests import test_learner
from tests import test_program
from tests.test_bt_actor import FixedQ, run_actor

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs

E = bt_config.Exploration
A = test_bt_actor.NUM_ACTIONS
FIRST, SECOND = 1, 5  # The two policies' fixed actions.


def two_policies():
  return [pretrained.CallablePolicy(lambda _: FIRST, A),
          pretrained.CallablePolicy(lambda _: SECOND, A)]


def make_actor(q_values, exploration=E.BT, epsilon=0., levy_epsilon=0.,
               seed=0, network=None, **handover_fields):
  return bt_actor.BehaviorTransferActor(
      network or FixedQ(q_values), A, exploration, [epsilon], [levy_epsilon],
      two_policies(), seeds=[seed],
      handover_config=bt_config.HandoverConfig(**handover_fields))


@pytest.mark.parametrize('extra_action, action', [(0, FIRST), (1, SECOND)])
def test_each_extra_action_resolves_to_its_own_policy(extra_action, action):
  q = [0.] * (A + 2)
  q[A + extra_action] = 1.  # a+_k is greedy.
  actor = make_actor(q)
  records = run_actor(actor, 10)
  assert all(r['chosen'] == A + extra_action for r in records)
  assert all(r['executed'] == action for r in records)
  metrics = actor.episode_metrics(0)
  assert metrics[f'extra_action_fraction_{extra_action}'] == 1.
  assert metrics[f'extra_action_fraction_{1 - extra_action}'] == 0.
  assert metrics['extra_action_fraction'] == 1.


def test_flights_use_the_policy_they_picked():
  actor = make_actor([0.] * (A + 2), levy_epsilon=0.5, seed=2)
  env = environments.make_environment(test_bt_actor.ENVIRONMENT)
  timestep = env.reset()
  actor.observe_first(0, timestep)
  used = []
  for _ in range(400):
    executed = actor.select_actions([timestep.observation])[0]
    if actor._in_flight[0]:  # pylint: disable=protected-access
      policy = int(actor._used_policy[0])  # pylint: disable=protected-access
      assert executed == (FIRST, SECOND)[policy]
      used.append(policy)
    timestep = env.step(executed)
    actor.observe(0, executed, timestep)
    if timestep.last():
      timestep = env.reset()
      actor.observe_first(0, timestep)
  # Uniform choice: both policies fly, about equally often.
  assert 0.3 < np.mean(used) < 0.7 and len(used) > 100
  metrics = actor.episode_metrics(0)
  assert metrics['flight_fraction'] == pytest.approx(
      metrics['flight_fraction_0'] + metrics['flight_fraction_1'])


def test_softmax_choice_follows_its_probabilities():
  config = bt_config.HandoverConfig(flight_policy_choice='softmax',
                                    flight_policy_temperature=0.5)
  rng = np.random.RandomState(0)
  values = np.array([0., 0.5 * np.log(3.)])  # P = [1/4, 3/4] at T = 0.5.
  draws = np.array([handover.choose_policy(rng, config, values, 2)
                    for _ in range(8000)])
  counts = np.bincount(draws, minlength=2)
  assert stats.chisquare(counts, [2000, 6000]).pvalue > 1e-3
  # Uniform choice ignores the values.
  uniform = bt_config.HandoverConfig()
  draws = [handover.choose_policy(rng, uniform, values, 2)
           for _ in range(8000)]
  assert stats.chisquare(np.bincount(draws)).pvalue > 1e-3


def test_geometric_flight_lengths_have_their_mean():
  config = bt_config.HandoverConfig(flight_length_distribution='geometric',
                                    flight_length_mean=6.)
  rng = np.random.RandomState(1)
  lengths = np.array([handover.flight_length(rng, config, 2.)
                      for _ in range(20000)])
  assert lengths.min() == 1
  # Geometric with p = 1/6: mean 6, standard deviation sqrt(30).
  assert abs(lengths.mean() - 6.) < 4 * np.sqrt(30. / len(lengths))


def test_guidance_flies_exactly_h_steps_of_every_episode():
  actor = make_actor([0.] * (A + 2), guidance='curriculum',
                     guidance_horizon=12, guidance_stages=3, guide_policy=1)
  records = run_actor(actor, num_episodes=2)
  for r in records:
    guided = r['t'] < 12
    assert r['in_flight'] == guided
    if guided:
      assert r['executed'] == SECOND
  assert actor.episode_metrics(0)['guidance_horizon'] == 12.


def test_curriculum_shrinks_h_exactly_when_its_rule_says():
  config = bt_config.HandoverConfig(guidance='curriculum',
                                    guidance_horizon=30, guidance_stages=3,
                                    guidance_window=2, guidance_tolerance=0.1)
  curriculum = handover.GuidanceCurriculum(config)
  rng = np.random.RandomState(0)
  assert curriculum.horizon(rng) == 30
  for value in (1., 1.):  # The reference window: mean 1.
    curriculum.episode_ended(value)
  assert curriculum.horizon(rng) == 30
  for value in (0.8, 0.9):  # Mean 0.85 < 0.9: stays.
    curriculum.episode_ended(value)
  assert curriculum.horizon(rng) == 30
  curriculum.episode_ended(0.9)
  assert curriculum.horizon(rng) == 30  # Half a window.
  curriculum.episode_ended(0.9)  # Mean 0.9 = 1 - 0.1: the next stage.
  assert curriculum.stage == 1 and curriculum.horizon(rng) == 20
  for value in (1., 1., 1., 1.):
    curriculum.episode_ended(value)
  assert curriculum.horizon(rng) == 0  # The last stage: no guidance.
  random = handover.GuidanceCurriculum(bt_config.HandoverConfig(
      guidance='random', guidance_horizon=4))
  horizons = [random.horizon(rng) for _ in range(5000)]
  assert set(horizons) == {0, 1, 2, 3, 4}


class ScheduledQ(snt.RNNCore):
  """Q(s, a+_k) is 1 for the first `switch` steps of an episode, then 0;
  every primitive value is 0.5."""

  def __init__(self, switch):
    super().__init__(name='scheduled_q')
    self._switch = switch
    self.num_outputs = A + 2

  # Plain TF ops: no autograph (whose cache, keyed by code object ids, has
  # handed this call another test module's converted __init__).
  @tf.autograph.experimental.do_not_convert
  def __call__(self, inputs, state):
    del inputs
    batch = tf.shape(state)[0]
    extra = tf.where(state < self._switch, 1., 0.)
    values = tf.concat([tf.fill([batch, A], 0.5), extra, extra], axis=-1)
    return values, state + 1

  def initial_state(self, batch_size):
    return tf.zeros([batch_size, 1])


def in_flight_steps(actor, steps):
  """Whether each of the first `steps` steps of an episode was in flight; a
  flight starts on step 0 and no other."""
  env = environments.make_environment(test_bt_actor.ENVIRONMENT)
  timestep = env.reset()
  actor.observe_first(0, timestep)
  flags = []
  for _ in range(steps):
    executed = actor.select_actions([timestep.observation])[0]
    actor._levy_epsilons[:] = 0.  # pylint: disable=protected-access
    flags.append(bool(actor._in_flight[0]))  # pylint: disable=protected-access
    timestep = env.step(executed)
    actor.observe(0, executed, timestep)
  return flags


def test_value_ended_flights_end_on_the_step_the_margin_is_crossed():
  long_flights = dict(levy_epsilon=1., flight_length_distribution='geometric',
                      flight_length_mean=1e6)
  actor = make_actor(None, network=ScheduledQ(switch=5),
                     flight_end_margin=0.3, **long_flights)
  # 0.5 - Q(s, a+_k) crosses 0.3 on step 5: the flight ends there.
  assert in_flight_steps(actor, 10) == [True] * 5 + [False] * 5
  # A margin not crossed, or none, leaves the flight its sampled length.
  for margin in (0.6, None):
    actor = make_actor(None, network=ScheduledQ(switch=5),
                       flight_end_margin=margin, **long_flights)
    assert all(in_flight_steps(actor, 10))


def test_dual_target_with_several_extra_actions_moves_only_the_used_ones():
  num_policies = 2
  config = test_learner.make_config()
  online, target = test_learner.make_networks(
      num_outputs=test_learner.NUM_ACTIONS + num_policies)
  learner = bt_learning.ExtraActionLearner(online, target, config,
                                           num_extra_actions=num_policies)
  rng = np.random.RandomState(3)
  length = 5
  choices = test_learner.NUM_ACTIONS + num_policies
  sample = test_learner.make_sample(
      config, 3, num_choices=choices, extras=lambda r, shape: {
          'executed_action': r.randint(test_learner.NUM_ACTIONS,
                                       size=shape).astype(np.int32),
          'in_flight': np.zeros(shape, bool)})
  data = tf2_utils.batch_to_sequence(tf.nest.map_structure(
      lambda x: x[:, :length], sample.data))
  q_values = tf.Variable(rng.randn(length, test_learner.BATCH,
                                   choices).astype(np.float32))
  target_q_values = tf.constant(rng.randn(length, test_learner.BATCH,
                                          choices).astype(np.float32))
  with tf.GradientTape() as tape:
    td = learner.td_errors(q_values, target_q_values, data)
    loss = 0.5 * tf.reduce_sum(td.squared_step_errors())
  gradient = tape.gradient(loss, q_values).numpy()

  q, goal = q_values.numpy(), test_learner.h(td.targets.numpy())
  chosen = data.action.numpy()
  executed = data.extras['executed_action'].numpy()
  expected = np.zeros_like(gradient)
  for t in range(length - 1):
    for b in range(test_learner.BATCH):
      expected[t, b, chosen[t, b]] += q[t, b, chosen[t, b]] - goal[t, b]
      if chosen[t, b] >= test_learner.NUM_ACTIONS:  # Any a+_k.
        expected[t, b, executed[t, b]] += q[t, b, executed[t, b]] - goal[t, b]
  extra = chosen[:-1] >= test_learner.NUM_ACTIONS
  assert set(chosen[:-1][extra]) == {test_learner.NUM_ACTIONS,
                                     test_learner.NUM_ACTIONS + 1}
  np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-6)


def test_several_sources_build_one_agent_and_mismatches_are_refused(tmp_path):
  spec = experiments.from_preset(
      'bt', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0', 100,
      pretrained='bundled:ngu_multiroom,random')
  layout = experiments.make_layout(spec, str(tmp_path))
  assert layout.builder.num_choices(layout.environment_spec) == 7 + 2
  assert 'extra_action_fraction_1' in layout.builder.actor_columns
  with pytest.raises(ValueError, match='Unknown scripted policy'):
    experiments.make_layout(experiments.from_preset(
        'bt', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0', 100,
        pretrained='random,scripted:nobody'), str(tmp_path))
  guided = experiments.override(spec, config=dict(
      handover=bt_config.HandoverConfig(guidance='random', guide_policy=2)))
  with pytest.raises(ValueError, match='pi_p number 2'):
    experiments.make_layout(guided, str(tmp_path))


class SeveralPoliciesProgramTest(parameterized.TestCase):

  def test_program_with_two_policies_guidance_and_value_ended_flights(self):
    run_dir = self.create_tempdir().full_path
    spec = test_program.tiny_spec(
        'bt', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0', 400,
        pretrained='scripted:door_seeker,random',
        config=dict(levy_epsilon_base=0.3, handover=bt_config.HandoverConfig(
            guidance='curriculum', guidance_horizon=8, guide_policy=0,
            flight_end_margin=0.1, flight_policy_choice='softmax')))
    test_program.launch_until_stopped(
        self, lambda stop: experiments.make_layout(spec, run_dir, stop))
    episodes = reports.actor_episodes(reports.read_logs(run_dir))
    self.assertGreaterEqual(episodes['actor_steps'].max(), 400)
    # Every episode starts with 8 guided steps of the door seeker.
    np.testing.assert_allclose(
        episodes['guided_fraction'] * episodes['episode_length'], 8.)
    self.assertTrue((episodes['guidance_horizon'] == 8).all())
    for k in (0, 1):
      self.assertIn(f'flight_fraction_{k}', episodes)
      self.assertIn(f'extra_action_fraction_{k}', episodes)


def test_arms_name_hand_overs_and_set_them():
  arms = pipeline.parse_arms(['jsrl', 'bt+random_pi+zoo_pi', 'bt+guided',
                              'bt+partial_init+value_ended'])
  assert [a.name for a in arms] == [
      'jsrl', 'bt+zoo_pi+random_pi', 'bt+guided',
      'bt+partial_init+value_ended']
  assert pipeline.parse_arms([a.name for a in arms]) == arms
  jsrl, several, guided, value_ended = arms
  settings = pipeline.PipelineSettings(bundled='ngu_multiroom')
  sources = pipeline.pretrained_sources(settings, 'unused')
  spec = pipeline.transfer_spec(settings, sources, 'reach_last_room', several)
  assert spec.pretrained == 'bundled:ngu_multiroom,bundled:ngu_doorkey,random'
  spec = pipeline.transfer_spec(settings, sources, 'reach_last_room', jsrl)
  assert spec.config.exploration == E.FLIGHTS
  assert spec.config.levy_epsilon_base == 0.
  assert spec.config.handover.guidance == bt_config.Guidance.CURRICULUM
  assert pipeline.transfer_spec(
      settings, sources, 'game', guided).config.handover.guidance == (
          bt_config.Guidance.CURRICULUM)
  assert pipeline.transfer_spec(
      settings, sources, 'game',
      value_ended).config.handover.flight_end_margin == (
          pipeline.VALUE_END_MARGIN)
  with pytest.raises(ValueError, match='hand-overs'):
    pipeline.parse_arms(['bt+guided+guided'])


def test_the_far_task_is_planned_only_by_name_at_its_budget():
  assert not [r for r in study.plan() if r.family == suite.FAR]
  assert {r.arm for r in study.plan() if r.family == 'hard'} >= set(
      suite.HANDOVER_ARMS)
  far = study.plan(families=[suite.FAR])
  assert {r.level for r in far} == {'multiroom'}
  assert {r.arm for r in far} == {'bt', *suite.HANDOVER_ARMS,
                                  'bt+partial_init+ks',
                                  'epsilon_greedy+partial_init+ks'}
  for arm in suite.FAR_ARMS:  # Five seeds each, retention's too.
    assert {r.seed for r in far if r.arm == arm} == set(range(5)), arm
  settings = study.settings_for(far[0])
  assert settings.task == 'reach_last_room'
  assert settings.transfer_steps == 600_000


def test_hand_overs_that_read_q_of_extra_actions_need_them(tmp_path):
  spec = experiments.from_preset(
      'bt', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0', 100, pretrained='random')
  spec = experiments.override(spec, config=dict(
      exploration=E.FLIGHTS,
      handover=bt_config.HandoverConfig(flight_end_margin=0.1)))
  with pytest.raises(ValueError, match='has no a\\+'):
    experiments.make_layout(spec, str(tmp_path))


def test_a_mix_of_tf_and_python_policies_each_steps_as_it_would_alone():
  env = environments.make_environment(test_bt_actor.ENVIRONMENT)
  spec = specs.make_environment_spec(env)
  tf_policies = []
  for seed in (0, 1):
    tf.random.set_seed(seed)
    network = networks.make_small_network(A)
    tf2_utils.create_variables(network, [spec.observations])
    tf_policies.append(pretrained.GreedyNetworkPolicy(network, A))
  mix = [tf_policies[0], test_bt_actor.CountingPolicy(), tf_policies[1]]
  actor = bt_actor.BehaviorTransferActor(
      FixedQ([0.] * A), A, E.FLIGHTS, [0.], [1.], mix, seeds=[0])
  timestep = env.reset()
  actor.observe_first(0, timestep)
  states = [p.initial_state() for p in mix]
  flown = set()
  for _ in range(25):
    executed = actor.select_actions([timestep.observation])[0]
    expected = []
    for k, policy in enumerate(mix):
      action, states[k] = policy.step(timestep.observation, states[k])
      expected.append(action)
    used = int(actor._used_policy[0])  # pylint: disable=protected-access
    assert executed == expected[used]
    flown.add(used)
    timestep = env.step(executed)
    actor.observe(0, executed, timestep)
    if timestep.last():
      break
  assert flown == {0, 1, 2}


def test_the_evaluator_acts_without_guidance(tmp_path):
  spec = experiments.from_preset(
      'bt', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0', 100,
      pretrained='scripted:door_seeker,random')
  spec = experiments.override(spec, config=dict(
      handover=bt_config.HandoverConfig(guidance='curriculum',
                                        guidance_horizon=5)))
  layout = experiments.make_layout(spec, str(tmp_path))
  builder, environment_spec = layout.builder, layout.environment_spec
  for indices, guided in ((None, False), ([0], True)):
    actor = builder.make_actor(
        environment_spec, builder.make_network(environment_spec), [0],
        environment_indices=indices, num_environments=1)
    records = run_actor(actor, 5, environment=environments.make_environment(
        'minigrid:MiniGrid-MultiRoom-N2-S4-v0'))
    assert all(r['in_flight'] for r in records) == guided


def test_a_flight_right_after_guidance_is_not_guided():
  actor = make_actor([0.] * (A + 2), levy_epsilon=1., guidance='curriculum',
                     guidance_horizon=3)
  records = run_actor(actor, 8)
  assert all(r['in_flight'] for r in records)  # Guidance, then flights.
  # Only the first three steps were guided.
  assert actor.episode_metrics(0)['guided_fraction'] == 3 / 8


def test_per_policy_usage_is_plotted_beside_the_learning_curves(tmp_path):
  """A run with two pi_p: the run's plot gets an a+ usage panel with each
  measure per policy; a run without a+ keeps its two panels."""
  def write_actor_log(run_dir, columns):
    path = reports.log_path(str(run_dir), 'actor_0')
    os.makedirs(os.path.dirname(path))
    rows = {'actor_steps': [100, 200, 300], 'episode_return': [0., 1., 0.],
            'episode_length': [100] * 3, **columns}
    pd.DataFrame(rows).to_csv(path, index=False)

  per_policy = {f'{measure}_{k}': [0.1 * k] * 3
                for measure in reports.USAGE_MEASURES for k in (0, 1)}
  write_actor_log(tmp_path / 'two', {
      **per_policy, **{measure: [0.2] * 3
                       for measure in reports.USAGE_MEASURES}})
  usage = reports.extra_action_usage(
      reports.actor_episodes(reports.read_logs(str(tmp_path / 'two'))))
  assert usage == [
      (measure, k, f'{measure}_{k}')
      for measure in ('greedy_extra_action_fraction', 'flight_fraction',
                      'extra_action_fraction') for k in (0, 1)]
  write_actor_log(tmp_path / 'plain', {})
  widths = {}
  for name in ('two', 'plain'):
    path = reports.plot_learning_curves(str(tmp_path / name))
    widths[name] = plt.imread(path).shape[1]
  assert widths == {'two': 1650, 'plain': 1100}  # Three panels, and two.
