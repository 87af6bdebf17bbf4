"""Reading a run's checkpoints back, also while the run replaces them."""

import glob
import os
import re

from acme.utils import counting
import pytest

from behavior_transfer.distributed import checkpointing


def _saved_counter(run_dir, actor_steps):
  """A counter at `actor_steps`, saved once, and its checkpointer."""
  counter = counting.Counter()
  checkpointer = checkpointing.make_checkpointer(
      {checkpointing.COUNTER: counter}, run_dir, checkpointing.COUNTER,
      checkpoint_seconds=0.)
  counter.increment(actor_steps=actor_steps)
  checkpointer.save(force=True)
  return counter, checkpointer


def test_saved_counts_are_the_latest_checkpoints(tmp_path):
  run_dir = str(tmp_path)
  assert checkpointing.saved_counts(run_dir) == {}
  counter, checkpointer = _saved_counter(run_dir, 7)
  counter.increment(actor_steps=5, learner_steps=2)
  checkpointer.save(force=True)
  assert checkpointing.saved_counts(run_dir) == {
      'actor_steps': 12, 'learner_steps': 2}


def test_a_relative_run_directory_is_read_back(tmp_path, monkeypatch):
  # As `--run_dir=runs/demo` on a command line.
  monkeypatch.chdir(tmp_path)
  _saved_counter(os.path.join('runs', 'demo'), 9)
  assert checkpointing.verify(os.path.join('runs', 'demo'),
                              checkpointing.COUNTER).endswith('ckpt-1')
  assert checkpointing.saved_counts(os.path.join('runs', 'demo')) == {
      'actor_steps': 9}


def test_a_checkpoint_replaced_while_it_is_read_is_read_from_its_successor(
    tmp_path, monkeypatch):
  # A live run saves a new checkpoint and deletes the old one between our
  # reading the index and reading the files it names.
  run_dir = str(tmp_path)
  counter, checkpointer = _saved_counter(run_dir, 100)
  latest_prefix = checkpointing._latest_prefix
  replaced = []

  def latest_then_replaced(*args):
    prefix = latest_prefix(*args)
    if not replaced:
      counter.increment(actor_steps=50)
      checkpointer.save(force=True)  # Keeps one checkpoint: deletes `prefix`.
      replaced.append(prefix)
    return prefix

  monkeypatch.setattr(checkpointing, '_latest_prefix', latest_then_replaced)
  assert checkpointing.saved_counts(run_dir) == {'actor_steps': 150}
  assert not os.path.exists(replaced[0] + '.index')


def test_an_index_naming_missing_files_is_an_error_not_a_fresh_start(
    tmp_path):
  run_dir = str(tmp_path)
  _saved_counter(run_dir, 100)
  prefix = checkpointing.verify(run_dir, checkpointing.COUNTER)
  os.remove(prefix + '.index')
  with pytest.raises(checkpointing.CheckpointError,
                     match=f'names {prefix}, but {prefix}.index does not exist'):
    checkpointing.saved_counts(run_dir)


def test_unreadable_data_names_the_file(tmp_path):
  run_dir = str(tmp_path)
  _saved_counter(run_dir, 100)
  prefix = checkpointing.verify(run_dir, checkpointing.COUNTER)
  data = sorted(glob.glob(prefix + '.data-*'))[-1]
  with open(data, 'r+b') as f:
    f.truncate(os.path.getsize(data) // 2)
  with pytest.raises(checkpointing.CheckpointError,
                     match='The counter checkpoint data .*' + re.escape(data)):
    checkpointing.verify(run_dir, checkpointing.COUNTER)


@pytest.mark.parametrize('index', ['empty', 'missing'])
def test_an_index_left_empty_is_pointed_back_at_the_newest_complete_one(
    tmp_path, monkeypatch, index):
  # A save cut short by a full disk: the index file empty or gone, the
  # checkpoint files of the last complete save intact, a half-written one
  # beside them. The run directory is relative, as on a command line.
  monkeypatch.chdir(tmp_path)
  run_dir = 'run'
  counter, checkpointer = _saved_counter(run_dir, 100)
  counter.increment(actor_steps=50)
  checkpointer.save(force=True)
  directory = checkpointing.checkpoint_dir(run_dir, checkpointing.COUNTER)
  complete = sorted(glob.glob(os.path.join(directory, 'ckpt-*.index')))[-1]
  with open(complete.replace('.index', '9.index'), 'wb') as f:
    f.write(b'\0\1')  # Not a checkpoint: skipped.
  if index == 'empty':
    open(os.path.join(directory, 'checkpoint'), 'w').close()
    with pytest.raises(checkpointing.CheckpointError):
      checkpointing.saved_counts(run_dir)
  else:
    os.remove(os.path.join(directory, 'checkpoint'))
    assert checkpointing.saved_counts(run_dir) == {}  # A restart from zero.
  repaired = checkpointing.repair_index(run_dir, checkpointing.COUNTER)
  assert repaired == complete[:-len('.index')]
  checkpointing.verify(run_dir, checkpointing.COUNTER)
  assert checkpointing.saved_counts(run_dir) == {'actor_steps': 150}
  assert checkpointing.repair_index(run_dir, checkpointing.COUNTER) is None
