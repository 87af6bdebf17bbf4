"""A failure is reported as a failure, a full disk as a full disk: with the
directory and its free space, exit 1 (never "interrupted"), and the previous
complete checkpoint left as the one a relaunch reads."""

import errno
import os
import subprocess
import uuid

from acme.utils import counting
import pytest

from behavior_transfer.agents.r2d2 import builder as r2d2_builder
from behavior_transfer.distributed import checkpointing
from behavior_transfer.distributed import layout as distributed_layout
from behavior_transfer.distributed import nodes
from behavior_transfer.experiments import run_experiment
from behavior_transfer.launching import runs
from tests import test_program

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs


def _disk_full(path='/some/run/checkpoints/learner/ckpt-3.data'):
  return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)


def test_a_full_disk_is_named_with_the_directory_and_its_free_space(
    tmp_path):
  reason = nodes.describe_failure(_disk_full(), str(tmp_path))
  assert reason.startswith('the disk is full: no space left on device '
                           'writing /some/run/checkpoints/learner/ckpt-3.data')
  assert f'MiB free on the file system of {tmp_path}' in reason
  # TF reports it in its own error types: the message says so too.
  wrapped = RuntimeError('write failed')
  wrapped.__cause__ = Exception('No space left on device')
  assert 'the disk is full' in nodes.describe_failure(wrapped, str(tmp_path))
  assert nodes.describe_failure(ValueError('other'), str(tmp_path)) is None


def test_a_failure_the_run_directory_cannot_take_still_reaches_the_launcher(
    tmp_path):
  run_dir = str(tmp_path / f'run-{uuid.uuid4().hex}')
  os.makedirs(os.path.join(run_dir, nodes.FAILURE_FILE))  # Unwritable.
  try:
    nodes.record_failure(run_dir, "Node 'learner' failed: the disk is full")
    assert "Node 'learner' failed" in nodes.read_failures(run_dir)
  finally:
    os.rmdir(os.path.join(run_dir, nodes.FAILURE_FILE))
    nodes.clear_failures(run_dir)
  assert nodes.read_failures(run_dir) == ''


# Launchpad counts down a program's shutdown with SIGALRM, which is also
# pytest-timeout's default signal: time this test from a thread instead.
@pytest.mark.timeout(600, method='thread')
def test_a_node_on_a_full_disk_fails_the_run_with_the_reason(tmp_path):
  run_dir = str(tmp_path / 'run')
  spec = test_program.tiny_spec(max_actor_steps=10**6)

  def environment(seed):
    return test_program.BreaksAfter(
        run_experiment.environment_factory(spec)(seed), 100, _disk_full())

  def make_layout(stop_program):
    return distributed_layout.DistributedLayout(
        r2d2_builder.R2D2Builder(spec.config,
                                 run_experiment.network_factory(spec)),
        spec.program, environment, run_dir, spec.max_actor_steps, 0,
        stop_program)

  with pytest.raises(runs.NodeFailure) as failure:
    runs.run_to_budget(make_layout, spec.to_json(), run_dir,
                       spec.max_actor_steps, 'test_mt', False, 'full disk')
  message = str(failure.value)
  assert 'failed: the disk is full: no space left on device' in message
  assert 'MiB free on the file system of' in message
  assert 'Traceback' not in message


FILLER = 'filler'


def mount_tmpfs(path, size):
  """A small file system of its own at `path` (skips the test without root)."""
  os.makedirs(path, exist_ok=True)
  result = subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size}',
                           'tmpfs', path], capture_output=True, text=True,
                          check=False)
  if result.returncode:
    pytest.skip(f'cannot mount a small tmpfs here ({result.stderr.strip()}); '
                'it needs root')


def unmount(path):
  subprocess.run(['umount', '-l', path], check=False)


def fill(disk):
  """Fills the file system at `disk` with <disk>/filler."""
  with pytest.raises(OSError) as full:
    with open(os.path.join(disk, FILLER), 'wb') as f:
      while True:
        f.write(b'\0' * 65536)
  assert full.value.errno == errno.ENOSPC


def test_a_checkpoint_cut_short_by_a_full_disk_leaves_the_previous_one(
    tmp_path):
  disk = str(tmp_path / 'disk')
  mount_tmpfs(disk, '512k')
  try:
    run_dir = os.path.join(disk, 'run')
    counter = counting.Counter()
    checkpointer = checkpointing.make_checkpointer(
        {checkpointing.COUNTER: counter}, run_dir, checkpointing.COUNTER,
        checkpoint_seconds=0.)
    counter.increment(actor_steps=100)
    checkpointer.save(force=True)
    fill(disk)
    counter.increment(actor_steps=100)
    with pytest.raises(Exception) as cut_short:  # TF's error type.
      checkpointer.save(force=True)
    assert nodes.is_disk_full(cut_short.value), cut_short.value
    # The previous complete checkpoint is the one a relaunch reads.
    checkpointing.verify(run_dir, checkpointing.COUNTER)
    assert checkpointing.saved_counts(run_dir)['actor_steps'] == 100
    # Space freed: the next save completes and is read.
    os.remove(os.path.join(disk, FILLER))
    checkpointer.save(force=True)
    assert checkpointing.saved_counts(run_dir)['actor_steps'] == 200
  finally:
    unmount(disk)
