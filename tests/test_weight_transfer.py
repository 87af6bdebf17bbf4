"""Full and partial initialisation from a pre-training checkpoint."""

from acme import specs
from acme.tf import savers as tf2_savers
from acme.tf import utils as tf2_utils
import numpy as np
import pytest
import tensorflow as tf

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer import networks
from behavior_transfer.agents.r2d2 import learning
from behavior_transfer.networks import weight_transfer
from tests import test_learner
from tests import test_pretrained

W = weight_transfer.WeightInit
ENVIRONMENT = test_pretrained.ENVIRONMENT


@pytest.fixture(name='pretraining')
def fixture_pretraining(tmp_path):
  """A learner checkpoint of a pre-trained |A|-output network, and its spec."""
  environment = environments.make_environment(ENVIRONMENT)
  spec = specs.make_environment_spec(environment)
  network = test_pretrained.make_policy_network(spec, seed=5)
  for variable in network.variables:  # Far from any fresh initialisation.
    variable.assign(variable + 0.3)
  learner = learning.R2D2Learner(network, test_pretrained.make_policy_network(spec),
                                 test_learner.make_config())
  tf2_savers.Checkpointer({'learner': learner.state}, directory=str(tmp_path),
                          subdirectory='learner', add_uid=False).save(force=True)
  observations = test_pretrained.rollout(environment, 5)
  return str(tmp_path / 'checkpoints' / 'learner'), spec, network, observations


def loaded(checkpoint, spec):
  source = networks.make_small_network(7)
  weight_transfer.restore_network(source, checkpoint, spec)
  return source


def fresh(spec, num_outputs=None, seed=9):
  tf.random.set_seed(seed)
  network = networks.make_small_network(7, num_outputs)
  tf2_utils.create_variables(network, [spec.observations])
  return network


def q_values(network, observations):
  state, values = network.initial_state(1), []
  for observation in observations:
    q, state = network(tf2_utils.add_batch_dim(observation), state)
    values.append(q.numpy()[0])
  return np.array(values)


def test_full_initialisation_reproduces_the_pretrained_q_values(pretraining):
  checkpoint, spec, pretrained, observations = pretraining
  target = fresh(spec)
  weight_transfer.initialise(W.FULL, loaded(checkpoint, spec), target)
  np.testing.assert_allclose(q_values(target, observations),
                             q_values(pretrained, observations), rtol=1e-6)


def test_partial_initialisation_loads_exactly_torso_and_lstm(pretraining):
  checkpoint, spec, pretrained, _ = pretraining
  target = fresh(spec, num_outputs=8)  # With a+, as BT + partial init uses it.
  head_before = [v.numpy().copy() for v in target.head_variables]
  assigned = weight_transfer.initialise(W.PARTIAL, loaded(checkpoint, spec), target)
  assert {id(v) for v in assigned} == {id(v) for v in target.torso_and_core_variables}
  for source, variable in zip(pretrained.torso_and_core_variables,
                              target.torso_and_core_variables):
    np.testing.assert_array_equal(source.numpy(), variable.numpy())
  for before, variable in zip(head_before, target.head_variables):
    np.testing.assert_array_equal(before, variable.numpy())  # Head untouched.


def test_full_initialisation_with_extra_action_keeps_a_plus_fresh(pretraining):
  checkpoint, spec, pretrained, observations = pretraining
  target = fresh(spec, num_outputs=8)
  fresh_head = [v.numpy().copy() for v in target.head_variables]
  weight_transfer.initialise(W.FULL, loaded(checkpoint, spec), target)
  for before, source, variable in zip(fresh_head, pretrained.head_variables,
                                      target.head_variables):
    if variable.shape == source.shape:
      np.testing.assert_array_equal(source.numpy(), variable.numpy())
    else:  # The advantage layer: primitive columns loaded, a+ column fresh.
      np.testing.assert_array_equal(source.numpy(), variable.numpy()[..., :7])
      np.testing.assert_array_equal(before[..., 7:], variable.numpy()[..., 7:])
  # The primitive actions keep their order and differences (the dueling mean
  # over outputs now includes a+, so all shift by one constant per step).
  delta = q_values(target, observations)[:, :7] - q_values(pretrained, observations)
  np.testing.assert_allclose(delta, delta[:, :1] * np.ones((1, 7)), atol=1e-5)


def test_mismatching_checkpoint_is_refused_with_variable_names(pretraining):
  checkpoint, spec, _, _ = pretraining
  wider = networks.make_small_network(7, lstm_size=32)
  tf2_utils.create_variables(wider, [spec.observations])
  with pytest.raises(ValueError, match=r'lstm/w_h:0 \(pre-trained \[64, 256\], '
                     r'downstream \[32, 128\]\)'):
    weight_transfer.initialise(W.PARTIAL, loaded(checkpoint, spec), wider)
  with pytest.raises(FileNotFoundError, match='nowhere'):
    weight_transfer.restore_network(networks.make_small_network(7), '/nowhere', spec)


def test_transfer_program_refuses_an_unfitting_checkpoint_when_built(tmp_path):
  spec = specs.make_environment_spec(environments.make_environment(ENVIRONMENT))
  narrow = networks.make_small_network(7, lstm_size=32)
  tf2_utils.create_variables(narrow, [spec.observations])
  learner = learning.R2D2Learner(narrow, fresh(spec), test_learner.make_config())
  tf2_savers.Checkpointer({'learner': learner.state}, directory=str(tmp_path),
                          subdirectory='learner', add_uid=False).save(force=True)
  with pytest.raises(ValueError, match='Cannot load the Q-network'):
    experiments.make_layout(experiments.from_preset(
        'bt', ENVIRONMENT, 100, pretrained='random', weight_init='partial',
        weights_checkpoint=str(tmp_path / 'checkpoints' / 'learner')),
                            str(tmp_path / 'run'))
  with pytest.raises(ValueError, match='needs the pre-training checkpoint'):
    experiments.make_layout(experiments.from_preset(
        'bt', ENVIRONMENT, 100, pretrained='random', weight_init='full'),
                            str(tmp_path / 'run'))
