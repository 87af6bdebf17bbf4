"""Running a Launchpad program in a run directory: check, prepare, launch,
supervise, report.

A run directory holds `config.json`, per-node CSV logs under `logs/`, the
nodes' raw output under `node_logs/`, their last status under `nodes/`,
checkpoints under `checkpoints/`, `FINISHED` once the budget was reached or
`FAILED` naming the node that failed, and the learning-curve plot. Launching
into an existing run directory resumes it from its checkpoints.
"""

import collections
import csv
import json
import os
import shutil
import signal
from typing import Any, Callable, Dict, Mapping

import launchpad as lp

from behavior_transfer.utils import checkpointing
from behavior_transfer.utils import nodes
from behavior_transfer.utils import reports
from behavior_transfer.utils import supervisor

LAUNCH_TYPES = ('local_mp', 'local_mt', 'test_mt', 'vertex_ai')
# Settings that may change between the launches of one run.
OPERATIONAL_SETTINGS = frozenset({
    'max_actor_steps', 'launch_type', 'overwrite', 'stall_seconds',
    'checkpoint_seconds', 'checkpoint_replay', 'verbose'})


class NodeFailure(RuntimeError):
  """A node of the program failed or died; the message names it and why."""


class RunInterrupted(RuntimeError):
  """The run was stopped before its budget (Ctrl-C or SIGTERM); it resumes."""


def check_run_dir(run_dir: str) -> None:
  """Refuses a run directory that cannot be one, before anything starts."""
  path = os.path.abspath(run_dir)
  if os.path.exists(path) and not os.path.isdir(path):
    raise ValueError(f'--run_dir {run_dir} is a file, not a directory.')
  parent = path
  while not os.path.exists(parent):
    parent = os.path.dirname(parent)
  if not os.path.isdir(parent):
    raise ValueError(f'--run_dir {run_dir} cannot be created: {parent} is a '
                     'file.')
  if not os.access(parent, os.W_OK | os.X_OK):
    raise ValueError(f'--run_dir {run_dir} cannot be written: no write '
                     f'permission on {parent}.')


def check_budget(max_actor_steps: int, num_actors: int,
                 budget_flag: str = 'max_actor_steps') -> None:
  if max_actor_steps <= 0:
    raise ValueError(f'--{budget_flag} must be positive (got '
                     f'{max_actor_steps}).')
  if num_actors < 1:
    raise ValueError(f'--num_actors must be at least 1 (got {num_actors}).')


def _flatten(settings: Mapping[str, Any], prefix: str = '') -> Dict[str, Any]:
  flat = {}
  for key, value in settings.items():
    if isinstance(value, Mapping):
      flat.update(_flatten(value, f'{prefix}{key}.'))
    else:
      flat[f'{prefix}{key}'] = value
  return flat


def prepare_run_dir(run_dir: str, config: Mapping[str, Any],
                    overwrite: bool) -> bool:
  """Creates (or with `overwrite` re-creates) the run directory.

  Returns True when an existing run is resumed from its checkpoints.
  """
  config_path = os.path.join(run_dir, 'config.json')
  if overwrite and os.path.exists(run_dir):
    shutil.rmtree(run_dir)
  resumed = os.path.exists(config_path)
  if resumed:
    with open(config_path) as f:
      previous = _flatten(json.load(f))
    current = _flatten(config)
    changed = {k for k in set(current) | set(previous)
               if previous.get(k) != current.get(k)
               and k.split('.')[-1] not in OPERATIONAL_SETTINGS}
    if changed:
      raise ValueError(
          f'{run_dir} holds a run with a different configuration '
          f'({", ".join(sorted(changed))}); pass --overwrite or another '
          '--run_dir.')
  os.makedirs(run_dir, exist_ok=True)
  for name in (nodes.FAILURE_FILE, nodes.FINISHED_FILE):
    if os.path.exists(os.path.join(run_dir, name)):
      os.remove(os.path.join(run_dir, name))
  shutil.rmtree(os.path.join(run_dir, nodes.STATUS_DIR), ignore_errors=True)
  with open(config_path, 'w') as f:
    json.dump(dict(config), f, indent=2, sort_keys=True)
  return resumed


def truncate_logs(run_dir: str, counts: Mapping[str, float]) -> int:
  """Drops CSV rows logged after the checkpoint a run resumes from (and rows
  cut short by a kill), so that resumed logs never go backwards.

  Actor and evaluator rows are cut at the checkpointed actor steps, learner
  rows at the checkpointed learner steps. Returns the number of rows dropped.
  """
  limits = {'actor_steps': counts.get('actor_steps', 0),
            'learner_steps': counts.get('learner_steps', 0)}
  dropped = 0
  for label in reports.log_labels(run_dir):
    path = reports.log_path(run_dir, label)
    key = 'learner_steps' if label == 'learner' else 'actor_steps'
    with open(path, newline='') as f:
      rows = list(csv.reader(f))
    if not rows:
      continue
    header, body = rows[0], rows[1:]
    column = header.index(key) if key in header else None
    kept = [row for row in body
            if len(row) == len(header) and
            (column is None or _number(row[column]) <= limits[key])]
    dropped += len(body) - len(kept)
    staging = path + '.tmp'
    with open(staging, 'w', newline='') as f:
      csv.writer(f).writerows([header] + kept)
    os.replace(staging, path)
  return dropped


def _number(text: str) -> float:
  try:
    return float(text)
  except ValueError:
    return float('inf')


def resume_point(run_dir: str) -> Dict[str, float]:
  """The counts the run continues from; checks that every checkpoint it
  will restore can be read (raises CheckpointError naming the file)."""
  checkpointing.verify(run_dir, checkpointing.LEARNER)
  return checkpointing.saved_counts(run_dir)


def make_stop_program(launch_type: str) -> Callable[[], Any]:
  """A picklable callable that ends every node of the program."""
  if launch_type not in LAUNCH_TYPES:
    raise ValueError(f'Unknown launch type {launch_type!r}; valid: '
                     f'{", ".join(LAUNCH_TYPES)}.')
  if launch_type == 'local_mp':
    return _StopLocalProgram(os.getpid())
  return lp.make_program_stopper(launch_type)


class _StopLocalProgram:
  """Asks the launcher to stop the program; a no-op once it is gone (each
  node then stops by itself)."""

  def __init__(self, launcher_pid: int):
    self._launcher_pid = launcher_pid

  def __call__(self):
    try:
      os.kill(self._launcher_pid, signal.SIGTERM)
    except ProcessLookupError:
      pass


def launch_and_wait(program: lp.Program, launch_type: str, run_dir: str,
                    verbose: bool = False) -> supervisor.Ending:
  """Launches `program` and waits until every node has ended."""
  if launch_type == 'local_mp':
    processes = supervisor.launch_local_mp(program, run_dir)
    groups = collections.Counter(p.group for p in processes)
    print(f'Started {len(processes)} node processes ('
          f'{", ".join(f"{g} x{n}" if n > 1 else g for g, n in groups.items())}'
          f'); their output goes to '
          f'{os.path.dirname(os.path.dirname(processes[0].log_path))}.',
          flush=True)
    return supervisor.Supervisor(run_dir, processes, verbose).run()
  manager = lp.launch(program, launch_type=launch_type)
  if hasattr(manager, 'wait'):
    try:
      manager.wait()
    except RuntimeError as e:  # A worker raised.
      nodes.record_failure(run_dir, f'The program ended with an error: {e}')
  failure = os.path.join(run_dir, nodes.FAILURE_FILE)
  if os.path.exists(failure):
    with open(failure) as f:
      return supervisor.Ending(supervisor.Outcome.FAILED, f.read())
  return supervisor.Ending(supervisor.Outcome.FINISHED)


def run_to_budget(build_program: Callable[[Callable[[], Any]], lp.Program],
                  settings: Mapping[str, Any], run_dir: str,
                  max_actor_steps: int, launch_type: str, overwrite: bool,
                  plot_title: str, verbose: bool = False) -> Dict[str, float]:
  """Runs a program in `run_dir` until its budget, resuming if it can.

  Args:
    build_program: makes the program given the callable that stops it.
    settings: the run's configuration, saved as config.json; a resumed run
      must have the same settings (operational ones aside).
    run_dir: the run directory.
    max_actor_steps: the budget; a resumed run that already used it only
      reports.
    launch_type: a Launchpad launch type.
    overwrite: start afresh even if `run_dir` holds a run.
    plot_title: title of learning_curve.png.
    verbose: show every line the nodes print, not only their announcements.

  Returns:
    The run's summary (steps, episodes, recent returns).

  Raises:
    ValueError: bad input, found before anything starts.
    CheckpointError: a checkpoint to resume from cannot be read.
    NodeFailure: a node failed, died or the program stalled.
    RunInterrupted: Ctrl-C or SIGTERM stopped the run before its budget.
  """
  check_run_dir(run_dir)
  # Building first checks names and pi_p before the run directory is touched.
  program = build_program(make_stop_program(launch_type))
  resumed = prepare_run_dir(run_dir, settings, overwrite)
  counts = resume_point(run_dir) if resumed else {}
  done = int(counts.get('actor_steps', 0))
  if resumed:
    dropped = truncate_logs(run_dir, counts)
    if done >= max_actor_steps:
      print(f'The run in {run_dir} already used its budget ({done} of '
            f'{max_actor_steps} actor steps); raise --max_actor_steps to go '
            'on.', flush=True)
      return _report(run_dir, plot_title)
    where = (f'its checkpoint at {done} actor steps and '
             f'{int(counts.get("learner_steps", 0))} learner steps' if counts
             else 'the start (it had no checkpoint yet)')
    print(f'Resuming the run in {run_dir} from {where}'
          + (f'; dropped {dropped} log rows written after that checkpoint.'
             if dropped else '.'), flush=True)
  ending = launch_and_wait(program, launch_type, run_dir, verbose)
  if ending.outcome == supervisor.Outcome.FAILED:
    raise NodeFailure(ending.message)
  if ending.outcome == supervisor.Outcome.INTERRUPTED:
    saved = int(checkpointing.saved_counts(run_dir).get('actor_steps', 0))
    raise RunInterrupted(
        f'Interrupted ({ending.message}) at {saved} of {max_actor_steps} '
        'checkpointed actor steps; run the same command to resume.')
  return _report(run_dir, plot_title)


def _report(run_dir: str, plot_title: str) -> Dict[str, float]:
  reports.plot_learning_curves(run_dir, plot_title)
  return reports.summarize(run_dir)
