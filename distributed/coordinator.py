"""The budget node: progress, the end of a run at its step budget, and stalls.

Acme's step limiter has been seen to stop only itself (acme issues #118, #137,
#198). Here the coordinator stops the whole program through the program
stopper: when the actors have used the budget (after writing
`<run_dir>/FINISHED`), or when neither the actors nor the learner have made
progress for `stall_seconds` (after writing to `<run_dir>/FAILED` what every
node was doing). Before the first progress, building the nodes (TF tracing,
Atari networks) may take longer: then the limit is at least STARTUP_SECONDS.
"""

import json
import os
import threading
import time
from typing import Any, Callable, Mapping

from acme.utils import counting

from behavior_transfer.distributed import logs
from behavior_transfer.distributed import nodes

STARTUP_SECONDS = 300.


def progress_line(counts: Mapping[str, float], max_actor_steps: int,
                  steps_per_second: float,
                  learner_steps_per_second: float) -> str:
  """One human-readable line of progress from the counter's counts."""
  steps = int(counts.get('actor_steps', 0))
  remaining = max(max_actor_steps - steps, 0)
  eta = (f'ETA {remaining / steps_per_second:.0f}s' if steps_per_second > 0
         else 'ETA unknown')
  return (f'actor steps {steps}/{max_actor_steps} '
          f'({100. * steps / max_actor_steps:.0f}%), '
          f'episodes {int(counts.get("actor_episodes", 0))}, '
          f'learner steps {int(counts.get("learner_steps", 0))}, '
          f'{steps_per_second:.0f} actor steps/s, '
          f'{learner_steps_per_second:.1f} learner steps/s, {eta}')


def stall_report(run_dir: str, stall_seconds: float) -> str:
  """What every node was doing when the program stalled."""
  now = time.time()
  lines = [f'The run stalled: no actor and no learner progress for '
           f'{stall_seconds:.0f}s, and no node has died. What each node was '
           'doing:']
  for name, status in nodes.read_statuses(run_dir).items():
    silent = now - status['updated']
    heartbeat = (f'; no heartbeat for {silent:.0f}s (frozen or stopped?)'
                 if silent > 3 * nodes.HEARTBEAT_SECONDS else '')
    lines.append(
        f'  {name} (pid {status["pid"]}, {status["state"]}): '
        f'{status["activity"]} for {now - status["activity_since"]:.0f}s'
        f'{heartbeat}')
  return '\n'.join(lines)


class StepBudget:
  """Reports progress and ends the program at its budget or when it stalls."""

  def __init__(self,
               counter: counting.Counter,
               max_actor_steps: int,
               stop_program: Callable[[], Any],
               run_dir: str,
               stall_seconds: float = 300.,
               poll_seconds: float = 1.0,
               progress_every_seconds: float = 15.0):
    self._counter = counter
    self._max_actor_steps = max_actor_steps
    self._stop_program = stop_program
    self._run_dir = run_dir
    self._stall_seconds = stall_seconds
    self._poll_seconds = poll_seconds
    self._progress_every_seconds = progress_every_seconds
    self._stopping = threading.Event()

  def run(self):
    counts = self._counter.get_counts()
    start, start_counts = time.time(), counts
    last_change, last_report = start, start
    started = False
    while not self._stopping.wait(self._poll_seconds):
      previous, counts = counts, self._counter.get_counts()
      now = time.time()
      if int(counts.get('actor_steps', 0)) >= self._max_actor_steps:
        self._finish(counts)
        return
      if _progress(previous, counts):
        last_change, started = now, True
      elif now - last_change > (self._stall_seconds if started else
                                max(self._stall_seconds, STARTUP_SECONDS)):
        self._stall(now - last_change)
        return
      if now - last_report >= self._progress_every_seconds:
        last_report = now
        elapsed = max(now - start, 1e-6)
        nodes.announce(progress_line(
            counts, self._max_actor_steps,
            _gained(start_counts, counts, 'actor_steps') / elapsed,
            _gained(start_counts, counts, 'learner_steps') / elapsed) +
                       self._exploration())

  def on_stop(self):
    self._stopping.set()

  def _exploration(self) -> str:
    """Pre-training's greedy pi_p against a random policy, while it trains
    (the evaluator logs the ratio where the level has a measure)."""
    ratio = logs.recent_mean(self._run_dir, 'evaluator',
                             'exploration_vs_random')
    if ratio is None:
      return ''
    ceiling = logs.recent_mean(self._run_dir, 'evaluator',
                               'exploration_ceiling')
    most = '' if ceiling is None else f'; the layouts allow {ceiling:.2f}x'
    return (f'; pi_p explores {ratio:.2f}x a random policy (evaluator, '
            f'last 10 episodes{most})')

  def _finish(self, counts: Mapping[str, float]):
    nodes.write_atomically(os.path.join(self._run_dir, nodes.FINISHED_FILE),
                           json.dumps(dict(counts)))
    nodes.announce(f'budget reached: {int(counts["actor_steps"])}/'
                   f'{self._max_actor_steps} actor steps; stopping the '
                   'program.')
    self._stop_program()

  def _stall(self, seconds: float):
    report = stall_report(self._run_dir, seconds)
    nodes.announce(report)
    nodes.record_failure(self._run_dir, report)
    self._stop_program()


def _gained(before: Mapping[str, float], after: Mapping[str, float],
            key: str) -> float:
  return float(after.get(key, 0)) - float(before.get(key, 0))


def _progress(before: Mapping[str, float], after: Mapping[str, float]) -> bool:
  return any(_gained(before, after, key) > 0
             for key in ('actor_steps', 'learner_steps'))
