"""Launchpad helpers: a step budget that ends every node, and node failure guards.

Launchpad's `local_mp` keeps the other nodes running when one node raises, and
Acme's step limiter has been seen to stop only itself (acme issues #118, #137,
#198). Here the budget node and every guarded node end the whole program
through a program stopper, and a failing node is named in `<run_dir>/FAILED`.
"""

import os
import threading
import time
import traceback
from typing import Any, Callable, Optional

from absl import logging
from acme.tf import savers as tf2_savers
from acme.utils import counting
from acme.utils import signals
import launchpad as lp

FAILURE_FILE = 'FAILED'


class StepBudget:
  """Logs progress and stops the program once the actors used their budget."""

  def __init__(self,
               counter: counting.Counter,
               max_actor_steps: int,
               stop_program: Callable[[], Any],
               poll_seconds: float = 1.0,
               progress_every_seconds: float = 15.0):
    self._counter = counter
    self._max_actor_steps = max_actor_steps
    self._stop_program = stop_program
    self._poll_seconds = poll_seconds
    self._progress_every_seconds = progress_every_seconds

  def run(self):
    with signals.runtime_terminator():
      start, start_steps = time.time(), None
      last_report = 0.
      while True:
        counts = self._counter.get_counts()
        steps = int(counts.get('actor_steps', 0))
        start_steps = steps if start_steps is None else start_steps
        now = time.time()
        if steps >= self._max_actor_steps:
          logging.info('Budget of %d actor steps reached (%d); stopping all '
                       'nodes.', self._max_actor_steps, steps)
          print(f'[budget] reached {steps}/{self._max_actor_steps} actor '
                'steps; stopping the program.', flush=True)
          self._stop_program()
          return
        if now - last_report >= self._progress_every_seconds:
          last_report = now
          print(progress_line(counts, self._max_actor_steps,
                              (steps - start_steps) / max(now - start, 1e-6)),
                flush=True)
        time.sleep(self._poll_seconds)


def progress_line(counts, max_actor_steps: int, steps_per_second: float) -> str:
  """One human-readable line of progress from the counter's counts."""
  steps = int(counts.get('actor_steps', 0))
  remaining = max(max_actor_steps - steps, 0)
  eta = remaining / steps_per_second if steps_per_second > 0 else float('inf')
  return (f'[progress] actor steps {steps}/{max_actor_steps} '
          f'({100. * steps / max_actor_steps:.0f}%), '
          f'episodes {int(counts.get("actor_episodes", 0))}, '
          f'learner steps {int(counts.get("learner_steps", 0))}, '
          f'{steps_per_second:.0f} actor steps/s, ETA {eta:.0f}s')


class ManagedNode:
  """Builds a node's worker so that it stops on time and a failure stops all.

  Wraps a node constructor. The worker's `run()` goes to a daemon thread while
  the node's main thread waits for Launchpad's stop event: a worker blocked
  inside a TF or Reverb op (a learner waiting for replay, an actor waiting for
  the rate limiter) cannot run a Python signal handler, so otherwise it would
  not stop in time. On stop, the worker's optional `on_stop()` runs (e.g. a
  final checkpoint). If construction or `run()` raises, the node's name and
  traceback go to the log and to `<run_dir>/FAILED`, and the whole program is
  stopped instead of leaving the other nodes running.
  """

  def __init__(self, constructor: Callable[..., Any], name: str, run_dir: str,
               stop_program: Optional[Callable[[], Any]]):
    self._constructor = constructor
    self._name = name
    self._run_dir = run_dir
    self._stop_program = stop_program

  def __call__(self, *args, **kwargs):
    try:
      worker = self._constructor(*args, **kwargs)
    except Exception:  # pylint: disable=broad-except
      self._fail(traceback.format_exc())
      raise
    return _ManagedWorker(worker, self._name, self._fail)

  def _fail(self, trace: str):
    message = f'Node {self._name!r} failed:\n{trace}'
    logging.error(message)
    os.makedirs(self._run_dir, exist_ok=True)
    with open(os.path.join(self._run_dir, FAILURE_FILE), 'a') as f:
      f.write(message + '\n')
    if self._stop_program is not None:
      self._stop_program()


class _ManagedWorker:
  """Forwards everything to the wrapped worker; manages its `run`."""

  def __init__(self, worker: Any, name: str, on_failure: Callable[[str], None]):
    self._worker = worker
    self._name = name
    self._on_failure = on_failure
    self._error = None

  def _run_worker(self):
    try:
      self._worker.run()
    except SystemExit:  # Raised into the thread by Acme's runtime terminator.
      pass
    except BaseException:  # pylint: disable=broad-except
      self._error = traceback.format_exc()

  def run(self):
    thread = threading.Thread(target=self._run_worker, name=self._name,
                              daemon=True)
    thread.start()
    while not lp.wait_for_stop(0.5):
      if not thread.is_alive():
        break
    if self._error is not None:
      self._on_failure(self._error)
      raise RuntimeError(f'Node {self._name!r} failed:\n{self._error}')
    if hasattr(self._worker, 'on_stop'):
      self._worker.on_stop()

  def __dir__(self):
    return sorted(set(dir(self._worker)) | {'run'})

  def __getattr__(self, name):
    return getattr(self._worker, name)


class VariableCache:
  """Serves the learner's variables to actors from a copy refreshed at most
  every `refresh_seconds`, so that many actors cost the learner one fetch.

  Launchpad 0.5 has no CacherNode; this is its role as a CourierNode.
  """

  def __init__(self, source, refresh_seconds: float = 2.0):
    self._source = source
    self._refresh_seconds = refresh_seconds
    self._lock = threading.Lock()
    self._cache = {}  # names -> (fetch time, variables)

  def get_variables(self, names):
    key = tuple(names)
    with self._lock:
      fetched_at, variables = self._cache.get(key, (None, None))
      if fetched_at is None or time.time() - fetched_at > self._refresh_seconds:
        variables = self._source.get_variables(names)
        self._cache[key] = (time.time(), variables)
      return variables


class CheckpointedLearner:
  """Steps a learner forever, checkpointing it now and then and when stopped.

  `after_save`, if given, runs after every checkpoint (e.g. to export the
  policy next to the weights).
  """

  def __init__(self, learner, checkpointer: tf2_savers.Checkpointer,
               after_save: Optional[Callable[[], Any]] = None):
    self._learner = learner
    self._checkpointer = checkpointer
    self._after_save = after_save or (lambda: None)
    self._stopping = threading.Event()

  def run(self):
    while not self._stopping.is_set():
      self._learner.step()
      if self._checkpointer.save():
        self._after_save()

  def get_variables(self, names):
    return self._learner.get_variables(names)

  def on_stop(self):
    self._stopping.set()
    self._checkpointer.save(force=True)
    self._after_save()
    logging.info('Learner stopped; final checkpoint saved.')
