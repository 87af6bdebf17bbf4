"""What each node group of a program runs on when its nodes are machines of
their own (Vertex AI), and the code and packages their image holds.

Sizes follow the program's config: the learner gets an accelerator; an actor
gets cores and memory for its `envs_per_actor` environments; replay gets the
memory its table holds when full (from the replay signature, see
`replay_bytes`); counter, coordinator, cacher and evaluator share one small
machine type. Launchpad packs groups with equal requirements into one Vertex
worker pool, and Vertex allows four: these sizes make at most four.
"""

import atexit
import dataclasses
import math
import os
import shutil
import tempfile
from typing import Dict, Optional

import numpy as np
import tree

from behavior_transfer.distributed import layout as distributed_layout

GIB = 2**30
# Headroom over the raw bytes replay holds: Reverb's chunk and item
# bookkeeping, and chunks kept alive by items that still reference them.
REPLAY_OVERHEAD = 1.5
# A node's process before its environments: Python, TensorFlow, Reverb, Acme.
PROCESS_GIB = 2.0
# One environment and its observation buffers (an Atari emulator is the
# largest, ~100 MB measured; see docs/multi_machine.md).
ENVIRONMENT_GIB = 0.25
# An actor node acts in one Python thread; one more core per this many
# environments runs their emulators and replay writers beside it
# (docs/results.md, "Actor throughput": one core steps 16 Atari environments
# at ~1,000 steps/s).
ENVIRONMENTS_PER_CORE = 16
SERVICE_GROUPS = ('counter', 'coordinator', 'cacher', 'evaluator')
# XManager gives a group the N1 machine with the least spare memory that fits
# its ask, which for tens of GiB is n1-highcpu-96. Replay asks for exactly
# the smallest n1-highmem machine that holds it instead: (cpus, GiB).
HIGHMEM_MACHINES = ((2, 13), (4, 26), (8, 52), (16, 104), (32, 208),
                    (64, 416), (96, 624))
# The learner asks for exactly n1-standard-8, which takes one V100, P100, T4
# or P4 on Vertex (n1-highcpu-32, XManager's pick for 16 GiB, takes none of
# them); A100s come with their own a2 machine.
LEARNER_CPU, LEARNER_GIB = 8, 30
# Files and folders of the checkout that nodes do not need.
_NOT_SHIPPED = ('.git', '.venv', 'runs', 'docs', 'tests', 'benchmarks',
                '__pycache__', '*.egg-info', '.pytest_cache', '.ci')
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCK_FILE = 'requirements.lock'


@dataclasses.dataclass(frozen=True)
class GroupResources:
  """One group's machine: cores, memory and an optional accelerator (an
  XManager GPU or TPU type name such as 'V100', 'A100', 'T4')."""
  cpu: int
  ram_gib: float
  accelerator: Optional[str] = None

  def job_requirements(self):
    """The XManager job requirements Launchpad hands to Vertex AI."""
    from xmanager import xm  # pylint: disable=g-import-not-at-top
    accelerators = {self.accelerator: 1} if self.accelerator else {}
    return xm.JobRequirements(cpu=self.cpu, ram=self.ram_gib * xm.GiB,
                              **accelerators)


def _table_step_bytes(table) -> int:
  total = 0
  for spec in tree.flatten(table.info.signature):
    # Signatures are [sequence_length, ...]; one step is the rest.
    total += (int(np.prod(spec.shape[1:])) *
              np.dtype(spec.dtype.as_numpy_dtype).itemsize)
  return total


def step_bytes(layout: distributed_layout.DistributedLayout) -> int:
  """Bytes one environment step takes in the agent's replay table
  (observation, action, reward, discount, the stored LSTM state and any
  extras), uncompressed."""
  return _table_step_bytes(
      layout.builder.make_replay_tables(layout.environment_spec)[0])


def replay_bytes(layout: distributed_layout.DistributedLayout) -> int:
  """Bytes the replay tables hold when full, uncompressed.

  A full table of `max_size` sequences starting every `replay_period` steps
  holds about max_size x replay_period steps (plus the tail of the last
  sequence) where the sequences share Reverb chunks, and max_size x
  sequence_length where actors send each item whole
  (`R2D2Config.stored_steps_per_step`); a
  demonstration table counts the same way. Reverb compresses chunks, so
  this is an upper bound for image observations and about right for small
  ones.
  """
  config = layout.builder.r2d2_config
  stored = config.stored_steps_per_step(layout.program_config.envs_per_actor)
  return sum(
      int((table.info.max_size * config.replay_period * stored +
           config.sequence_length) * _table_step_bytes(table))
      for table in layout.builder.make_replay_tables(layout.environment_spec))


def group_resources(layout: distributed_layout.DistributedLayout,
                    learner_accelerator: Optional[str] = 'V100'
                    ) -> Dict[str, GroupResources]:
  """Each node group's machine for `layout`'s program."""
  config = layout.program_config
  environments = config.num_environments
  service = GroupResources(cpu=2, ram_gib=PROCESS_GIB + 2)
  resources = {
      'learner': GroupResources(cpu=LEARNER_CPU, ram_gib=LEARNER_GIB,
                                accelerator=learner_accelerator or None),
      'replay': _replay_machine(layout, environments),
      'actor': GroupResources(
          cpu=1 + math.ceil(config.envs_per_actor / ENVIRONMENTS_PER_CORE),
          ram_gib=math.ceil(PROCESS_GIB +
                            ENVIRONMENT_GIB * config.envs_per_actor)),
  }
  resources.update({group: service for group in SERVICE_GROUPS})
  if layout.builder.demonstration_steps():
    resources['demonstrator'] = resources['actor']
  return resources


def _replay_machine(layout: distributed_layout.DistributedLayout,
                    environments: int) -> GroupResources:
  """The smallest n1-highmem machine with the memory a full replay takes
  and two cores plus one per 64 environments streaming into it (a rule of
  thumb, at most 32)."""
  cpu = min(32, 2 + math.ceil(environments / 64))
  ram_gib = PROCESS_GIB + REPLAY_OVERHEAD * replay_bytes(layout) / GIB
  for machine_cpu, machine_gib in HIGHMEM_MACHINES:
    if machine_cpu >= cpu and machine_gib >= ram_gib:
      return GroupResources(cpu=machine_cpu, ram_gib=machine_gib)
  raise ValueError(
      f'A full replay takes {ram_gib:.0f} GiB, more than the largest Vertex '
      f'N1 machine ({HIGHMEM_MACHINES[-1][1]} GiB); lower max_replay_size.')


def stage_code(destination: Optional[str] = None) -> str:
  """Copies this package into `<destination>/behavior_transfer` (a new
  temporary directory by default) with the requirements file the image
  installs; returns the directory to hand Launchpad as `code_directory`.

  Launchpad copies the directory into the image and runs each node from it,
  with the directory on `sys.path`, so the pickled nodes import
  `behavior_transfer.*` from there.
  """
  if destination is None:
    destination = tempfile.mkdtemp(prefix='btcode')
    atexit.register(shutil.rmtree, destination, ignore_errors=True)
  shutil.copytree(PACKAGE_DIR, os.path.join(destination, 'behavior_transfer'),
                  ignore=shutil.ignore_patterns(*_NOT_SHIPPED))
  with open(os.path.join(destination, 'requirements.txt'), 'w') as f:
    for name in ('requirements.txt', 'requirements-vertex.txt'):
      with open(os.path.join(PACKAGE_DIR, name)) as source:
        f.write(source.read())
    # Every package at the tested version (pip reads the path relative to
    # this file).
    f.write(f'-c {LOCK_FILE}\n')
  shutil.copy(os.path.join(PACKAGE_DIR, LOCK_FILE), destination)
  return destination


def docker_configs(layout: distributed_layout.DistributedLayout,
                   program_groups, learner_accelerator: Optional[str] = 'V100',
                   code_directory: Optional[str] = None):
  """`xm_resources` for `lp.launch(..., launch_type='vertex_ai')`: one
  `lp.DockerConfig` per node group of the program."""
  import launchpad as lp  # pylint: disable=g-import-not-at-top
  code_directory = code_directory or stage_code()
  requirements = os.path.join(code_directory, 'requirements.txt')
  sizes = group_resources(layout, learner_accelerator)
  unknown = set(program_groups) - set(sizes)
  if unknown:
    raise ValueError(f'No Vertex AI resources for node groups '
                     f'{sorted(unknown)}; known: {sorted(sizes)}.')
  return {group: lp.DockerConfig(code_directory, requirements,
                                 sizes[group].job_requirements())
          for group in program_groups}
