"""One call that runs distributed R2D2 in a run directory and reports on it.

The launch script parses flags and calls `run`; tests and benchmarks call it too.
"""

import dataclasses
import functools
from typing import Dict, Optional

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.agents.r2d2 import program as r2d2_program
from behavior_transfer.utils import runs


def default_config(environment: str, **overrides) -> r2d2_config.R2D2Config:
  """Paper defaults for Atari; the small-domain preset for MiniGrid."""
  domain, _ = environments.parse_environment_name(environment)
  if domain == 'atari':
    return r2d2_config.R2D2Config(**overrides)
  return r2d2_config.small_domain_config(**overrides)


def make_program_builder(environment: str, task: str,
                         config: r2d2_config.R2D2Config, run_dir: str,
                         max_actor_steps: int, seed: int, stop_program=None
                         ) -> r2d2_program.DistributedR2D2:
  """The DistributedR2D2 builder for an environment name and task."""
  environments.validate(environment, task)
  domain, _ = environments.parse_environment_name(environment)
  return r2d2_program.DistributedR2D2(
      environment_factory=environment_factory(environment, task),
      network_factory=functools.partial(networks.make_q_network, domain),
      config=config,
      run_dir=run_dir,
      max_actor_steps=max_actor_steps,
      seed=seed,
      stop_program=stop_program)


def environment_factory(environment: str, task: str
                        ) -> r2d2_program.EnvironmentFactory:
  """A picklable `seed -> environment` for the program's nodes."""
  return functools.partial(environments.make_environment, environment, task)


def run(environment: str,
        task: str,
        config: r2d2_config.R2D2Config,
        run_dir: str,
        max_actor_steps: int,
        seed: int = 0,
        launch_type: str = 'local_mp',
        overwrite: bool = False,
        plot_title: Optional[str] = None,
        verbose: bool = False) -> Dict[str, float]:
  """Runs R2D2 to its step budget, then writes the plot and returns a summary."""
  environments.validate(environment, task)
  settings = dict(environment=environment, task=task, seed=seed,
                  max_actor_steps=max_actor_steps, agent='r2d2',
                  **dataclasses.asdict(config))

  def build_program(stop_program):
    return make_program_builder(environment, task, config, run_dir,
                                max_actor_steps, seed, stop_program).build()

  return runs.run_to_budget(
      build_program, settings, run_dir, max_actor_steps, launch_type,
      overwrite, plot_title or f'R2D2 on {environment} ({task})', verbose)
