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
from behavior_transfer.utils import reports
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
      environment_factory=functools.partial(
          _make_environment, environment, task),
      network_factory=functools.partial(networks.make_q_network, domain),
      config=config,
      run_dir=run_dir,
      max_actor_steps=max_actor_steps,
      seed=seed,
      stop_program=stop_program)


def _make_environment(name: str, task: str, seed: int):
  return environments.make_environment(name, task, seed=seed)


def run(environment: str,
        task: str,
        config: r2d2_config.R2D2Config,
        run_dir: str,
        max_actor_steps: int,
        seed: int = 0,
        launch_type: str = 'local_mp',
        overwrite: bool = False,
        plot_title: Optional[str] = None) -> Dict[str, float]:
  """Runs R2D2 to its step budget, then writes the plot and returns a summary."""
  environments.validate(environment, task)
  settings = dict(environment=environment, task=task, seed=seed,
                  max_actor_steps=max_actor_steps, agent='r2d2',
                  **dataclasses.asdict(config))
  resumed = runs.prepare_run_dir(run_dir, settings, overwrite)
  done = reports.summarize(run_dir)['actor_steps'] if resumed else 0
  if done >= max_actor_steps:
    print(f'The run in {run_dir} already used its budget ({int(done)} of '
          f'{max_actor_steps} actor steps); raise --max_actor_steps to go on.',
          flush=True)
  else:
    if resumed:
      print(f'Resuming the run in {run_dir} from its checkpoints at {int(done)} '
            'actor steps.', flush=True)
    builder = make_program_builder(environment, task, config, run_dir,
                                   max_actor_steps, seed,
                                   runs.make_stop_program(launch_type))
    runs.launch_and_wait(builder.build(), launch_type, run_dir)
  reports.plot_learning_curves(
      run_dir, plot_title or f'R2D2 on {environment} ({task})')
  return reports.summarize(run_dir)
