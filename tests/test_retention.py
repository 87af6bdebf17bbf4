"""Knowledge retention (kickstarting, behavioural cloning, EWC) against
independent NumPy computations, and what each does to a few learner steps."""

import itertools

from absl.testing import parameterized
from acme import specs
from acme.tf import utils as tf2_utils
import numpy as np
import pytest
import tensorflow as tf

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer import networks
from behavior_transfer.agents.bt import actor as bt_actor
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.r2d2 import learning
from behavior_transfer.agents.retention import config as retention_config
from behavior_transfer.agents.retention import demonstrations
from behavior_transfer.agents.retention import losses
from behavior_transfer.policies import pretrained
from behavior_transfer.launching import reports
from behavior_transfer.studies import pipeline
from tests import test_bt_actor
from tests import test_learner
from tests import test_program
from tests.test_learner import BATCH, NUM_ACTIONS

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs

M = retention_config.Method
TAU = 0.5


def pretrained_extras(rng, shape):
  """Random pi_p distributions; zero (no target) after sequence 1 ends, as
  the adder pads an episode's last observation and what follows."""
  logits = 3 * rng.randn(*shape, NUM_ACTIONS)  # Sharp, as a greedy pi_p.
  distributions = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
  distributions[1, 6:] = 0.
  return {'pretrained_policy': distributions.astype(np.float32)}


def make_sample(config, seed=0):
  return test_learner.make_sample(config, seed, extras=pretrained_extras)


def retention(**fields):
  return retention_config.RetentionConfig(q_temperature=TAU, **fields)


def after_burn_in(sample, config, field):
  """[T, B, ...] of a field of the sample's steps after burn-in, in NumPy."""
  value = sample.data.extras[field].numpy()
  return np.swapaxes(value, 0, 1)[config.burn_in_length:]


def numpy_kl(q, target, mask):
  """Masked mean over steps of KL(target || softmax(q[:|A|] / TAU))."""
  logits = q[..., :NUM_ACTIONS] / TAU
  log_policy = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  with np.errstate(divide='ignore', invalid='ignore'):
    entropy_part = np.where(target > 0, target * np.log(target), 0.)
  kl = (entropy_part - target * log_policy).sum(-1)
  mask = mask & (target.sum(-1) > 0)
  return (kl * mask).sum() / mask.sum()


def td_loss(errors, probabilities, is_demonstration):
  probabilities = np.where(is_demonstration, 1., probabilities)
  weights = (1. / probabilities)**0.6
  weights = weights / weights.max() * (~is_demonstration)
  return np.mean(0.5 * np.sum(errors**2, axis=0) * weights)


def mean_kl(network, target_network, sample, config, sequences):
  q, *_ = test_learner.independent_errors(network, target_network, sample,
                                          config)
  target = after_burn_in(sample, config, 'pretrained_policy')
  return numpy_kl(q, target, np.broadcast_to(sequences, target.shape[:2]))


# Kickstarting.

def test_kickstarting_adds_the_kl_to_pi_p_on_the_agents_steps():
  config = test_learner.make_config()
  online, target = test_learner.make_networks()
  sample = make_sample(config)
  learner = learning.R2D2Learner(
      online, target, config,
      auxiliary_losses=losses.make_losses(retention(methods=['ks']), online))
  loss, _, metrics = learner.loss_and_priorities(sample)

  q, errors, _, _ = test_learner.independent_errors(online, target, sample,
                                                    config)
  kl = numpy_kl(q, after_burn_in(sample, config, 'pretrained_policy'),
                np.ones(q.shape[:2], bool))
  expected_td = td_loss(errors, sample.info.probability, np.zeros(BATCH, bool))
  np.testing.assert_allclose(metrics['kickstarting_loss'], kl, rtol=1e-4)
  np.testing.assert_allclose(metrics['td_loss'], expected_td, rtol=1e-4)
  np.testing.assert_allclose(loss, expected_td + 0.5 * kl, rtol=1e-4)


def test_kickstarting_coefficient_decays_per_learner_step_to_its_floor():
  term = losses.Kickstarting(retention())
  for step in (0, 1, 1000, 20_000, 10**6):
    expected = max(0.5 * 0.99998**step, 0.33)
    np.testing.assert_allclose(term.coefficient(tf.constant(step, tf.int64)),
                               expected, rtol=1e-5)


def kl_before_and_after(method, config, measured_on, seed, retained,
                        **learner_fields):
  """KL(pi_p || softmax(Q/TAU)) on `measured_on` before, and after 20
  learner steps without and with `method` (`retained` its config fields)."""
  everything = np.ones(BATCH, bool)
  kls = {}
  for methods in ((), (method,)):
    online, target = test_learner.make_networks(seed=seed)
    before = mean_kl(online, target, measured_on, config, everything)
    learner = learning.R2D2Learner(
        online, target, config, auxiliary_losses=losses.make_losses(
            retention(methods=methods, **retained), online), **learner_fields)
    for _ in range(20):
      learner.step()
    kls[methods] = mean_kl(online, target, measured_on, config, everything)
  return before, kls[()], kls[(method,)]


def test_kickstarting_steps_move_softmax_q_to_pi_p_and_plain_steps_do_not():
  config = test_learner.make_config(learning_rate=1e-2)
  sample = make_sample(config, seed=4)
  before, plain, kickstarted = kl_before_and_after(
      'ks', config, sample, 2, dict(kickstarting_coefficient=5.),
      iterator=itertools.repeat(sample))
  assert kickstarted < 0.7 * before, (before, plain, kickstarted)
  assert kickstarted < 0.7 * plain, (before, plain, kickstarted)


# Behavioural cloning.

def test_demonstrations_are_mixed_into_batches_at_the_ratio():
  size = 4000

  def batch(source):
    data = {'observation': np.full((size, 3), source, np.float32)}
    info = learning.reverb.SampleInfo(
        key=np.full(size, source, np.uint64), probability=np.ones(size),
        table_size=np.ones(size, np.int64), priority=np.ones(size))
    return learning.reverb.ReplaySample(
        info=info, data=tf.nest.map_structure(tf.constant, data))

  mixed, is_demonstration = learning.mix_demonstrations(
      batch(0), batch(1), 0.25, tf.constant([7, 3], tf.int64))
  fraction = is_demonstration.numpy().mean()
  assert abs(fraction - 0.25) < 4 * np.sqrt(0.25 * 0.75 / size)
  keys = mixed.info.key.numpy()
  np.testing.assert_array_equal(keys == 1, is_demonstration.numpy())
  np.testing.assert_array_equal(mixed.data['observation'].numpy()[:, 0],
                                keys.astype(np.float32))


class RecordingClient:
  """Stands in for the learner's replay client; keeps priority updates."""

  def __init__(self):
    self.updates = []

  def update_priorities(self, table, keys, priorities):
    self.updates.append((table, keys.numpy(), priorities.numpy()))


def mixed_batch(config, is_demonstration):
  """Agent sequences from one sample, demonstrations from another."""
  agent, demonstration = make_sample(config, 0), make_sample(config, 9)
  demonstration = demonstration._replace(info=demonstration.info._replace(
      key=tf.constant(np.arange(100, 100 + BATCH, dtype=np.uint64))))
  mask = tf.constant(is_demonstration)

  def choose(a, d):
    a, d = tf.convert_to_tensor(a), tf.convert_to_tensor(d)
    shape = [-1] + [1] * (a.shape.rank - 1)
    return tf.where(tf.reshape(mask, shape), d, a)
  return tf.nest.map_structure(choose, agent, demonstration)


@pytest.mark.parametrize('cloning_loss', ['kl', 'margin'])
def test_cloning_trains_demonstrations_only_and_td_the_agents_only(
    cloning_loss):
  config = test_learner.make_config()
  online, target = test_learner.make_networks()
  is_demonstration = np.array([True, False, False])
  sample = mixed_batch(config, is_demonstration)
  client = RecordingClient()
  learner = learning.R2D2Learner(
      online, target, config, replay_client=client,
      auxiliary_losses=losses.make_losses(
          retention(methods=['bc'], cloning_loss=cloning_loss), online))
  _, _, metrics = learner.loss_and_priorities(sample,
                                              tf.constant(is_demonstration))

  q, errors, _, _ = test_learner.independent_errors(online, target, sample,
                                                    config)
  pi = after_burn_in(sample, config, 'pretrained_policy')
  demo_steps = np.broadcast_to(is_demonstration, q.shape[:2])
  if cloning_loss == 'kl':
    expected = numpy_kl(q, pi, demo_steps)
  else:
    a_p = pi.argmax(-1)
    margins = 0.8 * (np.arange(NUM_ACTIONS) != a_p[..., None])
    per_step = ((q + margins).max(-1) -
                np.take_along_axis(q, a_p[..., None], -1)[..., 0])
    mask = demo_steps & (pi.sum(-1) > 0)
    expected = (per_step * mask).sum() / mask.sum()
  np.testing.assert_allclose(metrics['cloning_loss'], expected, rtol=1e-4)
  np.testing.assert_allclose(
      metrics['td_loss'],
      td_loss(errors, sample.info.probability.numpy(), is_demonstration),
      rtol=1e-4)
  # Priorities go to the agent's sequences only.
  learner.update(sample, tf.constant(is_demonstration))
  (_, keys, _), = client.updates
  np.testing.assert_array_equal(keys, sample.info.key.numpy()[1:])


def test_cloning_steps_move_softmax_q_to_pi_p_on_demonstrations():
  config = test_learner.make_config(learning_rate=3e-3)
  agent, demonstration = make_sample(config, 1), make_sample(config, 2)
  before, plain, cloned = kl_before_and_after(
      'bc', config, demonstration, 3, {},
      iterator=itertools.repeat(agent),
      # Most sequences from the demonstrations: a batch holds only three.
      demonstrations=itertools.repeat(demonstration), demonstration_ratio=0.9)
  assert cloned < 0.7 * before, (before, plain, cloned)
  assert cloned < 0.7 * plain, (before, plain, cloned)


# EWC.

def independent_fisher(network, sample, config):
  """Mean over trained steps of each step's squared gradient of
  log softmax(Q / TAU) at pi_p's action, one tape per step; as in the
  learner, the state after burn-in carries no gradient."""
  data = tf.nest.map_structure(lambda x: np.swapaxes(x.numpy(), 0, 1),
                               sample.data)
  variables = network.torso_and_core_variables
  sums = [np.zeros(v.shape) for v in variables]
  count = 0
  burn = config.burn_in_length
  for b in range(BATCH):
    state = tf.nest.map_structure(lambda x, b=b: tf.constant(x[0, b:b + 1]),
                                  data.extras['core_state'])
    observations = tf.nest.map_structure(
        lambda x, b=b: tf.constant(x[:, b:b + 1]), data.observation)
    _, state = network.unroll(
        tf.nest.map_structure(lambda x: x[:burn], observations), state, burn)
    pi = data.extras['pretrained_policy'][burn:, b]
    for t in range(config.sequence_length - burn):
      if pi[t].sum() == 0:
        continue
      with tf.GradientTape() as tape:
        q, _ = network.unroll(
            tf.nest.map_structure(lambda x: x[burn:], observations), state,
            t + 1)
        log_policy = tf.nn.log_softmax(q[t, 0, :NUM_ACTIONS] / TAU)
        log_likelihood = log_policy[int(pi[t].argmax())]
      for total, gradient in zip(sums, tape.gradient(log_likelihood,
                                                     variables)):
        total += np.square(gradient.numpy())
      count += 1
  return [total / count for total in sums]


def test_ewc_fisher_and_penalty_match_numpy():
  config = test_learner.make_config()
  online, target = test_learner.make_networks()
  demonstration = make_sample(config, 5)
  term = losses.ElasticWeightConsolidation(
      retention(methods=['ewc'], fisher_batches=1), online)
  learner = learning.R2D2Learner(
      online, target, config, auxiliary_losses=[term],
      demonstrations=itertools.repeat(demonstration))
  term.prepare(learner)
  expected = independent_fisher(online, demonstration, config)
  for fisher, value in zip(term.fisher, expected):
    np.testing.assert_allclose(fisher.numpy(), value, rtol=2e-3, atol=1e-9)
  assert sum(f.numpy().sum() for f in term.fisher) > 0

  rng = np.random.RandomState(0)
  for variable in online.torso_and_core_variables:
    variable.assign_add(0.01 * rng.randn(*variable.shape))
  penalty = sum(
      (f.numpy() * np.square(v.numpy() - a.numpy())).sum()
      for f, v, a in zip(term.fisher, online.torso_and_core_variables,
                         term.anchors))
  _, metrics = term(None, None, None, None)
  np.testing.assert_allclose(metrics['ewc_penalty'], penalty, rtol=1e-4)


def test_ewc_keeps_protected_weights_near_pretrained_while_plain_drifts():
  config = test_learner.make_config(learning_rate=3e-3)
  sample, demonstration = make_sample(config, 6), make_sample(config, 7)
  penalties = {}
  for coefficient in (0., 1e4):
    online, target = test_learner.make_networks(seed=4)
    term = losses.ElasticWeightConsolidation(
        retention(methods=['ewc'], fisher_batches=1,
                  ewc_coefficient=coefficient), online)
    learner = learning.R2D2Learner(
        online, target, config, iterator=itertools.repeat(sample),
        auxiliary_losses=[term],
        demonstrations=itertools.repeat(demonstration))
    head_before = [v.numpy().copy() for v in online.head_variables]
    for _ in range(15):
      learner.step()
    penalties[coefficient] = float(term.penalty())
    # The head is not protected: it learns either way.
    assert any(not np.allclose(b, v.numpy())
               for b, v in zip(head_before, online.head_variables))
  assert penalties[1e4] < 0.2 * penalties[0.], penalties


# Acting and demonstrations.

def distribution_policy():
  env = environments.make_environment(test_bt_actor.ENVIRONMENT)
  spec = specs.make_environment_spec(env)
  tf.random.set_seed(1)
  network = networks.make_small_network(test_bt_actor.NUM_ACTIONS)
  tf2_utils.create_variables(network, [spec.observations])
  return pretrained.GreedyNetworkPolicy(network, test_bt_actor.NUM_ACTIONS)


class RecordingAdder:

  def __init__(self):
    self.steps = []

  def add_first(self, timestep):
    del timestep

  def add(self, action, next_timestep, extras=()):
    del next_timestep
    self.steps.append((int(action), extras))


def test_actors_record_pi_ps_distribution_whatever_explores():
  policy = distribution_policy()
  adder = RecordingAdder()
  actor = bt_actor.BehaviorTransferActor(
      test_bt_actor.FixedQ([0.] * test_bt_actor.NUM_ACTIONS),
      test_bt_actor.NUM_ACTIONS, bt_config.Exploration.EPSILON_GREEDY, [0.3],
      [0.], policy, [adder], seeds=[0], records_pretrained_policy=True,
      pretrained_temperature=TAU)
  test_bt_actor.run_actor(actor, 12)
  env = environments.make_environment(test_bt_actor.ENVIRONMENT)
  timestep, state = env.reset(), policy.initial_state()
  for action, extras in adder.steps:
    observation = tf.nest.map_structure(lambda x: tf.constant(x)[None],
                                        timestep.observation)
    values, state = policy.tf_values_step(observation, state)
    np.testing.assert_allclose(extras['pretrained_policy'],
                               tf.nn.softmax(values[0] / TAU), rtol=1e-5)
    timestep = env.step(action)

  # A pi_p without values (plain Python) is recorded one-hot at its action.
  adder = RecordingAdder()
  actor = bt_actor.BehaviorTransferActor(
      test_bt_actor.FixedQ([0.] * test_bt_actor.NUM_ACTIONS),
      test_bt_actor.NUM_ACTIONS, bt_config.Exploration.EPSILON_GREEDY, [0.],
      [0.], test_bt_actor.CountingPolicy(), [adder], seeds=[0],
      records_pretrained_policy=True)
  test_bt_actor.run_actor(actor, 5)
  for t, (_, extras) in enumerate(adder.steps):
    assert extras['pretrained_policy'].argmax() == test_bt_actor.pi_action_at(t)
    assert extras['pretrained_policy'].sum() == 1.


def test_the_demonstrator_writes_pi_ps_actions_and_distributions(tmp_path):
  policy = distribution_policy()
  path = pretrained.export_policy(policy._network, specs.make_environment_spec(  # pylint: disable=protected-access
      environments.make_environment(test_bt_actor.ENVIRONMENT)),
                                  str(tmp_path / 'pi'))
  exported = pretrained.ExportedPolicy(path)  # Its values survive export.
  adder = RecordingAdder()
  core_state = networks.make_small_network(
      test_bt_actor.NUM_ACTIONS).initial_state(1)
  actor = demonstrations.DemonstrationActor(exported, core_state, TAU,
                                            [adder], 1)
  env = environments.make_environment(test_bt_actor.ENVIRONMENT)
  timestep = env.reset()
  actor.observe_first(0, timestep)
  state = policy.initial_state()
  for _ in range(10):
    action = actor.select_actions([timestep.observation])[0]
    expected, state = policy.step(timestep.observation, state)
    assert action == expected
    timestep = env.step(action)
    actor.observe(0, action, timestep)
  for action, extras in adder.steps:
    assert extras['executed_action'] == action
    assert extras['pretrained_policy'].argmax() == action
    np.testing.assert_allclose(extras['pretrained_policy'].sum(), 1.,
                               rtol=1e-5)
    for leaf in tf.nest.flatten(extras['core_state']):
      assert not np.any(leaf)


# Arms and validation.

def test_arms_name_retention_methods_and_refuse_malformed_ones():
  arms = pipeline.parse_arms(['epsilon_greedy+full_init+ks',
                              'bt+ewc+partial_init+ks', 'bt+bc'])
  assert [(a.exploration, a.weight_init, a.retention) for a in arms] == [
      ('epsilon_greedy', 'full', ('ks',)),
      ('bt', 'partial', ('ks', 'ewc')),
      ('bt', 'none', ('bc',))]
  assert arms[1].name == 'bt+partial_init+ks+ewc'
  for bad in ('bt+ks+ks', 'bt+full_init+partial_init', 'bt+kickstart'):
    with pytest.raises(ValueError, match='ks, \\+bc, \\+ewc'):
      pipeline.parse_arms([bad])


def transfer_spec(arm, **fields):
  arm, = pipeline.parse_arms([arm])
  return experiments.from_preset(
      'bt', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0', 100,
      weight_init=arm.weight_init,
      weights_checkpoint=(None if arm.weight_init == 'none'
                          else 'bundled:ngu_multiroom'),
      **fields), arm


def test_invalid_combinations_are_refused_when_the_program_is_built(tmp_path):
  spec, arm = transfer_spec('epsilon_greedy+ks')
  spec = experiments.override(spec, config=dict(
      exploration=bt_config.Exploration(arm.exploration),
      retention=retention_config.RetentionConfig(methods=arm.retention)))
  with pytest.raises(ValueError, match='Retention by ks needs a pre-trained'):
    experiments.make_layout(spec, str(tmp_path))
  spec, arm = transfer_spec('epsilon_greedy+ewc', pretrained='random')
  spec = experiments.override(spec, config=dict(
      exploration=bt_config.Exploration(arm.exploration),
      retention=retention_config.RetentionConfig(methods=arm.retention)))
  with pytest.raises(ValueError, match='EWC .* needs full or partial'):
    experiments.make_layout(spec, str(tmp_path))
  with pytest.raises(ValueError, match='strictly between 0 and 1'):
    retention_config.RetentionConfig(demonstration_ratio=1.)


class RetentionProgramTest(parameterized.TestCase):
  """Each kind of combination builds, validates and runs under test_mt."""

  @parameterized.parameters('epsilon_greedy+full_init+ks+bc+ewc',
                            'bt+partial_init+ks')
  def test_program_runs_and_logs_its_retention_terms(self, name):
    run_dir = self.create_tempdir().full_path
    arm, = pipeline.parse_arms([name])
    methods = retention_config.RetentionConfig(methods=arm.retention)
    spec = test_program.tiny_spec(
        'bt', 'minigrid:MiniGrid-MultiRoom-N2-S4-v0', 400,
        pretrained='bundled:ngu_multiroom', weight_init=arm.weight_init,
        weights_checkpoint='bundled:ngu_multiroom',
        config=dict(
            exploration=bt_config.Exploration(arm.exploration),
            retention=retention_config.RetentionConfig(
                methods=arm.retention, demonstration_steps=200,
                max_demonstration_size=100, fisher_batches=1)))
    test_program.launch_until_stopped(
        self, lambda stop: experiments.make_layout(spec, run_dir, stop))

    logs = reports.read_logs(run_dir)
    learner = logs['learner']
    self.assertGreater(learner['learner_steps'].max(), 2)
    for column in losses.columns(methods):
      values = learner[column].dropna()
      self.assertFalse(values.empty, column)
      self.assertTrue(np.isfinite(values).all(), column)
    self.assertGreater(learner['kickstarting_loss'].max(), 0.)
    if methods.needs_demonstrations:
      self.assertGreater(learner['cloning_loss'].max(), 0.)
      self.assertGreater(learner['demonstration_fraction'].mean(), 0.)
      self.assertIn('demonstrator', logs)
    else:
      self.assertNotIn('demonstrator', logs)


def test_ewc_anchor_and_fisher_survive_a_checkpoint(tmp_path):
  """A resumed run keeps theta* and F from the start of transfer, not the
  weights it resumes with."""
  config = test_learner.make_config(learning_rate=1e-2)
  sample, demonstration = make_sample(config, 6), make_sample(config, 7)

  def make_learner():
    online, target = test_learner.make_networks(seed=4)
    term = losses.ElasticWeightConsolidation(
        retention(methods=['ewc'], fisher_batches=1), online)
    return term, learning.R2D2Learner(
        online, target, config, iterator=itertools.repeat(sample),
        auxiliary_losses=[term],
        demonstrations=itertools.repeat(demonstration))
  term, learner = make_learner()
  for _ in range(3):
    learner.step()
  checkpoint = tf.train.Checkpoint(**learner.state)
  path = checkpoint.save(str(tmp_path / 'ckpt'))

  resumed_term, resumed = make_learner()
  tf.train.Checkpoint(**resumed.state).restore(path).assert_consumed()
  resumed_term.prepare(resumed)  # Must not take a new anchor or Fisher.
  for name in ('anchors', 'fisher'):
    for kept, restored in zip(getattr(term, name),
                              getattr(resumed_term, name)):
      np.testing.assert_array_equal(kept.numpy(), restored.numpy())
  assert float(resumed_term.penalty()) == pytest.approx(float(term.penalty()))
  assert float(term.penalty()) > 0.
