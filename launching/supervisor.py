"""The launcher's side of a `local_mp` run: start the nodes through Launchpad,
watch them, stop them together, and say how the run ended.

Launchpad 0.5's local launcher treats a node process that vanished (kill -9,
the kernel's out-of-memory killer) as a clean exit and goes on waiting for the
others. Here the launcher starts the nodes with Launchpad's `output_to_files`
terminal, so that every node process is its own child (its exit status is
known) and writes its raw output to `<run_dir>/node_logs/`, then supervises:

* a node that exits before the program is stopped ends the run, named, with
  why: its exception (from `<run_dir>/FAILED`), the signal that killed it, or
  the out-of-memory killer;
* the budget node's `FINISHED`, any `FAILED`, a stop request (SIGTERM from a
  node's program stopper) or Ctrl-C stop every node with SIGTERM; a node that
  has not exited `STOP_SECONDS` later is killed;
* the terminal shows the nodes' announcements (progress, warnings), or with
  `verbose` every line of their output.
"""

import atexit
import contextlib
import dataclasses
import enum
import io
import os
import signal
import subprocess
import time
from typing import Dict, List, Optional

import launchpad as lp
from launchpad.launch.run_locally import launch_local_output_to_files
from launchpad.nodes.python import local_multi_processing
import psutil

from behavior_transfer import tf_runtime
from behavior_transfer.distributed import nodes

STOP_SECONDS = 20.
POLL_SECONDS = 0.25
# Stopped last, once the others have exited, so that its final checkpoint
# holds every count the others sent.
LAST_TO_STOP = ('counter',)
NODE_LOGS_DIR = 'node_logs'
# Each launch's folder below it: the local time it started.
LAUNCH_STAMP = '%Y%m%d-%H%M%S'


class Outcome(enum.Enum):
  FINISHED = 'finished'
  FAILED = 'failed'
  INTERRUPTED = 'interrupted'


@dataclasses.dataclass
class NodeProcess:
  """One node's process; `name` is the one the node reports in its status
  file (e.g. 'actor_0'), '<group>/<index>' until it has reported."""
  group: str
  index: str
  process: subprocess.Popen
  log_path: str
  log_offset: int = 0
  rss_bytes: int = 0
  reported: bool = False
  name: str = ''

  def __post_init__(self):
    self.name = self.name or f'{self.group}/{self.index}'


def _oom_kills() -> Optional[int]:
  """The kernel's out-of-memory kill count for this machine's memory cgroup."""
  for path, key in (('/sys/fs/cgroup/memory.events', 'oom_kill'),
                    ('/sys/fs/cgroup/memory/memory.oom_control', 'oom_kill')):
    try:
      with open(path) as f:
        for line in f:
          name, _, value = line.partition(' ')
          if name == key:
            return int(value)
    except (OSError, ValueError):
      continue
  return None


def describe_exit(node: NodeProcess, oom_kills_at_start: Optional[int]) -> str:
  """Why a node process ended, in words."""
  code = node.process.returncode
  memory = (f' (last seen using {node.rss_bytes / 2**20:.0f} MiB)'
            if node.rss_bytes else '')
  if code < 0:
    name = signal.Signals(-code).name
    oom_kills = _oom_kills()
    if (-code == signal.SIGKILL and oom_kills_at_start is not None and
        oom_kills is not None and oom_kills > oom_kills_at_start):
      return (f'was killed by the kernel\'s out-of-memory killer ({name})'
              f'{memory}')
    return f'was killed by signal {name}{memory}'
  if code > 0:
    return f'exited with code {code}'
  return 'exited before the program was stopped'


def node_environment() -> Dict[str, str]:
  """What a node process gets on top of the launcher's environment: quiet,
  single-threaded TensorFlow (a 2-core machine stays usable) with oneDNN's
  kernels, unbuffered output, and the launcher's pid."""
  return {'TF_CPP_MIN_LOG_LEVEL': '2', 'OMP_NUM_THREADS': '1',
          'PYTHONUNBUFFERED': '1', nodes.LAUNCHER_PID_ENV: str(os.getpid()),
          **tf_runtime.environment()}


# The signals Launchpad's launch takes over in the launcher's process.
LAUNCHPAD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT,
                     signal.SIGALRM)


def launch_local_mp(program: lp.Program, run_dir: str) -> List[NodeProcess]:
  """Starts every node as a child process writing to <run_dir>/node_logs."""
  log_dir = os.path.join(run_dir, NODE_LOGS_DIR, time.strftime(LAUNCH_STAMP))
  env = node_environment()
  resources = {label: local_multi_processing.PythonProcess(env=env)
               for label in program.groups}
  # Launchpad reads the log directory from a module global set at import.
  default_dir = launch_local_output_to_files._LOGGING_DIR  # pylint: disable=protected-access
  launch_local_output_to_files._LOGGING_DIR = log_dir  # pylint: disable=protected-access
  # Launchpad installs its own signal handlers, for good: left in place, the
  # next Ctrl-C after this program ended (between a study's runs) would have
  # its worker manager kill processes long gone (psutil.NoSuchProcess), or
  # be swallowed. The supervisor handles SIGINT and SIGTERM while nodes run.
  handlers = {sig: signal.getsignal(sig) for sig in LAUNCHPAD_SIGNALS}
  try:
    with contextlib.redirect_stdout(io.StringIO()):  # Its per-file notices.
      manager = lp.launch(program, launch_type='local_mp',
                          local_resources=resources, terminal='output_to_files')
  finally:
    launch_local_output_to_files._LOGGING_DIR = default_dir  # pylint: disable=protected-access
    for sig, handler in handlers.items():
      signal.signal(sig, handler)
  # Its exit-time wait would re-raise a death the supervisor already reported.
  atexit.unregister(manager.wait)
  # Launchpad 0.5 keeps each node's Popen under its title '<group>/<index>',
  # which is also its log file's path below the log directory.
  processes = []
  for title, workers in manager._active_workers.items():  # pylint: disable=protected-access
    group, index = title.split('/')
    processes.append(NodeProcess(group, index, workers[0],
                                 os.path.join(log_dir, group, index)))
  return processes


@dataclasses.dataclass
class Ending:
  outcome: Outcome
  message: str = ''


class Supervisor:
  """Watches a program's node processes until every one has exited."""

  def __init__(self, run_dir: str, processes: List[NodeProcess],
               verbose: bool = False, stop_seconds: float = STOP_SECONDS):
    self._run_dir = run_dir
    self._processes = processes
    self._verbose = verbose
    self._stop_seconds = stop_seconds
    self._stop_requested = False
    self._interrupts = 0
    self._deadline: Optional[float] = None
    self._stopping_last = False
    self._killed = False
    self._warnings: List[str] = []
    self._oom_kills_at_start = _oom_kills()

  # Signals reaching the launcher.

  def _on_sigint(self, signum, frame):
    del signum, frame
    self._interrupts += 1
    if self._interrupts == 1:
      print('\nInterrupted: stopping every node (they checkpoint first); '
            'press Ctrl-C again to kill them now.', flush=True)
    else:
      self._kill_all('a second Ctrl-C')

  def _on_sigterm(self, signum, frame):
    del signum, frame
    self._stop_requested = True

  def run(self) -> Ending:
    """Supervises until all nodes exited; returns how the run ended."""
    previous = {sig: signal.signal(sig, handler) for sig, handler in (
        (signal.SIGINT, self._on_sigint), (signal.SIGTERM, self._on_sigterm))}
    try:
      last_memory_check = 0.
      while True:
        self._show_output()
        if time.time() - last_memory_check > 2.:
          last_memory_check = time.time()
          self._check_memory()
        alive = [p for p in self._processes if p.process.poll() is None]
        if self._deadline is None:
          self._name_nodes()
          self._report_deaths()
          if self._should_stop():
            self._stop_all()
        elif not self._stopping_last and (
            all(node.group in LAST_TO_STOP for node in alive) or
            time.time() > self._deadline - self._stop_seconds / 2):
          self._stopping_last = True
          self._signal_stop(lambda node: True)
        if not alive:
          break
        if (self._deadline is not None and time.time() > self._deadline and
            not self._killed):
          for node in alive:
            self._warnings.append(
                f'{node.name} did not stop within {self._stop_seconds:.0f}s '
                'and was killed.')
          self._kill_all('the stop deadline')
        time.sleep(POLL_SECONDS)
      self._show_output()
    finally:
      for sig, handler in previous.items():
        signal.signal(sig, handler)
    for warning in self._warnings:
      print(f'warning: {warning}', flush=True)
    return self._ending()

  def _should_stop(self) -> bool:
    return (self._stop_requested or self._interrupts > 0 or
            bool(nodes.read_failures(self._run_dir)) or
            os.path.exists(os.path.join(self._run_dir, nodes.FINISHED_FILE)))

  def _stop_all(self):
    self._deadline = time.time() + self._stop_seconds
    self._signal_stop(lambda node: node.group not in LAST_TO_STOP)

  def _signal_stop(self, which):
    for node in self._processes:
      if which(node) and node.process.poll() is None:
        node.process.send_signal(signal.SIGTERM)

  def _kill_all(self, reason: str):
    self._killed = True
    print(f'Killing every node still running ({reason}).', flush=True)
    for node in self._processes:
      if node.process.poll() is None:
        node.process.kill()

  def _report_deaths(self):
    """Records nodes that ended before the program was stopped."""
    for node in self._processes:
      if node.reported or node.process.returncode is None:
        continue
      node.reported = True
      failures = nodes.read_failures(self._run_dir)
      if f"Node '{node.name}' failed" in failures:
        continue  # It said why itself.
      message = (f"Node '{node.name}' {describe_exit(node, self._oom_kills_at_start)}"
                 f'; its output is in {node.log_path}')
      print(message, flush=True)
      nodes.record_failure(self._run_dir, message)

  def _name_nodes(self):
    """Takes each node's name from the status file its process writes."""
    names = {status['pid']: name
             for name, status in nodes.read_statuses(self._run_dir).items()}
    for node in self._processes:
      node.name = names.get(node.process.pid, node.name)

  def _check_memory(self):
    for node in self._processes:
      if node.process.returncode is None:
        with contextlib.suppress(psutil.Error):
          node.rss_bytes = psutil.Process(node.process.pid).memory_info().rss

  def _show_output(self):
    for node in self._processes:
      try:
        with open(node.log_path, 'rb') as f:
          f.seek(node.log_offset)
          chunk = f.read()
      except OSError:
        continue
      complete = chunk.rfind(b'\n') + 1
      node.log_offset += complete
      for line in chunk[:complete].decode(errors='replace').splitlines():
        if line.startswith(nodes.ANNOUNCE_PREFIX):
          print(f'[{node.name}] {line[len(nodes.ANNOUNCE_PREFIX):]}',
                flush=True)
        elif self._verbose:
          print(f'[{node.name}] {line}', flush=True)

  def _ending(self) -> Ending:
    failures = nodes.read_failures(self._run_dir)
    if failures:
      return Ending(Outcome.FAILED, failures)
    if os.path.exists(os.path.join(self._run_dir, nodes.FINISHED_FILE)):
      return Ending(Outcome.FINISHED)
    return Ending(Outcome.INTERRUPTED,
                  'by Ctrl-C' if self._interrupts else 'by SIGTERM')

