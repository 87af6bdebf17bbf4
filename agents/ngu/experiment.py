"""One call that pre-trains pi_p without reward and reports on it."""

import dataclasses
import functools
import os
from typing import Dict, Optional

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.ngu import program as ngu_program
from behavior_transfer.agents.r2d2 import experiment as r2d2_experiment
from behavior_transfer.utils import runs


# Small domains: pre-training is about gathering novel experience, so it
# trains on each actor step 4 times (transfer learning: 16), letting the
# batched actors run ~4x faster (benchmarks/program_throughput.py).
SMALL_DOMAIN_REPLAY_RATIO = 4.0


def default_config(environment: str, intrinsic_reward: str = 'ngu',
                   **r2d2_overrides) -> ngu_config.NGUConfig:
  domain, _ = environments.parse_environment_name(environment)
  if domain != 'atari':
    r2d2_overrides.setdefault('replay_ratio', SMALL_DOMAIN_REPLAY_RATIO)
  return ngu_config.NGUConfig(
      r2d2=r2d2_experiment.default_config(environment, **r2d2_overrides),
      intrinsic_reward=ngu_config.IntrinsicReward(intrinsic_reward))


def make_program_builder(environment: str, config: ngu_config.NGUConfig,
                         run_dir: str, max_actor_steps: int, seed: int,
                         stop_program=None) -> ngu_program.DistributedNGU:
  environments.validate(environment, 'none')
  domain, _ = environments.parse_environment_name(environment)
  return ngu_program.DistributedNGU(
      environment, functools.partial(networks.make_q_network, domain), config,
      run_dir, max_actor_steps, seed, stop_program)


def run(environment: str, config: ngu_config.NGUConfig, run_dir: str,
        max_actor_steps: int, seed: int = 0, launch_type: str = 'local_mp',
        overwrite: bool = False,
        plot_title: Optional[str] = None,
        verbose: bool = False) -> Dict[str, float]:
  """Pre-trains to the budget; pi_p ends up in <run_dir>/policy (and the
  weights in <run_dir>/checkpoints/learner)."""
  settings = dict(environment=environment, seed=seed, agent='ngu',
                  max_actor_steps=max_actor_steps, **dataclasses.asdict(config))
  settings['intrinsic_reward'] = config.intrinsic_reward.value

  def build_program(stop_program):
    return make_program_builder(environment, config, run_dir, max_actor_steps,
                                seed, stop_program).build()

  return runs.run_to_budget(
      build_program, settings, run_dir, max_actor_steps, launch_type,
      overwrite, plot_title or
      f'{config.intrinsic_reward.value} pre-training on {environment} '
      '(intrinsic reward)', verbose)


def policy_dir(run_dir: str) -> str:
  return os.path.join(run_dir, ngu_program.POLICY_DIR)


def weights_dir(run_dir: str) -> str:
  return os.path.join(run_dir, 'checkpoints', 'learner')
