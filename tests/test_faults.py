"""Runs that always end: real `local_mp` programs whose processes are killed.

Each test starts `run_r2d2` as a terminal would (its own process group), kills
one process, and checks that the program ends within the bound, names the node
and why, exits non-zero, leaves no process behind, and resumes truthfully.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from unittest import mock

import pytest

from behavior_transfer.distributed import checkpointing
from behavior_transfer.distributed import nodes
from behavior_transfer.launch import terminal
from behavior_transfer.launching import reports
from behavior_transfer.launching import runs
from behavior_transfer.launching import supervisor
from tests import test_bad_input
from tests import test_disk_full
from tests.helpers import run_process

LAUNCHER = 'behavior_transfer.launch.run_r2d2'
# Small runs: one actor, a checkpoint every 2 s, stalls reported after 60 s.
FLAGS = ('--environment=minigrid:MiniGrid-Empty-5x5-v0', '--num_actors=1',
         '--checkpoint_seconds=2', '--stall_seconds=60')
STOP_BOUND_SECONDS = 30.
NODES = ('replay', 'counter', 'coordinator', 'learner', 'cacher', 'evaluator',
         'actor_0')


_STARTED = []


@pytest.fixture(autouse=True)
def _nothing_outlives_a_test():
  """A failing test must not leave its program running into the next one."""
  yield
  while _STARTED:
    run = _STARTED.pop()
    pids = list(run.node_pids().values())
    run_process.kill_group(run)
    for pid in pids:
      run_process.kill(pid)


def start(run_dir, max_actor_steps=10**7, *extra):
  run = run_process.start(
      LAUNCHER, run_dir, FLAGS + (f'--max_actor_steps={max_actor_steps}',)
      + extra)
  _STARTED.append(run)
  return run


def end_of(run, timeout=STOP_BOUND_SECONDS):
  """Exit code and seconds to exit; fails if the launcher outlives `timeout`."""
  began = time.time()
  code = run.wait(timeout)
  if code is None:
    run_process.kill_group(run)
    pytest.fail(f'The launcher did not end within {timeout}s:\n{run.output()}')
  return code, time.time() - began


def assert_no_process_left(pids):
  left = run_process.survivors(list(pids.values()), timeout=5.)
  assert not left, f'processes left running: {left} of {pids}'


@pytest.mark.parametrize('victim', ['learner', 'replay', 'actor_0'])
def test_a_killed_node_stops_the_program_and_is_named(tmp_path, victim):
  run = start(str(tmp_path / 'run'))
  pids = run.wait_for_nodes(NODES)
  run.wait_for_actor_steps(200)
  run_process.kill(pids[victim])
  code, seconds = end_of(run)
  output = run.output()
  assert code == 1, output
  assert seconds < STOP_BOUND_SECONDS
  assert f"Node '{victim}' was killed by signal SIGKILL" in output
  assert 'Saving checkpoint' not in output  # Raw node lines stay in files.
  with open(tmp_path / 'run' / nodes.FAILURE_FILE) as f:
    assert f"Node '{victim}' was killed by signal SIGKILL" in f.read()
  assert_no_process_left(pids)


def test_nodes_stop_checkpointing_when_the_launcher_dies(tmp_path):
  run_dir = str(tmp_path / 'run')
  run = start(run_dir)
  pids = run.wait_for_nodes(NODES)
  run.wait_for_actor_steps(200)
  run_process.kill(run.process.pid)
  run.wait(5)
  left = run_process.survivors(list(pids.values()), timeout=STOP_BOUND_SECONDS)
  assert not left, run.output()
  statuses = nodes.read_statuses(run_dir)
  # Every Python node ran its stop path (the learner saved a final checkpoint).
  unstopped = {name: (s['state'], s['activity'])
               for name, s in statuses.items() if s['state'] != 'stopped'}
  assert not unstopped, (unstopped, run.output())
  assert checkpointing.verify(run_dir, checkpointing.LEARNER)


def test_a_heartbeat_written_late_never_undoes_the_final_state(tmp_path):
  # The heartbeat thread reads the state, then is slow to write it; a node
  # stopping meanwhile writes 'stopped'. The file must end 'stopped'.
  run_dir, real_write = str(tmp_path), nodes.write_atomically
  beat_read, release, beat_written = (threading.Event(), threading.Event(),
                                      threading.Event())

  def slow_heartbeat_write(path, text):
    if threading.current_thread().name.endswith('_status'):
      beat_read.set()
      release.wait(10)
      real_write(path, text)
      beat_written.set()
    else:
      real_write(path, text)

  with mock.patch.object(nodes, 'HEARTBEAT_SECONDS', 0.01), \
      mock.patch.object(nodes, 'write_atomically', slow_heartbeat_write):
    status = nodes.NodeStatus(run_dir, 'learner').start()
    status.set('stopping')
    assert beat_read.wait(10)
    closing = threading.Thread(target=status.close, args=('stopped',))
    closing.start()
    time.sleep(0.2)
    release.set()
    closing.join(10)
    assert beat_written.wait(10)
  assert nodes.read_statuses(run_dir)['learner']['state'] == 'stopped'


def test_ctrl_c_stops_cleanly_says_where_and_resumes(tmp_path):
  run_dir = str(tmp_path / 'run')
  run = start(run_dir, 10**7)
  pids = run.wait_for_nodes(NODES)
  run.wait_for_actor_steps(300)
  run_process.kill_group(run, signal.SIGINT)  # As Ctrl-C in a terminal.
  code, seconds = end_of(run)
  output = run.output()
  assert code == 130, output
  assert seconds < STOP_BOUND_SECONDS
  saved = int(checkpointing.saved_counts(run_dir)['actor_steps'])
  assert saved >= 300
  assert (f'Interrupted (by Ctrl-C) at {saved} of 10000000 checkpointed actor '
          'steps; run the same command to resume.') in output
  assert 'finished' not in output
  assert_no_process_left(pids)

  # The same command resumes from exactly that point.
  run = start(run_dir, saved + 200)
  code, _ = end_of(run, timeout=240)
  assert code == 0, run.output()
  assert (f'Resuming the run in {run_dir} from its checkpoint at {saved} actor '
          'steps') in run.output()
  # A normal launch's terminal holds none of the stack's import notices;
  # they are in the run directory's node logs.
  for noise in test_bad_input.THIRD_PARTY_NOISE:
    assert noise not in run.output(), run.output()
  with open(os.path.join(run_dir, 'node_logs', terminal.LOG_NAME)) as f:
    assert 'Gym has been unmaintained' in f.read()


def test_a_full_disk_fails_the_run_naming_it_and_the_same_command_resumes(
    tmp_path):
  disk = str(tmp_path / 'disk')
  test_disk_full.mount_tmpfs(disk, '64m')
  try:
    run_dir = os.path.join(disk, 'run')
    run = start(run_dir, 10**7)
    pids = run.wait_for_nodes(NODES)
    run.wait_for_actor_steps(300)
    while not checkpointing.saved_counts(run_dir).get('actor_steps'):
      time.sleep(0.5)  # A checkpoint with actor steps in it, to resume from.
    test_disk_full.fill(disk)
    code, _ = end_of(run, timeout=60)
    output = run.output()
    assert code == 1, output
    assert 'the disk is full: no space left on device' in output, output
    assert f'on the file system of {run_dir}' in output, output
    assert 'Interrupted' not in output, output
    assert_no_process_left(pids)
    os.remove(os.path.join(disk, test_disk_full.FILLER))  # Space freed.
    # What the relaunch reads (an index a cut-short save left empty is
    # pointed back at the newest complete checkpoint).
    saved = int(runs.resume_point(run_dir)['actor_steps'])
    assert saved > 0
    run = start(run_dir, saved + 200)
    code, _ = end_of(run, timeout=240)
    assert code == 0, run.output()
    assert (f'Resuming the run in {run_dir} from its checkpoint at {saved} '
            'actor steps') in run.output()
  finally:
    test_disk_full.unmount(disk)


def _logged_actor_steps(run_dir):
  episodes = reports.actor_episodes(reports.read_logs(run_dir))
  return list(episodes['actor_steps'])


def _actor_rate(run_dir, seconds=3.):
  """Actor steps per second logged over `seconds` of the running program."""
  first, began = max(_logged_actor_steps(run_dir)), time.time()
  time.sleep(seconds)
  return (max(_logged_actor_steps(run_dir)) - first) / (time.time() - began)


def test_kill_of_everything_loses_at_most_one_checkpoint_interval(tmp_path):
  run_dir = str(tmp_path / 'run')
  run = start(run_dir)
  run.wait_for_nodes(NODES)
  run.wait_for_actor_steps(2000)
  rate = max(_actor_rate(run_dir), 100.)
  assert checkpointing.saved_counts(run_dir).get('actor_steps', 0) > 0
  logged = max(_logged_actor_steps(run_dir))
  run_process.kill_group(run)
  run.wait(10)
  saved = int(checkpointing.saved_counts(run_dir)['actor_steps'])
  # A checkpoint every 2 s (plus 2 s for writing it and for CSV rows that lag
  # the counter by up to an episode per environment).
  assert logged - 4 * rate <= saved <= logged + 2 * rate, (logged, saved, rate)

  killed_pid = run.process.pid
  run = start(run_dir, saved + 200)
  code, _ = end_of(run, timeout=240)
  output = run.output()
  assert code == 0, output
  # The killed launch's directory is taken over; nobody deleted anything.
  assert (f'Taking over {run_dir} from a launch that is gone (pid '
          f'{killed_pid} on host') in output, output
  assert f'from its checkpoint at {saved} actor steps' in output
  steps = _logged_actor_steps(run_dir)
  # Rows logged after the checkpoint were dropped: the log never goes back.
  assert steps == sorted(steps), steps


def test_a_second_launch_into_a_live_run_directory_is_refused(tmp_path):
  run_dir = str(tmp_path / 'run')
  budget = 1500
  first = start(run_dir, budget)
  first.wait_for_nodes(NODES)
  second = start(run_dir, budget)  # The same command, in another terminal.
  code, _ = end_of(second, timeout=120)
  refusal = second.output()
  assert code == 2, refusal
  assert (f'error: {run_dir} is in use by another launch (pid '
          f'{first.process.pid} on host') in refusal, refusal
  assert 'Resuming' not in refusal
  # The first launch runs to its budget with its logs intact.
  code, _ = end_of(first, timeout=240)
  assert code == 0, first.output()
  steps = _logged_actor_steps(run_dir)
  assert steps == sorted(steps) and steps[-1] >= budget, steps
  assert reports.summarize(run_dir)['actor_steps'] >= budget


def test_kill_before_any_progress_resumes_from_zero(tmp_path):
  run_dir = str(tmp_path / 'run')
  run = start(run_dir)
  run.wait_for_nodes(('counter',), state=None)
  run_process.kill_group(run)
  run.wait(10)
  run = start(run_dir, 200)
  code, _ = end_of(run, timeout=240)
  output = run.output()
  assert code == 0, output
  assert ('from the start (it had no checkpoint yet)' in output or
          'from its checkpoint at 0 actor steps' in output), output


def test_a_corrupt_checkpoint_is_named_and_nothing_starts(tmp_path):
  run_dir = str(tmp_path / 'run')
  run = start(run_dir, 300, '--verbose')
  code, _ = end_of(run, timeout=240)
  assert code == 0, run.output()
  # --verbose shows the nodes' raw lines, e.g. their checkpoint saves.
  assert '[counter] ' in run.output() and 'Saving checkpoint' in run.output()
  prefix = checkpointing.verify(run_dir, checkpointing.LEARNER)
  data = sorted(p for p in os.listdir(os.path.dirname(prefix))
                if p.startswith(os.path.basename(prefix) + '.data'))[-1]
  path = os.path.join(os.path.dirname(prefix), data)
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) // 2)

  run = start(run_dir, 600)
  code, _ = end_of(run, timeout=60)
  output = run.output()
  assert code == 1, output
  assert f'The learner checkpoint data {path}' in output
  assert 'Traceback' not in output
  assert not os.path.exists(os.path.join(run_dir, 'nodes'))


def test_a_stall_is_reported_with_what_each_node_waits_on(tmp_path):
  run_dir = str(tmp_path / 'run')
  run = start(run_dir, 10**7, '--stall_seconds=8')
  pids = run.wait_for_nodes(NODES)
  run.wait_for_actor_steps(600)
  # A frozen learner is alive but does nothing; the rate limiter then blocks
  # the actor, and nothing makes progress.
  run_process.kill(pids['learner'], signal.SIGSTOP)
  code, _ = end_of(run, timeout=8 + 60 + supervisor.STOP_SECONDS)
  output = run.output()
  assert code == 1, output
  assert 'The run stalled: no actor and no learner progress for' in output
  assert 'learner (pid' in output and 'no heartbeat for' in output
  # The actor is seen waiting inside Reverb or Acme's adder.
  actor_line = next(line for line in output.splitlines()
                    if line.strip().startswith('actor_0 (pid'))
  assert 'reverb' in actor_line or 'adders' in actor_line, actor_line
  assert_no_process_left(pids)


def test_how_a_vanished_node_is_described(monkeypatch):
  def node(returncode):
    process = mock.Mock(returncode=returncode)
    return supervisor.NodeProcess('learner', '0', process, 'log', rss_bytes=2**30)

  monkeypatch.setattr(supervisor, '_oom_kills', lambda: 4)
  assert supervisor.describe_exit(node(-9), 3) == (
      "was killed by the kernel's out-of-memory killer (SIGKILL) (last seen "
      'using 1024 MiB)')
  assert supervisor.describe_exit(node(-9), 4).startswith(
      'was killed by signal SIGKILL')
  assert supervisor.describe_exit(node(-11), 4).startswith(
      'was killed by signal SIGSEGV')
  assert supervisor.describe_exit(node(3), 4) == 'exited with code 3'
  assert supervisor.describe_exit(node(0), 4) == (
      'exited before the program was stopped')


# A launcher that ran a program and goes on (as a study between its runs),
# then gets Ctrl-C: it must be Python's own KeyboardInterrupt, not Launchpad's
# handler acting on the finished program's processes.
_CTRL_C_AFTER_A_PROGRAM = '''
import os, signal, sys, tempfile, time
import launchpad as lp
from behavior_transfer.launching import supervisor

def node():
  pass

program = lp.Program('probe')
with program.group('actor'):
  program.add_node(lp.PyNode(node))
for process in supervisor.launch_local_mp(program, tempfile.mkdtemp()):
  process.process.wait(timeout=120)
try:
  os.kill(os.getpid(), signal.SIGINT)
  time.sleep(10)
except KeyboardInterrupt:
  print('KeyboardInterrupt')
  sys.exit(0)
print('Ctrl-C was swallowed')
sys.exit(1)
'''


def test_ctrl_c_after_a_program_ended_is_the_launchers_own(tmp_path):
  script = tmp_path / 'probe.py'
  script.write_text(_CTRL_C_AFTER_A_PROGRAM)
  done = subprocess.run([sys.executable, str(script)], capture_output=True,
                        text=True, timeout=300, stdin=subprocess.DEVNULL,
                        cwd=str(tmp_path))
  assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
  assert 'KeyboardInterrupt' in done.stdout
  assert 'NoSuchProcess' not in done.stderr
