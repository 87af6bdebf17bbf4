"""Checkpoints of a run: the nodes that write them, and reading them back.

A run directory holds `checkpoints/counter` (the step counts: the point a
resumed run continues from), `checkpoints/learner` (weights, optimiser, target
network) and, with replay checkpointing, `checkpoints/replay` (Reverb's own
checkpoints of the replay tables). Counter and learner save once as soon as
they start and then every `checkpoint_seconds`, and again when stopped, so a
run killed at any moment loses at most one interval.
"""

import functools
import glob
import os
import pickle
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from absl import logging
from acme.tf import savers as tf2_savers
from acme.utils import counting
import launchpad as lp
from launchpad import address as lp_address
import numpy as np
import reverb
import tensorflow as tf

from behavior_transfer.distributed import nodes

COUNTER = 'counter'
LEARNER = 'learner'
REPLAY = 'replay'
# How long a stopping learner waits for its current update to finish before it
# checkpoints anyway (the update may be blocked on a replay node that is gone).
STEP_WAIT_SECONDS = 5.0
# Reads of a checkpoint that a live run replaces meanwhile are retried.
READ_ATTEMPTS = 5


class CheckpointError(RuntimeError):
  """A checkpoint exists but cannot be read; the message names the file."""


def checkpoint_dir(run_dir: str, name: str) -> str:
  return os.path.join(run_dir, 'checkpoints', name)


def verify(run_dir: str, name: str) -> Optional[str]:
  """Reads every tensor of the latest `name` checkpoint of the run.

  Returns the checkpoint's path prefix, or None when there is none yet.
  Raises CheckpointError naming the unreadable file and what to do.
  """
  return _read_latest(run_dir, name, lambda reader: None)[0]


def saved_counts(run_dir: str) -> Dict[str, float]:
  """The counts of the latest counter checkpoint ({} when there is none)."""
  prefix, counts = _read_latest(run_dir, COUNTER, _counts_in)
  if prefix is not None and counts is None:
    raise CheckpointError(f'The counter checkpoint {prefix} holds no counts.')
  return counts or {}


def _counts_in(reader) -> Optional[Dict[str, float]]:
  """The counts in a counter checkpoint (Acme's Counter state), or None."""
  for key in reader.get_variable_to_shape_map():
    if key.endswith('py_state'):
      state = pickle.loads(reader.get_tensor(key))
      counts = dict(state.get('counts', {}))
      for key_, value in state.get('cache', {}).items():
        counts[key_] = counts.get(key_, 0) + value
      return counts
  return None


def _read_latest(run_dir: str, name: str,
                 read: Callable[[Any], Any]) -> Tuple[Optional[str], Any]:
  """(prefix, read(reader)) of the latest `name` checkpoint after reading all
  of its tensors; (None, None) when there is none.

  A live run replaces its checkpoint while it is read (it keeps one and
  deletes the one before), so a failed read is retried when the index names
  a newer checkpoint by then; when it still names the one that failed, that
  checkpoint is reported as unreadable.
  """
  failed_prefix, error = None, None
  for _ in range(READ_ATTEMPTS):
    prefix = _latest_prefix(run_dir, name)
    if prefix is None:
      return None, None
    if prefix == failed_prefix:
      break
    try:
      return prefix, _read_all(prefix, name, read)
    except CheckpointError as e:
      failed_prefix, error = prefix, e
  raise error


def repair_index(run_dir: str, name: str) -> Optional[str]:
  """Points an empty `name` checkpoint index at the newest complete
  checkpoint beside it; returns that prefix (None when nothing needed it).

  A save cut short by a full disk can leave the index file empty while the
  previous checkpoint's files are intact; without this, the run would
  restart from zero.
  """
  directory = checkpoint_dir(run_dir, name)
  index = os.path.join(directory, 'checkpoint')
  if not os.path.isdir(directory):
    return None
  try:
    state = tf.train.get_checkpoint_state(directory)
  except Exception:  # pylint: disable=broad-except
    state = None
  if state is not None and state.model_checkpoint_path:
    return None
  numbered = []
  for path in glob.glob(os.path.join(glob.escape(directory), 'ckpt-*.index')):
    number = os.path.basename(path)[len('ckpt-'):-len('.index')]
    if number.isdigit():
      numbered.append((int(number), path[:-len('.index')]))
  for _, prefix in sorted(numbered, reverse=True):
    try:
      _read_all(prefix, name, lambda reader: None)
    except CheckpointError:
      continue
    # TF writes the name relative to the directory, as its own saves do.
    tf.compat.v1.train.update_checkpoint_state(
        os.path.abspath(directory), os.path.abspath(prefix),
        all_model_checkpoint_paths=[os.path.abspath(prefix)])
    logging.warning('The %s checkpoint index %s was empty; it now names %s.',
                    name, index, prefix)
    return prefix
  return None


def _latest_prefix(run_dir: str, name: str) -> Optional[str]:
  """The prefix the checkpoint index names (None without an index)."""
  directory = checkpoint_dir(run_dir, name)
  try:
    state = tf.train.get_checkpoint_state(directory)
  except Exception as e:  # pylint: disable=broad-except
    raise CheckpointError(
        f'The {name} checkpoint index {os.path.join(directory, "checkpoint")} '
        f'cannot be read ({_first_line(e)}). {_advice(directory)}') from e
  if state is None or not state.model_checkpoint_path:
    return None
  # TF has already put the directory in front of a name the index holds
  # relative to it (joining it again broke relative run directories).
  return state.model_checkpoint_path


def _read_all(prefix: str, name: str, read: Callable[[Any], Any]) -> Any:
  """read(reader) after reading every tensor of checkpoint `prefix`."""
  directory = os.path.dirname(prefix)
  if not os.path.exists(prefix + '.index'):
    raise CheckpointError(
        f'The {name} checkpoint index '
        f'{os.path.join(directory, "checkpoint")} names {prefix}, but '
        f'{prefix}.index does not exist. {_advice(directory)}')
  try:
    reader = tf.train.load_checkpoint(prefix)
  except Exception as e:  # pylint: disable=broad-except
    raise CheckpointError(
        f'The {name} checkpoint file {prefix}.index cannot be read '
        f'({_first_line(e)}). {_advice(directory)}') from e
  try:
    for key in reader.get_variable_to_shape_map():
      reader.get_tensor(key)
    return read(reader)
  except Exception as e:  # pylint: disable=broad-except
    data_files = ', '.join(sorted(glob.glob(prefix + '.data-*'))) or (
        prefix + '.data-*')
    raise CheckpointError(
        f'The {name} checkpoint data {data_files} cannot be read '
        f'({_first_line(e)}). {_advice(directory)}') from e


def _advice(directory: str) -> str:
  return (f'Move or delete {directory} to start this part of the run '
          'afresh, or pass --overwrite to start the whole run afresh.')


def _first_line(error: BaseException) -> str:
  text = str(error).strip() or type(error).__name__
  return text.splitlines()[0][:300]


def restore_or_explain(make: Callable[[], Any], run_dir: str, name: str):
  """Builds a checkpointer (which restores); names the files on failure."""
  try:
    return make()
  except Exception as e:  # pylint: disable=broad-except
    raise CheckpointError(
        f'Could not restore the {name} checkpoint in '
        f'{checkpoint_dir(run_dir, name)}: {_first_line(e)}. Move or delete '
        'that directory to start this part of the run afresh.') from e


def make_checkpointer(objects: Dict[str, Any], run_dir: str, name: str,
                      checkpoint_seconds: float) -> tf2_savers.Checkpointer:
  """Acme's Checkpointer into <run_dir>/checkpoints/<name>, restoring the
  latest checkpoint; its first `save()` writes at once."""
  return restore_or_explain(
      lambda: tf2_savers.Checkpointer(
          objects, directory=run_dir, subdirectory=name, add_uid=False,
          time_delta_minutes=checkpoint_seconds / 60.), run_dir, name)


class CheckpointedCounter:
  """Acme's Counter as a node: serves `increment` and `get_counts`, saves
  itself at start, every `checkpoint_seconds` and when stopped."""

  def __init__(self, run_dir: str, checkpoint_seconds: float):
    self._counter = counting.Counter()
    self._checkpointer = make_checkpointer(
        {COUNTER: self._counter}, run_dir, COUNTER, checkpoint_seconds)
    self._checkpoint_seconds = checkpoint_seconds
    self._stopping = threading.Event()

  def increment(self, **counts):
    return self._counter.increment(**counts)

  def get_counts(self):
    return self._counter.get_counts()

  def run(self):
    while True:
      self._checkpointer.save()
      if self._stopping.wait(min(self._checkpoint_seconds, 1.0)):
        return

  def on_stop(self):
    self._stopping.set()
    self._checkpointer.save(force=True)


class CheckpointedLearner:
  """Steps a learner until stopped, checkpointing after its first update, then
  every `checkpoint_seconds`, and when stopped.

  Never on non-finite numbers: a learner step that raises ArithmeticError
  (the learners' `NonFiniteLearning`: loss, TD errors or values NaN or
  infinite), or weights that are not finite when a checkpoint is due, end
  the node with a `NodeError` naming the step, the quantity and the last
  checkpoint whose weights were finite; nothing is saved after that.
  `after_save`, if given, runs after every checkpoint (e.g. to export the
  policy next to the weights).
  """

  def __init__(self, learner, checkpointer: tf2_savers.Checkpointer,
               after_save: Optional[Callable[[], Any]] = None,
               checkpoint_seconds: float = 300.):
    self._learner = learner
    self._checkpointer = checkpointer
    self._after_save = after_save or (lambda: None)
    self._checkpoint_seconds = checkpoint_seconds
    self._last_saved = 0.
    self._poisoned = False
    self._stopping = threading.Event()
    self._updating = threading.Lock()

  def run(self):
    while not self._stopping.is_set():
      with self._updating:  # Stop-time saving waits for all of this.
        try:
          self._learner.step()
        except ArithmeticError as e:
          self._refuse(str(e))
        if time.time() - self._last_saved >= self._checkpoint_seconds:
          self._save()

  def _save(self):
    if self._poisoned:
      return
    bad = [v.name for v in _learner_variables(self._learner.state)
           if not np.isfinite(v.numpy()).all()]
    if bad:
      self._refuse(f'learner weights became non-finite ({", ".join(bad[:3])}'
                   f'{", ..." if len(bad) > 3 else ""})')
    self._checkpointer.save(force=True)
    self._last_saved = time.time()
    self._after_save()

  def _refuse(self, what: str):
    """Ends the node without saving again."""
    self._poisoned = True
    last = tf.train.latest_checkpoint(self._checkpointer.directory)
    raise nodes.NodeError(
        f'{what}; the last finite checkpoint is '
        f'{last or "none: no checkpoint was written yet"}. Nothing was saved '
        'after it. Lower the learning rate (or look for the cause) and run '
        'again: a relaunch resumes from that checkpoint.')

  def get_variables(self, names):
    return self._learner.get_variables(names)

  def on_stop(self):
    self._stopping.set()
    # Save between updates, not in the middle of one.
    finished = self._updating.acquire(timeout=STEP_WAIT_SECONDS)
    try:
      self._save()
    finally:
      if finished:
        self._updating.release()
    logging.info('Learner stopped; final checkpoint saved.')


def _learner_variables(state) -> List[tf.Variable]:
  """The floating-point variables of a learner's checkpointed modules."""
  variables = []
  for item in state.values():
    if isinstance(item, tf.Variable):
      variables.append(item)
    elif isinstance(item, tf.Module):
      variables.extend(item.variables)
  return [v for v in variables if v.dtype.is_floating]


class ReplayNode(lp.ReverbNode):
  """Launchpad's ReverbNode with the lifecycle of the other nodes and,
  optionally, replay checkpoints by Reverb's own checkpointer: restored when
  the server starts, written every `checkpoint_seconds` and when stopped."""

  def __init__(self, priority_tables_fn: Callable[[], Any], run_dir: str,
               checkpoint_seconds: Optional[float] = None,
               stop_program: Optional[Callable[[], Any]] = None):
    checkpoint_ctor = None
    if checkpoint_seconds:
      checkpoint_ctor = functools.partial(
          reverb.checkpointers.DefaultCheckpointer,
          checkpoint_dir(run_dir, REPLAY))
    super().__init__(priority_tables_fn, checkpoint_ctor)
    self._run_dir = run_dir
    self._checkpoint_seconds = checkpoint_seconds
    self._stop_program = stop_program

  def run(self):
    lifecycle = nodes.ProcessLifecycle(self._run_dir, REPLAY)
    lifecycle.begin()
    try:
      self._server = reverb.Server(
          tables=self._priority_tables_fn(),
          port=lp_address.get_port_from_address(self._address.resolve()),
          checkpointer=self._checkpoint_ctor and self._checkpoint_ctor())
    except Exception as e:  # pylint: disable=broad-except
      detail = (f' (replay checkpoints in {checkpoint_dir(self._run_dir, REPLAY)}'
                '; move or delete that directory to start with an empty '
                'replay)' if self._checkpoint_seconds else '')
      message = f"Node 'replay' failed: {_first_line(e)}{detail}"
      nodes.announce(message)
      nodes.record_failure(self._run_dir, message)
      if self._stop_program is not None:
        self._stop_program()
      lifecycle.end(exit_code=1)
      raise
    lifecycle.status.set('serving')
    client = self._server.localhost_client()
    if self._checkpoint_seconds:
      restored = sum(table.current_size
                     for table in client.server_info().values())
      nodes.announce(f'replay holds {restored} items restored from '
                     f'{checkpoint_dir(self._run_dir, REPLAY)}.')
    while not lp.wait_for_stop(self._checkpoint_seconds):
      client.checkpoint()
    lifecycle.status.set('stopping')
    if self._checkpoint_seconds:
      client.checkpoint()
    lifecycle.end()
