"""One call that pre-trains pi_p without reward and reports on it."""

import dataclasses
import functools
import os
from typing import Dict, Optional

from behavior_transfer import environments
from behavior_transfer.distributed import layout as distributed_layout
from behavior_transfer.agents.ngu import builder as ngu_builder
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.r2d2 import experiment as r2d2_experiment
from behavior_transfer.launching import runs


# Small domains: pre-training is about gathering novel experience, so it
# trains on each actor step 4 times (transfer learning: 16), letting the
# batched actors run ~4x faster (benchmarks/program_throughput.py).
SMALL_DOMAIN_REPLAY_RATIO = 4.0
# The tiny preset's intrinsic models: small embedding, RND output and memory.
TINY_NGU_OVERRIDES = dict(embedding_size=8, rnd_output_size=16,
                          episodic_memory_capacity=2000)


def default_config(environment: str, intrinsic_reward: str = 'ngu',
                   preset: str = 'standard',
                   **overrides) -> ngu_config.NGUConfig:
  """The pre-training config for `environment`: R2D2's `preset` for its
  domain (small domains at SMALL_DOMAIN_REPLAY_RATIO) under NGU's constants
  (smaller intrinsic models in the tiny preset). `overrides` set NGUConfig
  fields (e.g. intrinsic_batch_fraction) and R2D2 fields (e.g. n_step) by
  name."""
  if preset == 'tiny':
    overrides = {**TINY_NGU_OVERRIDES, **overrides}
  own, r2d2_overrides = r2d2_experiment.split_overrides(ngu_config.NGUConfig,
                                                        overrides)
  domain, _ = environments.parse_environment_name(environment)
  if domain != 'atari':
    r2d2_overrides.setdefault('replay_ratio', SMALL_DOMAIN_REPLAY_RATIO)
  return ngu_config.NGUConfig(
      r2d2=r2d2_experiment.default_config(environment, preset,
                                          **r2d2_overrides),
      intrinsic_reward=ngu_config.IntrinsicReward(intrinsic_reward), **own)


def make_program_builder(environment: str, config: ngu_config.NGUConfig,
                         run_dir: str, max_actor_steps: int, seed: int,
                         stop_program=None
                         ) -> distributed_layout.DistributedLayout:
  """The pre-training program on the dynamics `environment`; its own reward
  is never optimised, only reported per task."""
  environments.validate(environment, 'none')
  domain, _ = environments.parse_environment_name(environment)
  return distributed_layout.DistributedLayout(
      ngu_builder.NGUBuilder(
          config, r2d2_experiment.network_factory(domain, config.r2d2),
          domain),
      functools.partial(environments.make_environment, environment, 'game',
                        oar_wrapper=False),
      run_dir, max_actor_steps, seed, stop_program)


def run(environment: str, config: ngu_config.NGUConfig, run_dir: str,
        max_actor_steps: int, seed: int = 0,
        launch_type: runs.Launch = 'local_mp',
        overwrite: bool = False,
        plot_title: Optional[str] = None,
        verbose: bool = False) -> Dict[str, float]:
  """Pre-trains to the budget; pi_p ends up in <run_dir>/policy (and the
  weights in <run_dir>/checkpoints/learner)."""
  settings = dict(environment=environment, seed=seed, agent='ngu',
                  max_actor_steps=max_actor_steps, **dataclasses.asdict(config))
  settings['intrinsic_reward'] = config.intrinsic_reward.value

  def make_layout(stop_program):
    return make_program_builder(environment, config, run_dir, max_actor_steps,
                                seed, stop_program)

  return runs.run_to_budget(
      make_layout, settings, run_dir, max_actor_steps, launch_type,
      overwrite, plot_title or
      f'{config.intrinsic_reward.value} pre-training on {environment} '
      '(intrinsic reward)', verbose)


def policy_dir(run_dir: str) -> str:
  return os.path.join(run_dir, ngu_builder.POLICY_DIR)


def weights_dir(run_dir: str) -> str:
  return os.path.join(run_dir, 'checkpoints', 'learner')
