"""One launch per run directory: a second live launch is refused naming the
first and touching nothing; a directory whose launch died is taken over."""

import os
import signal
import subprocess
import sys

import pytest

from behavior_transfer import experiments
from behavior_transfer.launching import run_lock
from behavior_transfer.launching import runs

# Launches in-process programs: scripts/run_tests.py gives it a process of its own.
pytestmark = pytest.mark.in_process_programs

HOLD = ('import sys, time\n'
        'from behavior_transfer.launching import run_lock\n'
        'lock = run_lock.RunDirectoryLock(sys.argv[1]).acquire()\n'
        'print("held", flush=True)\n'
        'time.sleep(600)\n')


def _hold(run_dir):
  """A process that holds `run_dir` until killed."""
  holder = subprocess.Popen([sys.executable, '-c', HOLD, run_dir],
                            stdout=subprocess.PIPE, text=True)
  assert holder.stdout.readline().strip() == 'held'
  return holder


def _contents(run_dir):
  return {name: open(os.path.join(run_dir, name), 'rb').read()
          for name in sorted(os.listdir(run_dir))}


def test_a_live_launch_keeps_others_out_and_a_dead_one_is_taken_over(
    tmp_path):
  run_dir = str(tmp_path / 'run')
  holder = _hold(run_dir)
  try:
    with open(os.path.join(run_dir, 'config.json'), 'w') as f:
      f.write('{}')
    before = _contents(run_dir)
    with pytest.raises(run_lock.RunDirectoryInUse) as refused:
      run_lock.RunDirectoryLock(run_dir).acquire()
    message = str(refused.value)
    assert f'pid {holder.pid} on host' in message, message
    assert 'nothing in it was touched' in message
    assert f'kill -INT {holder.pid}' in message
    assert _contents(run_dir) == before
  finally:
    holder.send_signal(signal.SIGKILL)  # As kill -9, or a crash.
    holder.wait()
  with run_lock.RunDirectoryLock(run_dir) as lock:
    assert lock.previous_owner['pid'] == holder.pid  # Taken over.
  with run_lock.RunDirectoryLock(run_dir) as lock:
    assert lock.previous_owner is None  # That launch ended cleanly.


def test_a_launch_into_a_live_run_directory_is_refused_before_anything(
    tmp_path):
  run_dir = str(tmp_path / 'run')
  spec = experiments.from_preset('r2d2', 'minigrid:MiniGrid-Empty-5x5-v0', 10)
  holder = _hold(run_dir)
  try:
    for overwrite in (False, True):
      with pytest.raises(ValueError, match='in use by another launch'):
        experiments.run(spec, run_dir, 'test_mt', overwrite=overwrite)
    assert sorted(os.listdir(run_dir)) == [run_lock.LOCK_FILE]
  finally:
    holder.kill()
    holder.wait()


def test_overwriting_keeps_the_launchs_own_lock(tmp_path):
  run_dir = str(tmp_path / 'run')
  with run_lock.RunDirectoryLock(run_dir):
    with open(os.path.join(run_dir, 'config.json'), 'w') as f:
      f.write('{"agent": "r2d2"}')
    os.makedirs(os.path.join(run_dir, 'logs', 'actor_0'))
    assert not runs.prepare_run_dir(run_dir, {'agent': 'r2d2'}, True)
    assert sorted(os.listdir(run_dir)) == [run_lock.LOCK_FILE, 'config.json']
    with pytest.raises(run_lock.RunDirectoryInUse):  # Still held.
      run_lock.RunDirectoryLock(run_dir).acquire()
