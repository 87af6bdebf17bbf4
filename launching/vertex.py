"""A program on Vertex AI through Launchpad 0.5's own `vertex_ai` path, or
that path's plan without a cloud account.

`lp.launch(program, launch_type='vertex_ai', xm_resources=...)` binds every
node's address to its place in the job (`workerpoolK`, replica i; at run time
the node reads `CLUSTER_SPEC`), pickles each worker pool's nodes into a
Docker build context, and submits one Vertex custom job through XManager.
`plan` runs that same call with XManager's experiment replaced by one that
records what it is given instead of building images and submitting, so the
worker pools, their machines, replicas, build contexts and entry points are
what Launchpad would really submit.
"""

import contextlib
import dataclasses
import io
import logging
import os
import shlex
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import launchpad as lp

from behavior_transfer.launching import prices

LAUNCH_TYPE = 'vertex_ai'
MODES = ('submit', 'dry_run', 'rehearsal')
# Vertex AI mounts Cloud Storage buckets here (Cloud Storage FUSE), so nodes
# on different machines share a run directory below it.
SHARED_ROOT = '/gcs/'


@dataclasses.dataclass(frozen=True)
class VertexLaunch:
  """How a program goes to Vertex AI.

  mode: 'submit' (a custom job on Vertex AI), 'dry_run' (print what would be
    submitted and exit) or 'rehearsal' (run the submitted worker pools on
    this machine, one network namespace per replica; `launching.rehearsal`).
  learner_accelerator: the learner's XManager accelerator type ('V100',
    'A100', 'T4', ...) or None for a CPU learner.
  """
  mode: str = 'submit'
  learner_accelerator: Optional[str] = 'V100'

  def __post_init__(self):
    if self.mode not in MODES:
      raise ValueError(f'Unknown Vertex AI mode {self.mode!r}; valid: '
                       f'{", ".join(MODES)}.')
    valid = accelerator_types()
    if self.learner_accelerator not in (None,) + valid:
      raise ValueError(f'Unknown accelerator {self.learner_accelerator!r}; '
                       f'valid: {", ".join(valid)} (or none).')


def accelerator_types() -> Tuple[str, ...]:
  """The GPU and TPU types XManager can ask Vertex AI for."""
  try:
    from xmanager import xm  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ValueError('Launching on Vertex AI needs XManager: '
                     "pip install -e '.[vertex]'") from e
  return tuple(t.name for t in xm.ResourceType
               if t in xm.GpuType or t in xm.TpuType)


@dataclasses.dataclass
class WorkerPool:
  """One Vertex worker pool: a machine type, and one replica per node."""
  name: str
  nodes: List[str]  # The node group label of each replica, in replica order.
  machine_spec: Dict[str, Any]  # What Vertex receives (XManager computes it).
  requirements: Any  # xm.JobRequirements
  container: Any  # xm.PythonContainer: build context, base image, entry point.

  @property
  def replicas(self) -> int:
    return len(self.nodes)

  def replica_hour(self) -> Optional[float]:
    """List price per hour of one replica (`prices`), None if unknown."""
    spec = self.machine_spec
    accelerator = spec.get('accelerator_type')
    return prices.replica_hour(
        spec['machine_type'], _enum_name(accelerator) if accelerator else None,
        spec.get('accelerator_count', 0))

  def entrypoint(self) -> List[str]:
    """The command each replica's container runs."""
    [command] = self.container.entrypoint.commands
    return shlex.split(command)


@dataclasses.dataclass
class LaunchPlan:
  """What `lp.launch(..., 'vertex_ai')` submits for a program."""
  title: str
  pools: List[WorkerPool]

  def cluster_spec(self, addresses: Mapping[str, Sequence[str]], pool: str,
                   index: int) -> Dict[str, Any]:
    """The `CLUSTER_SPEC` Vertex gives replica `index` of `pool`, given each
    pool's replica addresses."""
    return {'cluster': {name: list(hosts) for name, hosts in addresses.items()},
            'task': {'type': pool, 'index': index}}

  def hourly_cost(self) -> Optional[float]:
    """List price per hour of every replica of the job; None when a
    machine or accelerator is not in `prices`' table."""
    costs = [pool.replica_hour() for pool in self.pools]
    if any(cost is None for cost in costs):
      return None
    return sum(cost * pool.replicas for cost, pool in zip(costs, self.pools))

  def describe(self) -> str:
    lines = [f'Vertex AI custom job {self.title!r}: {len(self.pools)} worker '
             f'pools, {sum(p.replicas for p in self.pools)} replicas (one per '
             'node); nodes find each other through CLUSTER_SPEC.']
    for pool in self.pools:
      spec = pool.machine_spec
      price = pool.replica_hour()
      cost = ('price unknown' if price is None else
              f'${price:.2f}/h each, ${price * pool.replicas:.2f}/h')
      accelerator = (f' + {spec["accelerator_count"]} x '
                     f'{_enum_name(spec["accelerator_type"])}'
                     if spec.get('accelerator_type') else '')
      groups = ', '.join(f'{group} x{count}' if count > 1 else group
                         for group, count in _runs(pool.nodes))
      lines.append(
          f'  {pool.name}: {pool.replicas} replica(s) of {spec["machine_type"]}'
          f'{accelerator} (asked: {_asked(pool.requirements)}; {cost}) '
          f'<- {groups}')
    total = self.hourly_cost()
    lines.append(
        f'List price: {"unknown" if total is None else f"${total:.2f}"} per '
        f'hour of the whole job ({prices.REGION}, on demand, '
        f'{prices.age_note()}; the user\'s to check at {prices.PRICES_URL}).')
    first = self.pools[0].container
    lines += [
        f'Image: base {first.base_image}, code and requirements from '
        f'{os.path.dirname(first.path)}/<pool context>; each replica runs '
        f'`{" ".join(self.pools[0].entrypoint())}` in it (its worker pool\'s '
        'pickled nodes; CLUSTER_SPEC picks the replica\'s node).',
        'Docker instructions:'] + [f'  {line}' for line in
                                   first.docker_instructions]
    return '\n'.join(lines)


def _enum_name(value) -> str:
  return getattr(value, 'name', str(value))


def _asked(requirements) -> str:
  asked = []
  for resource, value in requirements.task_requirements.items():
    name = _enum_name(resource).lower()
    asked.append(f'{name}={value / 2**30:g} GiB' if name in ('memory', 'ram')
                 else f'{name}={value:g}')
  return ', '.join(asked)


def _runs(labels: Sequence[str]) -> List[Tuple[str, int]]:
  """Consecutive equal labels as (label, count)."""
  runs = []
  for label in labels:
    if runs and runs[-1][0] == label:
      runs[-1] = (label, runs[-1][1] + 1)
    else:
      runs.append((label, 1))
  return runs


class _RecordingExperiment:
  """Stands in for XManager's local experiment (`xm_local.create_experiment`):
  takes what Launchpad packages and submits, builds and submits nothing."""

  def __init__(self, experiment_title: str):
    self.title = experiment_title
    self.jobs: List[Any] = []

  def __enter__(self):
    return self

  def __exit__(self, *unused_exc):
    return False

  def package(self, packageables):
    # The container stands in for the image XManager would build from it.
    return [packageable.executable_spec for packageable in packageables]

  def add(self, job_group):
    self.jobs.extend(job_group.jobs.values())


@contextlib.contextmanager
def _quiet_copies():
  """Keeps the line distutils logs per copied file off the terminal."""
  root = logging.getLogger()
  level = root.level
  root.setLevel(max(level, logging.WARNING))
  try:
    yield
  finally:
    root.setLevel(level)


@contextlib.contextmanager
def _recording_experiments():
  """Replaces XManager's experiment while Launchpad launches; yields the
  experiments created meanwhile."""
  from xmanager import xm_local  # pylint: disable=g-import-not-at-top
  created = []

  def create_experiment(experiment_title: str):
    created.append(_RecordingExperiment(experiment_title))
    return created[-1]

  original = xm_local.create_experiment
  xm_local.create_experiment = create_experiment
  try:
    yield created
  finally:
    xm_local.create_experiment = original


def _pool_of_nodes(program: lp.Program) -> Dict[str, List[str]]:
  """Pool name -> node group label per replica, from the addresses Launchpad
  bound (each node's one address names its pool and replica)."""
  places = {}
  for label, group in program.groups.items():
    for node in group:
      [address] = node.addresses
      builder = address._address_builder  # pylint: disable=protected-access
      places[(builder._cluster, builder._instance)] = label  # pylint: disable=protected-access
  pools: Dict[str, List[str]] = {}
  for (pool, instance), label in sorted(places.items()):
    pools.setdefault(pool, []).append(label)
    assert len(pools[pool]) == instance + 1, (pool, instance)
  return pools


def plan(program: lp.Program, xm_resources: Mapping[str, Any]) -> LaunchPlan:
  """Runs Launchpad's `vertex_ai` launch of `program` up to the submission,
  which is recorded instead of made; needs no cloud account."""
  # xm_local first: importing xmanager.cloud.vertex alone is circular.
  from xmanager import xm_local  # pylint: disable=g-import-not-at-top,unused-import
  from xmanager.cloud import vertex as xm_vertex  # pylint: disable=g-import-not-at-top
  with _recording_experiments() as experiments, _quiet_copies(), \
      contextlib.redirect_stdout(io.StringIO()):  # Its "launched" notice.
    lp.launch(program, launch_type=LAUNCH_TYPE, xm_resources=dict(xm_resources))
  [experiment] = experiments
  nodes = _pool_of_nodes(program)
  pools = []
  for index, job in enumerate(experiment.jobs):
    name = f'workerpool{index}'
    if job.executor.requirements.replicas != len(nodes[name]):
      raise RuntimeError(f'{name}: {job.executor.requirements.replicas} '
                         f'replicas for {len(nodes[name])} nodes.')
    pools.append(WorkerPool(name, nodes[name], xm_vertex.get_machine_spec(job),
                            job.executor.requirements, job.executable))
  return LaunchPlan(experiment.title, pools)


def check_run_dir(run_dir: str) -> None:
  """Nodes on other machines see only shared storage."""
  if not os.path.abspath(run_dir).startswith(SHARED_ROOT):
    raise ValueError(
        f'--run_dir {run_dir} is on this machine, which the nodes on Vertex AI '
        f'cannot see. Use a Cloud Storage path as Vertex mounts it, '
        f'{SHARED_ROOT}<bucket>/<run>, and mount the bucket at the same path '
        f'here (gcsfuse <bucket> {SHARED_ROOT}<bucket>) so that this launcher '
        'can prepare and later report the run.')


def check_cloud_setup() -> None:
  """What XManager needs before it can build and submit, said up front."""
  missing = []
  if not os.environ.get('GOOGLE_CLOUD_BUCKET_NAME'):
    missing.append('GOOGLE_CLOUD_BUCKET_NAME (the bucket XManager stages '
                   'builds in)')
  try:
    import google.auth  # pylint: disable=g-import-not-at-top
    _, project = google.auth.default()
    if not project:
      missing.append('a default GCP project (gcloud config set project <id>)')
  except Exception as e:  # pylint: disable=broad-except
    missing.append(f'GCP credentials (gcloud auth application-default login): '
                   f'{e}')
  if missing:
    raise ValueError('Vertex AI submission needs ' + '; '.join(missing) +
                     '. docs/multi_machine.md lists the steps; '
                     '--vertex_mode=dry_run shows the job without them.')


def submit(program: lp.Program, xm_resources: Mapping[str, Any]) -> None:
  """Builds the images and submits the custom job (Launchpad and XManager);
  `check_cloud_setup` first says what is missing for it."""
  with _quiet_copies():
    lp.launch(program, launch_type=LAUNCH_TYPE,
              xm_resources=dict(xm_resources))
