"""One way to run every agent: an `ExperimentSpec` becomes a builder, a
program layout and, launched into a run directory, a run that reports.

Launch scripts, studies, benchmarks and tests all call `run` (or
`make_layout` to inspect a program without running it).
"""

import functools
import os
from typing import Any, Callable, Dict, Optional

from behavior_transfer import environments
from behavior_transfer import networks
from behavior_transfer.agents import builders
from behavior_transfer.agents.bt import builder as bt_builder
from behavior_transfer.agents.ngu import builder as ngu_builder
from behavior_transfer.agents.r2d2 import builder as r2d2_builder
from behavior_transfer.distributed import checkpointing
from behavior_transfer.distributed import layout as distributed_layout
from behavior_transfer.experiments import spec as spec_lib
from behavior_transfer.launching import runs
from behavior_transfer.policies import sources


def network_factory(spec: spec_lib.ExperimentSpec) -> Callable[..., Any]:
  """`(environment_spec, num_outputs=None) -> Q-network` of the spec's
  domain and network size."""
  return functools.partial(networks.make_q_network, spec.environment.domain,
                           size=spec.r2d2.network_size)


def make_builder(spec: spec_lib.ExperimentSpec) -> builders.AgentBuilder:
  """The agent's builder; refuses unknown pi_p sources and weights names."""
  if spec.agent == 'r2d2':
    return r2d2_builder.R2D2Builder(spec.config, network_factory(spec))
  if spec.agent == 'ngu':
    return ngu_builder.NGUBuilder(spec.config, network_factory(spec),
                                  spec.environment.domain)
  pretrained_factory = None
  retention = spec.config.retention.methods
  if spec.config.exploration.uses_pretrained_policy or retention:
    if not spec.pretrained:
      needs = (f'Exploration {spec.config.exploration.value!r}'
               if spec.config.exploration.uses_pretrained_policy else
               'Retention by ' + ', '.join(m.value for m in retention))
      raise ValueError(f'{needs} needs a pre-trained policy (--pretrained).')
    pretrained_factory = sources.policy_factories(
        spec.pretrained, str(spec.environment), spec.seed)
  if spec.weights_checkpoint:
    sources.weights_checkpoint(spec.weights_checkpoint)  # Unknown names.
  return bt_builder.BTBuilder(spec.config, network_factory(spec),
                              pretrained_factory, spec.weight_init,
                              spec.weights_checkpoint)


def environment_factory(spec: spec_lib.ExperimentSpec
                        ) -> distributed_layout.EnvironmentFactory:
  """A picklable `seed -> environment` for the program's nodes. NGU sees the
  raw dynamics (its builder adds the reward and the OAR view); the level's
  own reward stays underneath, reported per task, never optimised."""
  environments.validate(spec.environment, spec.task)
  if spec.agent == 'ngu':
    return functools.partial(environments.make_environment, spec.environment,
                             'game', oar_wrapper=False)
  return functools.partial(environments.make_environment, spec.environment,
                           spec.task)


def make_layout(spec: spec_lib.ExperimentSpec, run_dir: str,
                stop_program: Optional[Callable[[], Any]] = None
                ) -> distributed_layout.DistributedLayout:
  """The spec's program layout (`build()` makes the Launchpad program); names,
  pi_p and weights are checked here, before any node runs."""
  return distributed_layout.DistributedLayout(
      make_builder(spec), spec.program, environment_factory(spec), run_dir,
      spec.max_actor_steps, spec.seed, stop_program)


def default_title(spec: spec_lib.ExperimentSpec) -> str:
  if spec.agent == 'r2d2':
    return f'R2D2 on {spec.environment} ({spec.task})'
  if spec.agent == 'ngu':
    return (f'{spec.config.intrinsic_reward.value} pre-training on '
            f'{spec.environment} (intrinsic reward)')
  return (f'{spec.config.exploration.value} on {spec.environment} '
          f'({spec.task}), pi_p: {spec.pretrained}')


def run(spec: spec_lib.ExperimentSpec, run_dir: str,
        launch_type: runs.Launch = 'local_mp', overwrite: bool = False,
        plot_title: Optional[str] = None,
        verbose: bool = False) -> Dict[str, float]:
  """Runs the spec's program in `run_dir` to its budget (resuming a run the
  directory holds), then writes the plot and returns the summary. Raises as
  `runs.run_to_budget` does."""
  return runs.run_to_budget(
      functools.partial(make_layout, spec, run_dir), spec.to_json(), run_dir,
      spec.max_actor_steps, launch_type, overwrite,
      plot_title or default_title(spec), verbose,
      may_change=spec.settings_that_may_change(),
      read_settings=read_settings)


def read_settings(values: Dict[str, Any]) -> Dict[str, Any]:
  """A stored config.json in the current layout (older layouts included)."""
  return spec_lib.ExperimentSpec.from_json(values).to_json()


def policy_dir(run_dir: str) -> str:
  """Where a pre-training run exports pi_p (`exported:<dir>`)."""
  return os.path.join(run_dir, ngu_builder.POLICY_DIR)


def weights_dir(run_dir: str) -> str:
  """A run's learner checkpoints, for weight transfer."""
  return checkpointing.checkpoint_dir(run_dir, checkpointing.LEARNER)
