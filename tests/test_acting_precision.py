"""Actors acting in bfloat16 (`R2D2Config.acting_dtype`).

A bfloat16 copy of the Q-network takes the learner's float32 weights through
Acme's VariableClient, computes in bfloat16, and hands float32 Q-values and
LSTM states back, so replay holds float32 whatever the actors compute in.
"""

import dataclasses
import functools

from absl.testing import absltest
from absl.testing import parameterized
from acme import specs
from acme.tf import utils as tf2_utils
from acme.tf import variable_utils
from acme.wrappers import observation_action_reward as oar
import numpy as np
import tensorflow as tf

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer import tf_runtime
from behavior_transfer.agents.bt import builder as bt_builder
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.r2d2 import actor as r2d2_actor
from behavior_transfer.agents.r2d2 import builder as r2d2_builder
from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.networks import q_network

MINIGRID = 'minigrid:MiniGrid-Empty-8x8-v0'
STEPS = 20
# TF 2.8 computes bfloat16 only on CPUs with AVX512; elsewhere the tests that
# act in it are skipped, and the refusal is what is tested.
NEEDS_BFLOAT16 = absltest.skipUnless(
    q_network.cpu_computes_bfloat16(),
    'this CPU has no AVX512: TF 2.8 computes no bfloat16 here')


def _atari_spec(num_actions=6):
  """An Atari game's spec after the OAR wrapper, without the emulator."""
  return specs.EnvironmentSpec(
      observations=oar.OAR(observation=specs.Array((84, 84, 1), np.uint8),
                           action=specs.Array((), np.int32),
                           reward=specs.Array((), np.float32)),
      actions=specs.DiscreteArray(num_actions),
      rewards=specs.Array((), np.float32),
      discounts=specs.BoundedArray((), np.float32, 0., 1.))


def _minigrid_spec():
  return specs.make_environment_spec(environments.make_environment(MINIGRID))


class _LearnerVariables:
  """A variable source serving float32 numpy weights, as the learner does."""

  def __init__(self, network):
    self._network = network

  def get_variables(self, names):
    del names
    return [tf2_utils.to_numpy(self._network.variables)]


def _random_inputs(spec, batch, rng):
  observation = spec.observations.observation
  high = 255 if observation.dtype == np.uint8 else 5
  return spec.observations._replace(
      observation=rng.randint(0, high, (batch,) + observation.shape
                              ).astype(observation.dtype),
      action=rng.randint(0, spec.actions.num_values, batch).astype(np.int32),
      reward=rng.randn(batch).astype(np.float32))


class ActingPrecisionTest(parameterized.TestCase):

  @parameterized.named_parameters(('atari', 'atari'), ('minigrid', 'minigrid'))
  @NEEDS_BFLOAT16
  def test_bfloat16_copy_fetches_float32_weights_and_acts_like_them(
      self, domain):
    tf.random.set_seed(0)
    spec = _atari_spec() if domain == 'atari' else _minigrid_spec()
    make = functools.partial(networks.make_q_network, domain, spec,
                             size='tiny' if domain == 'atari' else 'standard')
    learner = make()
    tf2_utils.create_variables(learner, [spec.observations])
    actor = make(dtype='bfloat16')
    tf2_utils.create_variables(actor, [spec.observations])
    self.assertEqual({v.dtype for v in learner.variables}, {tf.float32})
    self.assertEqual({v.dtype for v in actor.variables}, {tf.bfloat16})
    self.assertEqual([v.name for v in actor.variables],
                     [v.name for v in learner.variables])

    client = variable_utils.VariableClient(
        _LearnerVariables(learner), {'policy': actor.variables})
    client.update_and_wait()
    for fetched, weights in zip(actor.variables, learner.variables):
      np.testing.assert_allclose(tf.cast(fetched, tf.float32), weights,
                                 rtol=2 ** -8, atol=1e-30)

    rng = np.random.RandomState(0)
    learner_state = actor_state = learner.initial_state(16)
    for _ in range(STEPS):  # States carried over steps stay close too.
      inputs = _random_inputs(spec, 16, rng)
      q_learner, learner_state = learner(inputs, learner_state)
      q_actor, actor_state = actor(inputs, actor_state)
      self.assertEqual(q_actor.dtype, tf.float32)
      self.assertEqual({x.dtype for x in actor_state}, {tf.float32})
    scale = float(tf.reduce_max(tf.abs(q_learner)))
    self.assertGreater(scale, 0.)
    # bfloat16 keeps 8 bits of mantissa; over 20 steps of carried state the
    # Q-values stay within a tenth of their scale (weights that were not
    # fetched, or a state reset each step, are off by about all of it).
    np.testing.assert_allclose(q_actor, q_learner, atol=0.1 * scale)
    cell = np.asarray(learner_state.cell)
    np.testing.assert_allclose(actor_state.cell, cell,
                               atol=0.05 * np.abs(cell).max())

  @NEEDS_BFLOAT16
  def test_actor_stores_float32_states_from_a_bfloat16_network(self):
    spec = _minigrid_spec()
    network = networks.make_q_network('minigrid', spec, dtype='bfloat16')
    tf2_utils.create_variables(network, [spec.observations])
    stored = []

    class Recording:

      def add_first(self, timestep):
        del timestep

      def add(self, action, next_timestep, extras=()):
        del action, next_timestep
        stored.append(extras['core_state'])

    actor = r2d2_actor.EpsilonGreedyActor(network, [0.1, 0.1],
                                          [Recording(), Recording()])
    environment = environments.make_environment(MINIGRID)
    timestep = environment.reset()
    for index in range(2):
      actor.observe_first(index, timestep)
    for _ in range(3):
      actions = actor.select_actions([timestep.observation] * 2)
      for index in range(2):
        actor.observe(index, actions[index], environment.step(actions[index]))
    self.assertLen(stored, 6)
    lstm_size = network.initial_state(1).hidden.shape[-1]
    for state in stored:
      for part in state:
        self.assertEqual(part.dtype, np.float32)
        self.assertEqual(part.shape, (lstm_size,))

  @NEEDS_BFLOAT16
  def test_builders_make_actors_networks_in_the_configured_dtype(self):
    spec = _minigrid_spec()
    factory = functools.partial(networks.make_q_network, 'minigrid')
    r2d2 = r2d2_config.preset('minigrid', acting_dtype='bfloat16')
    for builder in (
        r2d2_builder.R2D2Builder(r2d2, factory),
        bt_builder.BTBuilder(
            dataclasses.replace(bt_config.preset('minigrid'), r2d2=r2d2),
            factory)):
      acting = builder.make_acting_network(spec)
      self.assertEqual({v.dtype for v in acting.variables}, {tf.bfloat16})
      learning = builder.make_network(spec)
      self.assertEqual({v.dtype for v in learning.variables}, {tf.float32})
      self.assertEqual(acting.num_outputs, learning.num_outputs)
    float32 = r2d2_builder.R2D2Builder(r2d2_config.preset('minigrid'), factory)
    self.assertEqual({v.dtype for v in
                      float32.make_acting_network(spec).variables},
                     {tf.float32})

  def test_unknown_dtypes_are_refused_with_the_valid_ones(self):
    with self.assertRaisesRegex(ValueError, 'float32, bfloat16'):
      r2d2_config.R2D2Config(acting_dtype='float16')
    with self.assertRaisesRegex(ValueError, 'float32, bfloat16'):
      networks.make_q_network('minigrid', _minigrid_spec(), dtype='float64')

  def test_programs_that_cannot_act_in_bfloat16_are_refused_when_built(self):
    spec = _minigrid_spec()
    config = r2d2_config.preset('minigrid', acting_dtype='bfloat16')

    def factory_without_dtype(environment_spec, num_outputs=None):
      return networks.make_q_network('minigrid', environment_spec, num_outputs)
    builder = r2d2_builder.R2D2Builder(config, factory_without_dtype)
    with self.assertRaisesRegex(ValueError, 'network factory that takes'):
      builder.validate(spec)
    bt = bt_builder.BTBuilder(
        dataclasses.replace(
            bt_config.preset(
                'minigrid', exploration=bt_config.Exploration.EPSILON_GREEDY),
            r2d2=config), factory_without_dtype)
    with self.assertRaisesRegex(ValueError, 'network factory that takes'):
      bt.validate(spec)
    builder = r2d2_builder.R2D2Builder(
        config, functools.partial(networks.make_q_network, 'minigrid'))
    if q_network.cpu_computes_bfloat16():
      builder.validate(spec)
    else:
      with self.assertRaisesRegex(ValueError, 'AVX512'):
        builder.validate(spec)
    with absltest.mock.patch.dict('os.environ',
                                  {tf_runtime.ONEDNN_VARIABLE: '0'}):
      with self.assertRaisesRegex(ValueError, tf_runtime.ONEDNN_VARIABLE):
        builder.validate(spec)

  def test_bfloat16_is_refused_without_onednn(self):
    # TF 2.8's own CPU convolutions in bfloat16 give float32 or no output.
    with absltest.mock.patch.dict('os.environ',
                                  {tf_runtime.ONEDNN_VARIABLE: '0'}):
      with self.assertRaisesRegex(ValueError, tf_runtime.ONEDNN_VARIABLE):
        q_network.check_dtype('bfloat16')
      self.assertEqual(q_network.check_dtype('float32'), tf.float32)

  def test_bfloat16_is_refused_where_the_cpu_cannot_compute_it(self):
    spec = _minigrid_spec()
    builder = r2d2_builder.R2D2Builder(
        r2d2_config.preset('minigrid', acting_dtype='bfloat16'),
        functools.partial(networks.make_q_network, 'minigrid'))
    with absltest.mock.patch.object(q_network, 'cpu_computes_bfloat16',
                                    lambda: False):
      with self.assertRaisesRegex(ValueError, 'AVX512.*float32'):
        builder.validate(spec)  # When the program is built.
      self.assertEqual(q_network.check_dtype('float32'), tf.float32)

  def test_the_cpu_probe_says_whether_a_bfloat16_network_acts(self):
    spec = _minigrid_spec()
    computes = q_network.cpu_computes_bfloat16()
    with absltest.mock.patch.object(q_network, 'cpu_computes_bfloat16',
                                    lambda: True):
      network = networks.make_q_network('minigrid', spec, dtype='bfloat16')
    inputs = _random_inputs(spec, 2, np.random.RandomState(0))
    try:
      q_values, _ = network(inputs, network.initial_state(2))
      acted = bool(np.isfinite(q_values).all())
    except (tf.errors.InvalidArgumentError, tf.errors.InternalError):
      acted = False
    self.assertEqual(acted, computes)


if __name__ == '__main__':
  absltest.main()
