"""What each config preset needs: actors, network size and replay memory.

Computed from the programs themselves: the Q-network's variables and the
replay tables' signature (launching/resources.py), for each agent (R2D2, BT,
NGU pre-training), since BT's replay items hold extras R2D2's do not.
"""

import tempfile
from typing import Dict, List

import numpy as np

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer.distributed import program_config
from behavior_transfer.launching import resources

MIB, GIB = 2**20, 2**30
AGENTS = ('r2d2', 'bt', 'ngu')


def _layout(environment: str, agent: str, preset: str, run_dir: str):
  spec = experiments.from_preset(agent, environment, 1, preset,
                                 pretrained='random' if agent == 'bt' else None)
  return experiments.make_layout(spec, run_dir)


def describe(environment: str, agent: str, preset: str) -> Dict:
  """One agent's program under one preset: what it runs and holds."""
  with tempfile.TemporaryDirectory() as run_dir:
    layout = _layout(environment, agent, preset, run_dir)
  config = layout.builder.r2d2_config
  program = layout.program_config
  network = layout.builder.make_network(layout.environment_spec)
  parameters = int(sum(np.prod(v.shape) for v in network.variables))
  machines = resources.group_resources(layout)
  return dict(
      environment=environment, agent=agent, preset=preset,
      network_size=config.network_size, actors=program.num_actors,
      envs_per_actor=program.envs_per_actor,
      q_network_parameters=parameters,
      q_network_mib=parameters * 4 / MIB,
      sequence_length=config.sequence_length,
      replay_sequences=config.max_replay_size,
      replay_bytes_per_step=resources.step_bytes(layout),
      replay_gib_full=resources.replay_bytes(layout) / GIB,
      replay_machine_gib=machines['replay'].ram_gib,
      actor_machine_gib=machines['actor'].ram_gib,
      batch_size=config.batch_size)


def describe_all(environment: str) -> List[Dict]:
  """Every agent under every preset of the environment's domain."""
  domain = environments.parse(environment).domain
  return [describe(environment, agent, preset)
          for preset in program_config.PRESETS[domain] for agent in AGENTS]


def format_table(rows: List[Dict]) -> str:
  lines = ['| preset | agent | actors x envs | network | Q-network params '
           '| replay sequences x steps | bytes/step | replay when full | '
           'replay machine | actor machine |',
           '|---|---|---|---|---:|---|---:|---:|---:|---:|']
  for r in rows:
    lines.append(
        f'| {r["preset"]} | {r["agent"]} | {r["actors"]} x '
        f'{r["envs_per_actor"]} | {r["network_size"]} | '
        f'{r["q_network_parameters"]:,} ({r["q_network_mib"]:.1f} MiB) | '
        f'{r["replay_sequences"]:,} x {r["sequence_length"]} | '
        f'{r["replay_bytes_per_step"]:,} | {r["replay_gib_full"]:.2f} GiB | '
        f'{r["replay_machine_gib"]:g} GiB | {r["actor_machine_gib"]:g} GiB |')
  return '\n'.join(lines)
