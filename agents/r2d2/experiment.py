"""One call that runs distributed R2D2 in a run directory and reports on it.

The launch script parses flags and calls `run`; tests and benchmarks call it too.
"""

import dataclasses
import functools
from typing import Any, Dict, Optional, Tuple

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.distributed import layout as distributed_layout
from behavior_transfer.agents.r2d2 import builder as r2d2_builder
from behavior_transfer.agents.r2d2 import config as r2d2_config
from behavior_transfer.launching import runs


def default_config(environment: str, preset: str = 'standard',
                   **overrides) -> r2d2_config.R2D2Config:
  """The domain's `preset` (r2d2_config.PRESETS): by default the papers'
  hyperparameters with 8 actors on Atari, the small-domain preset on
  MiniGrid; 'paper' (Atari) has the papers' 256 actors, 'tiny' (Atari)
  is for tests and smoke runs."""
  domain, _ = environments.parse_environment_name(environment)
  return r2d2_config.preset_config(domain, preset, **overrides)


def split_overrides(config_class, overrides: Dict[str, Any]
                    ) -> Tuple[Dict[str, Any], Dict[str, Any]]:
  """(`overrides` that are fields of `config_class`, the rest), for configs
  that hold an R2D2 config in `r2d2`: one call sets fields of both."""
  own = {field.name for field in dataclasses.fields(config_class)}
  return ({k: v for k, v in overrides.items() if k in own},
          {k: v for k, v in overrides.items() if k not in own})


def make_program_builder(environment: str, task: str,
                         config: r2d2_config.R2D2Config, run_dir: str,
                         max_actor_steps: int, seed: int, stop_program=None
                         ) -> distributed_layout.DistributedLayout:
  """The distributed R2D2 program for an environment name and task; its
  `build()` makes the Launchpad program."""
  environments.validate(environment, task)
  domain, _ = environments.parse_environment_name(environment)
  return distributed_layout.DistributedLayout(
      r2d2_builder.R2D2Builder(
          config, network_factory(domain, config)),
      environment_factory(environment, task), run_dir, max_actor_steps, seed,
      stop_program)


def network_factory(domain: str, config: r2d2_config.R2D2Config):
  """`(environment_spec, num_outputs) -> Q-network` of the config's size."""
  return functools.partial(networks.make_q_network, domain,
                           size=config.network_size)


def environment_factory(environment: str, task: str
                        ) -> distributed_layout.EnvironmentFactory:
  """A picklable `seed -> environment` for the program's nodes."""
  return functools.partial(environments.make_environment, environment, task)


def run(environment: str,
        task: str,
        config: r2d2_config.R2D2Config,
        run_dir: str,
        max_actor_steps: int,
        seed: int = 0,
        launch_type: runs.Launch = 'local_mp',
        overwrite: bool = False,
        plot_title: Optional[str] = None,
        verbose: bool = False) -> Dict[str, float]:
  """Runs R2D2 to its step budget, then writes the plot and returns a summary."""
  settings = dict(environment=environment, task=task, seed=seed,
                  max_actor_steps=max_actor_steps, agent='r2d2',
                  **dataclasses.asdict(config))

  def make_layout(stop_program):
    return make_program_builder(environment, task, config, run_dir,
                                max_actor_steps, seed, stop_program)

  return runs.run_to_budget(
      make_layout, settings, run_dir, max_actor_steps, launch_type,
      overwrite, plot_title or f'R2D2 on {environment} ({task})', verbose)
