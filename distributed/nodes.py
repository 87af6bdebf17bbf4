"""What every node does besides its work: stop on time, report its failure, say
what it is doing, and stop when its launcher is gone.

Launchpad's `local_mp` keeps the other nodes running when one node raises, and
a node whose main thread waits at exit for a thread blocked in an RPC to a node
that already stopped keeps the whole program from ending. Here:

* A node's work (`run()`) runs in a daemon thread while the node's main thread
  waits for Launchpad's stop event; on stop, the worker's `on_stop()` runs
  (a final checkpoint) and, in a process of its own, the process exits at once,
  abandoning any call still blocked on a node that is gone.
* A failing node writes its name and why to `<run_dir>/FAILED` (on a full
  disk, to a file in memory the launcher reads too) and stops the program. A
  full disk is named as such, with the directory and its free space; a
  `NodeError` is reported by its message alone, anything else with its
  traceback.
* Every node keeps `<run_dir>/nodes/<name>.json` fresh: its pid and what its
  worker is doing (the innermost frames of its stack), so that a stalled program
  can say what each node waits on.
* In its own process, a node ignores Ctrl-C (the launcher decides and tells
  every node) and, under `local_mp`, stops itself, checkpointing, when its
  launcher dies.
"""

import errno
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from typing import Any, Callable, Dict, Optional

from absl import logging
import launchpad as lp
from launchpad import context as lp_context

FAILURE_FILE = 'FAILED'
FINISHED_FILE = 'FINISHED'
STATUS_DIR = 'nodes'
ANNOUNCE_PREFIX = '[announce] '
LAUNCHER_PID_ENV = 'BT_LAUNCHER_PID'
HEARTBEAT_SECONDS = 2.0


def announce(message: str) -> None:
  """Prints a line the launcher shows on the user's terminal (node output
  otherwise goes to the node's log file)."""
  print(ANNOUNCE_PREFIX + message, flush=True)


def write_atomically(path: str, text: str) -> None:
  os.makedirs(os.path.dirname(path), exist_ok=True)
  staging = f'{path}.{os.getpid()}.{threading.get_ident()}.tmp'
  with open(staging, 'w') as f:
    f.write(text)
  os.replace(staging, path)


class NodeError(RuntimeError):
  """A failure a node explains in its message: reported without traceback."""


def failure_fallback_path(run_dir: str) -> str:
  """Where a failure goes when <run_dir>/FAILED cannot be written (a full
  disk): a file in memory (/dev/shm) named after the run directory."""
  base = '/dev/shm' if os.path.isdir('/dev/shm') else tempfile.gettempdir()
  digest = hashlib.sha1(os.path.abspath(run_dir).encode()).hexdigest()[:16]
  return os.path.join(base, f'behavior_transfer-{digest}-{FAILURE_FILE}')


def record_failure(run_dir: str, message: str) -> None:
  """Appends `message` to <run_dir>/FAILED, which the launcher reports; to
  `failure_fallback_path` when the run directory cannot take it."""
  line = message.rstrip('\n') + '\n'
  try:
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, FAILURE_FILE), 'a') as f:
      f.write(line)
  except OSError:
    with open(failure_fallback_path(run_dir), 'a') as f:
      f.write(line)


def read_failures(run_dir: str) -> str:
  """Every failure recorded for the run, wherever it could be written."""
  text = ''
  for path in (os.path.join(run_dir, FAILURE_FILE),
               failure_fallback_path(run_dir)):
    try:
      with open(path) as f:
        text += f.read()
    except OSError:
      pass
  return text


def clear_failures(run_dir: str) -> None:
  for path in (os.path.join(run_dir, FAILURE_FILE),
               failure_fallback_path(run_dir)):
    if os.path.exists(path):
      os.remove(path)


def is_disk_full(error: BaseException) -> bool:
  """Whether `error` (or what caused it) is "no space left on device"."""
  while error is not None:
    if (isinstance(error, OSError) and error.errno == errno.ENOSPC) or (
        'No space left on device' in str(error)):
      return True
    error = error.__cause__ or error.__context__
  return False


def describe_failure(error: BaseException, run_dir: str) -> Optional[str]:
  """A one-line reason for failures a node can name (a full disk, a
  `NodeError`); None for others, which are reported with their traceback."""
  if is_disk_full(error):
    where = getattr(error, 'filename', None) or run_dir
    try:
      free = f'{shutil.disk_usage(run_dir).free / 2**20:.1f} MiB free'
    except OSError:
      free = 'free space unknown'
    return (f'the disk is full: no space left on device writing {where} '
            f'({free} on the file system of {os.path.abspath(run_dir)}). '
            'Free some space and run the same command again: the run resumes '
            'from its last complete checkpoint.')
  if isinstance(error, NodeError):
    return str(error)
  return None


def _runs_in_own_process() -> bool:
  """True when Launchpad runs this node as a process of its own (local_mp,
  or a machine of its own on vertex_ai), not as a thread of a shared one."""
  try:
    launch_type = lp_context.get_context().launch_type
  except (AttributeError, RuntimeError):
    return False
  return launch_type in (lp_context.LaunchType.LOCAL_MULTI_PROCESSING,
                         lp_context.LaunchType.VERTEX_AI)


def describe_stack(thread: Optional[threading.Thread]) -> str:
  """Where `thread` is now: its innermost frames, innermost first."""
  if thread is None or not thread.is_alive():
    return 'no worker thread'
  frame = sys._current_frames().get(thread.ident)  # pylint: disable=protected-access
  if frame is None:
    return 'unknown'
  entries = traceback.extract_stack(frame)[-3:]
  return ' < '.join(
      f'{os.path.join(*e.filename.split(os.sep)[-2:])}:{e.lineno} {e.name}'
      for e in reversed(entries))


class NodeStatus:
  """Keeps <run_dir>/nodes/<name>.json fresh from a daemon thread."""

  def __init__(self, run_dir: str, name: str):
    self._path = os.path.join(run_dir, STATUS_DIR, f'{name}.json')
    self._name = name
    self._state = 'starting'
    self._worker: Optional[threading.Thread] = None
    self._activity = ''
    self._activity_since = time.time()
    self._done = threading.Event()
    # One write at a time, so that the heartbeat cannot put back a state
    # older than the one `close` wrote last.
    self._writing = threading.Lock()

  def start(self) -> 'NodeStatus':
    self.write()
    threading.Thread(target=self._beat, name=f'{self._name}_status',
                     daemon=True).start()
    return self

  def set(self, state: str, worker: Optional[threading.Thread] = None):
    self._state = state
    if worker is not None:
      self._worker = worker
    self.write()

  def close(self, state: str):
    with self._writing:
      self._done.set()
      self._state = state
      self._write()

  def write(self):
    with self._writing:
      self._write()

  def _write(self):
    activity = (describe_stack(self._worker) if self._worker is not None
                else self._state)
    if activity != self._activity:
      self._activity, self._activity_since = activity, time.time()
    try:
      write_atomically(self._path, json.dumps({
          'name': self._name, 'pid': os.getpid(), 'state': self._state,
          'activity': self._activity, 'activity_since': self._activity_since,
          'updated': time.time()}))
    except OSError as e:  # A full or vanished run directory must not kill us.
      logging.warning('Could not write %s: %s', self._path, e)

  def _beat(self):
    while not self._done.wait(HEARTBEAT_SECONDS):
      with self._writing:
        if not self._done.is_set():  # Else `close` wrote the last state.
          self._write()


def read_statuses(run_dir: str) -> Dict[str, Dict[str, Any]]:
  """Every node's last status, keyed by node name."""
  statuses = {}
  directory = os.path.join(run_dir, STATUS_DIR)
  for filename in sorted(os.listdir(directory)) if os.path.isdir(directory) else ():
    if filename.endswith('.json'):
      try:
        with open(os.path.join(directory, filename)) as f:
          status = json.load(f)
      except (OSError, ValueError):
        continue
      statuses[status['name']] = status
  return statuses


def _watch_launcher(name: str):
  """Stops this node (cleanly, via Launchpad's SIGTERM handling) once the
  launcher that started it is gone: its parent is then no longer that pid."""
  launcher = int(os.environ[LAUNCHER_PID_ENV])
  while True:
    time.sleep(1.0)
    if os.getppid() != launcher:
      announce(f'{name}: the launcher (pid {launcher}) is gone; stopping.')
      os.kill(os.getpid(), signal.SIGTERM)
      return


class ProcessLifecycle:
  """What a node in a process of its own does around its work.

  `begin()` runs in the node's main thread before the work starts; `end()`
  when the node has done its stop-time work: the process then exits with
  `exit_code` without waiting for threads blocked on other nodes.
  """

  def __init__(self, run_dir: str, name: str):
    self._own_process = _runs_in_own_process()
    self.status = NodeStatus(run_dir, name)
    self._name = name

  def begin(self):
    self.status.start()
    if not self._own_process:
      return
    # Ctrl-C reaches every process of the terminal's process group; the
    # launcher decides what it means and stops the nodes in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if LAUNCHER_PID_ENV in os.environ:
      threading.Thread(target=_watch_launcher, args=(self._name,),
                       name='launcher_watch', daemon=True).start()

  def end(self, exit_code: int = 0):
    self.status.close('failed' if exit_code else 'stopped')
    if self._own_process:
      logging.flush()
      sys.stdout.flush()
      sys.stderr.flush()
      os._exit(exit_code)  # pylint: disable=protected-access


class ManagedNode:
  """Builds a node's worker so that it stops on time and a failure stops all.

  Wraps a node constructor (see the module docstring). The worker may define
  `run()` (its work; without it the node serves RPCs until the program stops)
  and `on_stop()` (stop-time work, e.g. a final checkpoint).
  """

  def __init__(self, constructor: Callable[..., Any], name: str, run_dir: str,
               stop_program: Optional[Callable[[], Any]]):
    self._constructor = constructor
    self._name = name
    self._run_dir = run_dir
    self._stop_program = stop_program

  def __call__(self, *args, **kwargs):
    lifecycle = ProcessLifecycle(self._run_dir, self._name)
    lifecycle.begin()
    built = {}

    def construct():
      try:
        built['worker'] = self._constructor(*args, **kwargs)
      except Exception as e:  # pylint: disable=broad-except
        built['error'], built['trace'] = e, traceback.format_exc()

    # Construction may wait on other nodes (an actor's first weights); it
    # runs beside this thread so that a program stopping meanwhile ends the
    # node instead of leaving it blocked on a node that is gone.
    thread = threading.Thread(target=construct, daemon=True,
                              name=f'{self._name}_construction')
    thread.start()
    while thread.is_alive():
      thread.join(0.5)
      if thread.is_alive() and lp.wait_for_stop(0.):
        logging.info('%s: the program stopped before the node was built.',
                     self._name)
        lifecycle.end()
        return _StoppedBeforeBuilt()
    if 'error' in built:
      self._fail(built['trace'], built['error'])
      lifecycle.end(exit_code=1)
      raise built['error']
    return _ManagedWorker(built['worker'], self._name, self._fail, lifecycle)

  def _fail(self, trace: str, error: Optional[BaseException] = None):
    logging.error('Node %r failed:\n%s', self._name, trace)
    reason = describe_failure(error, self._run_dir) if error else None
    try:
      announce(f'failed: {reason or trace.strip().splitlines()[-1]}')
    except OSError:  # Its output goes to a full disk.
      pass
    try:
      record_failure(self._run_dir, f'Node {self._name!r} failed: {reason}'
                     if reason else f'Node {self._name!r} failed:\n{trace}')
    finally:
      if self._stop_program is not None:
        self._stop_program()


class _StoppedBeforeBuilt:
  """The worker of a node whose program stopped while it was being built."""

  def run(self):
    pass


class _ManagedWorker:
  """Forwards everything to the wrapped worker; manages its `run`."""

  def __init__(self, worker: Any, name: str,
               on_failure: Callable[[str, Optional[BaseException]], None],
               lifecycle: ProcessLifecycle):
    self._worker = worker
    self._name = name
    self._on_failure = on_failure
    self._lifecycle = lifecycle
    self._error = None
    self._exception: Optional[BaseException] = None

  def _run_worker(self):
    try:
      self._worker.run()
    except SystemExit:  # Raised into the thread by Acme's runtime terminator.
      pass
    except BaseException as e:  # pylint: disable=broad-except
      self._error, self._exception = traceback.format_exc(), e

  def run(self):
    thread = None
    if hasattr(self._worker, 'run'):
      thread = threading.Thread(target=self._run_worker, name=self._name,
                                daemon=True)
      thread.start()
    self._lifecycle.status.set('running', thread)
    stopping = False
    while not stopping and (thread is None or thread.is_alive()):
      stopping = lp.wait_for_stop(0.5)
    if self._error is not None and not stopping:
      self._on_failure(self._error, self._exception)
      self._lifecycle.end(exit_code=1)
      raise RuntimeError(f'Node {self._name!r} failed:\n{self._error}')
    # A worker whose work is done (e.g. the budget node) waits to be stopped,
    # so that every node ends when the program does, not before.
    lp.wait_for_stop()
    self._lifecycle.status.set('stopping')
    if hasattr(self._worker, 'on_stop'):
      try:
        self._worker.on_stop()
      except Exception as e:  # pylint: disable=broad-except
        self._on_failure(traceback.format_exc(), e)
        self._lifecycle.end(exit_code=1)
        raise
    self._lifecycle.end()

  def __dir__(self):
    return sorted(set(dir(self._worker)) | {'run'})

  def __getattr__(self, name):
    return getattr(self._worker, name)
