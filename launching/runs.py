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
import time
from typing import Any, Callable, Collection, Dict, Mapping, Optional, Union

import launchpad as lp

from behavior_transfer.distributed import checkpointing
from behavior_transfer.distributed import layout as distributed_layout
from behavior_transfer.distributed import nodes
from behavior_transfer.launching import rehearsal
from behavior_transfer.launching import reports
from behavior_transfer.launching import resources
from behavior_transfer.launching import run_lock
from behavior_transfer.launching import supervisor
from behavior_transfer.launching import vertex

LAUNCH_TYPES = ('local_mp', 'local_mt', 'test_mt', vertex.LAUNCH_TYPE)
# A Launchpad launch type, or how to go to Vertex AI ('vertex_ai' alone
# submits with the default resources).
Launch = Union[str, vertex.VertexLaunch]
# Written when a program is submitted to Vertex AI, until it has ended.
SUBMITTED_FILE = 'SUBMITTED'
class NodeFailure(RuntimeError):
  """A node of the program failed or died; the message names it and why."""


class RunInterrupted(RuntimeError):
  """The run was stopped before its budget (Ctrl-C or SIGTERM); it resumes."""


class Handover(Exception):
  """The program runs elsewhere (submitted to Vertex AI) or was only
  planned (a dry run); the message says what happened and what comes next."""


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


def prepare_run_dir(run_dir: str, settings: Mapping[str, Any],
                    overwrite: bool,
                    may_change: Collection[str] = frozenset(),
                    read_settings: Callable[[Dict[str, Any]], Dict[str, Any]]
                    = dict) -> bool:
  """Creates (or with `overwrite` re-creates) the run directory and writes
  `settings` to its config.json.

  A run directory that holds a run is resumed if its stored settings, read
  through `read_settings` (which brings older layouts up to date), equal
  `settings` except for the flattened keys in `may_change`. Returns True when
  an existing run is resumed from its checkpoints.
  """
  config_path = os.path.join(run_dir, 'config.json')
  if overwrite and os.path.exists(run_dir):
    for name in os.listdir(run_dir):  # All but the launch's own lock.
      if name != run_lock.LOCK_FILE:
        path = os.path.join(run_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
          shutil.rmtree(path)
        else:
          os.remove(path)
  resumed = os.path.exists(config_path)
  if resumed:
    with open(config_path) as f:
      stored = json.load(f)
    try:
      previous = _flatten(read_settings(stored))
    except (ValueError, KeyError, TypeError) as e:
      raise ValueError(f'{config_path} cannot be read as a run of this code '
                       f'({e}); pass --overwrite or another --run_dir.'
                       ) from e
    current = _flatten(settings)
    changed = {k for k in set(current) | set(previous)
               if previous.get(k) != current.get(k) and k not in may_change}
    if changed:
      raise ValueError(
          f'{run_dir} holds a run with a different configuration '
          f'({", ".join(sorted(changed))}); pass --overwrite or another '
          '--run_dir.')
  os.makedirs(run_dir, exist_ok=True)
  nodes.clear_failures(run_dir)
  for name in (nodes.FINISHED_FILE, SUBMITTED_FILE):
    if os.path.exists(os.path.join(run_dir, name)):
      os.remove(os.path.join(run_dir, name))
  shutil.rmtree(os.path.join(run_dir, nodes.STATUS_DIR), ignore_errors=True)
  nodes.write_atomically(config_path,
                         json.dumps(dict(settings), indent=2, sort_keys=True))
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
  will restore can be read (raises CheckpointError naming the file). An
  index left empty by a save cut short (a full disk) is pointed back at the
  newest complete checkpoint first."""
  for name in (checkpointing.COUNTER, checkpointing.LEARNER):
    repaired = checkpointing.repair_index(run_dir, name)
    if repaired:
      print(f'The {name} checkpoint index was empty (a save cut short?); '
            f'resuming from {os.path.basename(repaired)}, the newest complete '
            'checkpoint.', flush=True)
  checkpointing.verify(run_dir, checkpointing.LEARNER)
  return checkpointing.saved_counts(run_dir)


def launches_wall_seconds(run_dir: str) -> Optional[float]:
  """Wall time of every local multi-process launch into `run_dir`, resumes
  included: for each `node_logs/<start>/`, from its start to the last write
  below it. None without node logs (in-process and Vertex AI launches)."""
  root = os.path.join(run_dir, supervisor.NODE_LOGS_DIR)
  total = None
  for stamp in sorted(os.listdir(root)) if os.path.isdir(root) else ():
    try:
      started = time.mktime(time.strptime(stamp, supervisor.LAUNCH_STAMP))
    except ValueError:
      continue  # Not a launch's directory.
    last = max((os.path.getmtime(os.path.join(folder, name))
                for folder, _, names in os.walk(os.path.join(root, stamp))
                for name in names), default=started)
    total = (total or 0.) + max(0., last - started)
  return total


def as_launch(launch_type: Launch) -> Launch:
  """Checks a launch type; 'vertex_ai' becomes a default `VertexLaunch`."""
  if isinstance(launch_type, vertex.VertexLaunch):
    return launch_type
  if launch_type not in LAUNCH_TYPES:
    raise ValueError(f'Unknown launch type {launch_type!r}; valid: '
                     f'{", ".join(LAUNCH_TYPES)}.')
  if launch_type == vertex.LAUNCH_TYPE:
    return vertex.VertexLaunch()
  return launch_type


def make_stop_program(launch_type: Launch) -> Callable[[], Any]:
  """A picklable callable that ends every node of the program: on one
  machine it asks the launcher, on Vertex AI it cancels the job."""
  launch_type = as_launch(launch_type)
  if isinstance(launch_type, vertex.VertexLaunch):
    if launch_type.mode == 'rehearsal':
      return _StopLocalProgram(os.getpid())
    return lp.make_program_stopper(vertex.LAUNCH_TYPE)
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


def _launch_local_mp(program: lp.Program, run_dir: str,
                     verbose: bool) -> supervisor.Ending:
  processes = supervisor.launch_local_mp(program, run_dir)
  groups = collections.Counter(p.group for p in processes)
  print(f'Started {len(processes)} node processes ('
        f'{", ".join(f"{g} x{n}" if n > 1 else g for g, n in groups.items())}'
        f'); their output goes to '
        f'{os.path.dirname(os.path.dirname(processes[0].log_path))}. '
        f'Learning curves as they come: tensorboard --logdir {run_dir}',
        flush=True)
  return supervisor.Supervisor(run_dir, processes, verbose).run()


class _LaunchCleanup:
  """Stands in for the test case that Launchpad's test_mt launch hands its
  clean-up to: stopping its node monitor, waiting for every node thread and
  removing its signal handlers. Left running, that monitor SIGQUITs this
  whole process (and its children) 3 s after it sees any node thread that
  ended with an error, even long after the run returned."""

  def __init__(self):
    self._callbacks = []

  def addCleanup(self, callback, *args, **kwargs):  # pylint: disable=invalid-name
    self._callbacks.append((callback, args, kwargs))

  def run(self):
    while self._callbacks:
      callback, args, kwargs = self._callbacks.pop()
      callback(*args, **kwargs)


def _launch_in_process(program: lp.Program, launch_type: str,
                       run_dir: str) -> supervisor.Ending:
  """Runs the program's nodes as threads of this process until they end."""
  cleanup = _LaunchCleanup()
  manager = lp.launch(program, launch_type=launch_type,
                      **({'test_case': cleanup} if launch_type == 'test_mt'
                         else {}))
  try:
    manager.wait()
  except RuntimeError as e:  # A worker raised; the manager stops the rest.
    nodes.record_failure(run_dir, f'The program ended with an error: {e}')
  try:
    cleanup.run()
  except Exception as e:  # pylint: disable=broad-except
    nodes.record_failure(run_dir, f'The program ended with an error: {e}')
  failures = nodes.read_failures(run_dir)
  if failures:
    return supervisor.Ending(supervisor.Outcome.FAILED, failures)
  return supervisor.Ending(supervisor.Outcome.FINISHED)


def _launch_vertex(program: lp.Program,
                   layout: distributed_layout.DistributedLayout,
                   launch: vertex.VertexLaunch, run_dir: str,
                   verbose: bool) -> supervisor.Ending:
  """Rehearses the Vertex AI launch to its end, or submits it (Handover)."""
  xm_resources = resources.docker_configs(layout, program.groups,
                                          launch.learner_accelerator)
  if launch.mode == 'rehearsal':
    return rehearsal.run(vertex.plan(program, xm_resources), run_dir, verbose)
  vertex.submit(program, xm_resources)
  nodes.write_atomically(os.path.join(run_dir, SUBMITTED_FILE),
                         f'{program.name} submitted {time.ctime()}\n')
  raise Handover(
      f'Submitted to Vertex AI. The nodes log, checkpoint and report into '
      f'{run_dir}: progress in logs/*.csv, FINISHED at the budget, FAILED '
      'naming a node that failed. Run the same command again once the job '
      'has ended: it reports a finished run and resumes an unfinished one.')


def check_not_submitted(run_dir: str) -> None:
  """Refuses to launch into a run directory whose Vertex AI job may still be
  running (it would run twice)."""
  marker = os.path.join(run_dir, SUBMITTED_FILE)
  ended = any(os.path.exists(os.path.join(run_dir, name))
              for name in (nodes.FINISHED_FILE, nodes.FAILURE_FILE))
  if os.path.exists(marker) and not ended:
    with open(marker) as f:
      submitted = f.read().strip()
    raise ValueError(
        f'{run_dir} belongs to a Vertex AI job that has not ended ({submitted}'
        f'; no FINISHED or FAILED yet). Wait for it, or, if you cancelled it, '
        f'delete {marker} and run again to resume.')


def run_to_budget(make_layout: Callable[
    [Callable[[], Any]], distributed_layout.DistributedLayout],
                  settings: Mapping[str, Any], run_dir: str,
                  max_actor_steps: int, launch_type: Launch, overwrite: bool,
                  plot_title: str, verbose: bool = False,
                  may_change: Collection[str] = frozenset(),
                  read_settings: Callable[[Dict[str, Any]], Dict[str, Any]]
                  = dict) -> Dict[str, float]:
  """Runs a program in `run_dir` until its budget, resuming if it can.

  Args:
    make_layout: makes the program's layout given the callable that stops
      the program.
    settings: the run's configuration, saved as config.json; a resumed run
      must have the same settings, except the flattened keys `may_change`.
    run_dir: the run directory.
    max_actor_steps: the budget; a resumed run that already used it only
      reports.
    launch_type: a Launchpad launch type, or a `vertex.VertexLaunch`.
    overwrite: start afresh even if `run_dir` holds a run.
    plot_title: title of learning_curve.png.
    verbose: show every line the nodes print, not only their announcements.
    may_change: settings keys (nested ones joined by dots) that may differ
      from the stored ones when a run resumes.
    read_settings: brings a stored config.json into the current layout.

  Returns:
    The run's summary (steps, episodes, recent returns).

  Raises:
    ValueError: bad input, found before anything starts.
    CheckpointError: a checkpoint to resume from cannot be read.
    NodeFailure: a node failed, died or the program stalled.
    RunInterrupted: Ctrl-C or SIGTERM stopped the run before its budget.
    Handover: the program was submitted to Vertex AI, or only planned.
  """
  launch = as_launch(launch_type)
  on_vertex = isinstance(launch, vertex.VertexLaunch)
  if on_vertex and launch.mode != 'rehearsal':
    vertex.check_run_dir(run_dir)
  if on_vertex and launch.mode == 'submit':
    vertex.check_cloud_setup()
  if on_vertex and launch.mode == 'rehearsal':
    rehearsal.check_available()
  if not (on_vertex and launch.mode == 'dry_run'):
    check_run_dir(run_dir)
  # Building first checks names and pi_p before the run directory is touched.
  layout = make_layout(make_stop_program(launch))
  program = layout.build()
  if on_vertex and launch.mode == 'dry_run':
    plan = vertex.plan(program, resources.docker_configs(
        layout, program.groups, launch.learner_accelerator))
    raise Handover(f'Dry run; nothing was submitted and {run_dir} was not '
                   f'touched.\n{plan.describe()}')
  with run_lock.RunDirectoryLock(run_dir) as lock:
    if lock.previous_owner:
      print(f'Taking over {run_dir} from a launch that is gone '
            f'({run_lock.describe(lock.previous_owner)}).', flush=True)
    return _launch_into(program, layout, launch, run_dir, settings,
                        max_actor_steps, overwrite, plot_title, verbose,
                        may_change, read_settings)


def _launch_into(program: lp.Program,
                 layout: distributed_layout.DistributedLayout, launch: Launch,
                 run_dir: str, settings: Mapping[str, Any],
                 max_actor_steps: int, overwrite: bool, plot_title: str,
                 verbose: bool, may_change: Collection[str],
                 read_settings: Callable[[Dict[str, Any]], Dict[str, Any]]
                 ) -> Dict[str, float]:
  """`run_to_budget` once the launch holds the run directory."""
  on_vertex = isinstance(launch, vertex.VertexLaunch)
  check_not_submitted(run_dir)
  resumed = prepare_run_dir(run_dir, settings, overwrite, may_change,
                            read_settings)
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
  if on_vertex:
    ending = _launch_vertex(program, layout, launch, run_dir, verbose)
  elif launch == 'local_mp':
    ending = _launch_local_mp(program, run_dir, verbose)
  else:
    ending = _launch_in_process(program, launch, run_dir)
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
