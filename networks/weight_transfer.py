"""Weight transfer: initialise a downstream Q-network from pre-training.

* full: every Q-network weight comes from the pre-training checkpoint;
* partial: the torso and LSTM are loaded, the dueling head stays freshly
  initialised.
With Behavior Transfer the downstream network has one more output (a+) than
the pre-trained one; that output's weights are always left fresh, and in full
initialisation the other outputs' head weights are loaded. Variables are paired
by position (both networks come from one factory) and every pair's shape is
checked first: a checkpoint that does not fit is refused with the names of the
mismatching variables, before anything is assigned.
"""

import enum
from typing import List, Sequence, Tuple

from acme import specs
from acme.tf import utils as tf2_utils
import tensorflow as tf

from behavior_transfer.networks import q_network


class WeightInit(str, enum.Enum):
  NONE = 'none'
  FULL = 'full'
  PARTIAL = 'partial'


def restore_network(network: q_network.RecurrentQNetwork, checkpoint_dir: str,
                    environment_spec: specs.EnvironmentSpec) -> None:
  """Restores a learner checkpoint's online network into `network`."""
  tf2_utils.create_variables(network, [environment_spec.observations])
  latest = tf.train.latest_checkpoint(checkpoint_dir)
  if latest is None:
    raise FileNotFoundError(
        f'No checkpoint in {checkpoint_dir!r} (expected a TF checkpoint index '
        'written by a learner, e.g. <run_dir>/checkpoints/learner).')
  checkpoint = tf.train.Checkpoint(learner={'network': network})
  try:
    status = checkpoint.restore(latest)
    status.assert_existing_objects_matched()
    status.expect_partial()  # The rest of a learner checkpoint is not needed.
  except (AssertionError, ValueError, tf.errors.OpError) as e:
    raise ValueError(f'Cannot load the Q-network from checkpoint {latest}: '
                     f'{e}') from e


def save_network(network: q_network.RecurrentQNetwork, directory: str) -> str:
  """Writes only `network`'s weights, in the layout `restore_network` reads
  (a learner checkpoint's 'learner/network'); returns the checkpoint path."""
  checkpoint = tf.train.Checkpoint(learner={'network': network})
  return tf.train.CheckpointManager(checkpoint, directory, 1).save()


def _pairs(mode: WeightInit, source: q_network.RecurrentQNetwork,
           target: q_network.RecurrentQNetwork
           ) -> List[Tuple[tf.Variable, tf.Variable, bool]]:
  """(source, target, in the head) for every variable `mode` transfers."""
  pairs = [(s, t, False) for s, t in zip(source.torso_and_core_variables,
                                         target.torso_and_core_variables)]
  if mode == WeightInit.FULL:
    pairs += [(s, t, True) for s, t in zip(source.head_variables,
                                           target.head_variables)]
  return pairs


def _fits(source: tf.Variable, target: tf.Variable, in_head: bool,
          extra_outputs: int) -> bool:
  if source.shape == target.shape:
    return True
  # The advantage layer of a network with a+ has `extra_outputs` more columns.
  return (in_head and extra_outputs > 0 and
          source.shape[:-1] == target.shape[:-1] and
          target.shape[-1] == source.shape[-1] + extra_outputs)


def check_compatible(mode: WeightInit, source: q_network.RecurrentQNetwork,
                     target: q_network.RecurrentQNetwork) -> None:
  """Raises naming every variable whose pre-trained shape does not fit."""
  extra_outputs = target.num_outputs - source.num_outputs
  counts = [(len(source.torso_and_core_variables),
             len(target.torso_and_core_variables)),
            (len(source.head_variables), len(target.head_variables))]
  mismatches = [
      f'{t.name} (pre-trained {s.shape.as_list()}, downstream '
      f'{t.shape.as_list()})'
      for s, t, in_head in _pairs(mode, source, target)
      if not _fits(s, t, in_head, extra_outputs)]
  if extra_outputs < 0 or any(a != b for a, b in counts) or mismatches:
    raise ValueError(
        f'The pre-trained Q-network does not fit the downstream one for '
        f'{mode.value} initialisation: '
        + ('; '.join(mismatches) or
           f'{source.num_outputs} pre-trained outputs vs '
           f'{target.num_outputs} downstream, variable counts {counts}') + '.')


def initialise(mode: WeightInit, source: q_network.RecurrentQNetwork,
               target: q_network.RecurrentQNetwork) -> Sequence[tf.Variable]:
  """Copies the pre-trained weights `mode` transfers; returns what it set."""
  mode = WeightInit(mode)
  if mode == WeightInit.NONE:
    return ()
  check_compatible(mode, source, target)
  assigned = []
  for s, t, _ in _pairs(mode, source, target):
    if s.shape == t.shape:
      t.assign(s)
    else:  # Load the primitive actions' columns; a+ keeps its fresh weights.
      t.assign(tf.concat([s, t[..., s.shape[-1]:]], axis=-1))
    assigned.append(t)
  return assigned
