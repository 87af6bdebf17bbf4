"""No training on NaN: a learner whose loss, TD errors or values stop being
finite ends its node naming the step, the quantity and the last finite
checkpoint, and never saves non-finite weights."""

import itertools
import os
import re
import threading

from acme.tf import savers as tf2_savers
import numpy as np
import pytest
import reverb
import tensorflow as tf

from behavior_transfer import experiments
from behavior_transfer.agents.r2d2 import learning
from behavior_transfer.distributed import checkpointing
from behavior_transfer.distributed import nodes
from behavior_transfer.launching import runs
from tests import test_learner
from tests import test_program

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs


def test_a_diverged_network_stops_the_learner_naming_the_step():
  config = test_learner.make_config()
  online, target = test_learner.make_networks()
  # As after a huge update: every weight NaN. (NaN in the LSTM's recurrent
  # weights alone did not reach the loss under oneDNN's kernels.)
  for weights in online.trainable_variables:
    weights.assign(tf.fill(weights.shape, np.nan))
  learner = learning.R2D2Learner(online, target, config,
                                 iterator=itertools.repeat(
                                     test_learner.make_sample(config)))
  with pytest.raises(learning.NonFiniteLearning,
                     match='learner loss became NaN at step 1'):
    learner.step()
  # The metrics are checked, not only the loss: a Q value alone.
  with pytest.raises(learning.NonFiniteLearning,
                     match='learner Q values became inf at step 7'):
    learning.check_finite({'loss': 1., 'mean_q': np.inf}, ['loss', 'mean_q'],
                          7)


def test_non_finite_priorities_are_not_written_and_the_step_names_why():
  # Reverb fails a whole update on a NaN priority, with a raw traceback.
  server = reverb.Server([reverb.Table(
      'priority_table', reverb.selectors.Prioritized(0.9),
      reverb.selectors.Fifo(), 10, reverb.rate_limiters.MinSize(1))])
  client = reverb.Client(f'localhost:{server.port}')
  client.insert([np.zeros(1)], priorities={'priority_table': 1.})
  [[item]] = client.sample('priority_table', num_samples=1)
  config = test_learner.make_config()
  sample = test_learner.make_sample(config)
  batch = sample.info.key.shape[0]
  sample = sample._replace(info=sample.info._replace(
      key=tf.constant([item.info.key] * batch, tf.uint64)))

  def learner(nan_weights=False):
    online, target = test_learner.make_networks()
    for variable in online.trainable_variables if nan_weights else ():
      variable.assign(tf.fill(variable.shape, np.nan))
    return learning.R2D2Learner(
        online, target, config, iterator=itertools.repeat(sample),
        replay_client=reverb.TFClient(f'localhost:{server.port}'),
        table='priority_table')

  def priority():
    [[item]] = client.sample('priority_table', num_samples=1)
    return item.info.priority

  with pytest.raises(learning.NonFiniteLearning, match='became NaN at step 1'):
    learner(nan_weights=True).step()  # The traced update, as in the learner node.
  assert priority() == 1.  # Not written.
  learner().step()
  assert priority() != 1.  # Finite priorities are.
  server.stop()


class _Learner:
  """A learner whose weights or metrics stop being finite when told."""

  def __init__(self):
    self.weights = tf.Variable([1., 2.])
    self.steps = 0
    self.raise_at = self.nan_weights_at = None

  @property
  def state(self):
    return {'weights': self.weights}

  def step(self):
    self.steps += 1
    if self.steps == self.nan_weights_at:
      self.weights.assign([np.nan, 2.])
    if self.steps == self.raise_at:
      raise learning.NonFiniteLearning(
          f'learner loss became NaN at step {self.steps}')


def _checkpointed(tmp_path, learner):
  checkpointer = tf2_savers.Checkpointer(
      learner.state, directory=str(tmp_path), subdirectory='learner',
      add_uid=False)
  # A checkpoint is due after every step.
  return checkpointing.CheckpointedLearner(learner, checkpointer,
                                           checkpoint_seconds=0.)


def _run_until_failure(checkpointed):
  with pytest.raises(nodes.NodeError) as error:
    checkpointed.run()
  return str(error.value)


def _latest(tmp_path):
  return tf.train.latest_checkpoint(str(tmp_path / 'checkpoints' / 'learner'))


def _saved_weights(tmp_path):
  weights = tf.Variable([0., 0.])
  checkpoint = tf.train.Checkpoint(weights=weights)
  checkpoint.restore(_latest(tmp_path)).expect_partial()
  return weights.numpy()


@pytest.mark.parametrize('failure', ['metrics', 'weights'])
def test_nothing_non_finite_is_ever_saved(tmp_path, failure):
  learner = _Learner()
  if failure == 'metrics':
    learner.nan_weights_at = learner.raise_at = 3
  else:
    learner.nan_weights_at = 3  # Metrics never say so.
  checkpointed = _checkpointed(tmp_path, learner)
  message = _run_until_failure(checkpointed)
  latest = _latest(tmp_path)
  assert latest and latest.endswith('ckpt-2'), latest
  expected = ('learner loss became NaN at step 3' if failure == 'metrics'
              else 'learner weights became non-finite')
  assert expected in message and latest in message, message
  np.testing.assert_array_equal(_saved_weights(tmp_path), [1., 2.])
  checkpointed.on_stop()  # Stop-time saving skips it too.
  assert _latest(tmp_path) == latest


# Launchpad counts down a program's shutdown with SIGALRM, which is also
# pytest-timeout's default signal: time this test from a thread instead.
@pytest.mark.timeout(600, method='thread')
def test_a_diverging_run_fails_with_the_reason_and_keeps_finite_weights(
    tmp_path):
  run_dir = str(tmp_path / 'run')
  spec = experiments.override(test_program.tiny_spec(max_actor_steps=10**6),
                              r2d2=dict(learning_rate=1e12))
  with pytest.raises(runs.NodeFailure) as failure:
    experiments.run(spec, run_dir, 'test_mt')
  message = str(failure.value)
  assert "Node 'learner' failed: learner" in message, message
  assert re.search(r'became (NaN|-?inf|non-finite)', message), message
  assert re.search(r'at step \d+', message) or 'weights' in message, message
  assert 'the last finite checkpoint is' in message, message
  assert 'Traceback' not in message
  # What is on disk holds finite weights, and a relaunch would read it.
  checkpointing.verify(run_dir, checkpointing.LEARNER)
  reader = tf.train.load_checkpoint(
      checkpointing.checkpoint_dir(run_dir, checkpointing.LEARNER))
  for name in reader.get_variable_to_shape_map():
    value = reader.get_tensor(name)
    if np.issubdtype(np.asarray(value).dtype, np.floating):
      assert np.isfinite(value).all(), name
  assert os.path.exists(os.path.join(run_dir, nodes.FAILURE_FILE))
  # Launchpad's node monitor ended with the run: left behind, it SIGQUITs
  # this whole process 3 s after it sees a node thread that raised.
  assert not [t for t in threading.enumerate() if '_node_monitor' in t.name]
