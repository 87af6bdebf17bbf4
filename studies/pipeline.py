"""The end-to-end job: pre-train pi_p without reward, then transfer it.

1. NGU pre-training on the dynamics, reward-free; pi_p is exported. Skipped
   when a bundled pi_p is named (`bundled`): its SavedModel and weights ship
   with the package (policies/bundled.py).
2. pi_p's zero-shot return under every task and its exploration, next to a
   uniformly random policy's.
3. Transfer to one task with each exploration mode (by default BT and plain
   epsilon-greedy R2D2), optionally with weight transfer.
4. A comparison table and one learning-curve PNG.

Every stage is a run directory under `out_dir` (pretrain/, transfer/<name>/), so
an interrupted pipeline resumes where it stopped.
"""

import dataclasses
import os
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import pandas as pd

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.agents.retention import config as retention_config
from behavior_transfer.launching import reports
from behavior_transfer.launching import runs
from behavior_transfer.networks import weight_transfer
from behavior_transfer.policies import bundled as bundled_policies
from behavior_transfer.policies import evaluation


# Hand-overs beyond the paper an arm may add (agents/bt/handover.py):
#   guided       episode-start guidance by the first pi_p, JSRL's curriculum;
#   value_ended  flights end once Q prefers a primitive action to a+_k by
#                VALUE_END_MARGIN;
#   zoo_pi       a second pi_p: the first other policy of the zoo;
#   random_pi    one more pi_p that acts uniformly at random;
#   no_flights   no randomly started flights.
HANDOVERS = ('guided', 'value_ended', 'zoo_pi', 'random_pi', 'no_flights')
# In rescaled Q (R2D2's h): a 0.05 lead of a primitive action, on tasks whose
# returns are at most 1. Chosen, not tuned.
VALUE_END_MARGIN = 0.05
# Jump-Start RL alone: a guide for the first h steps, then epsilon-greedy.
JSRL = ('flights', ('guided', 'no_flights'))


@dataclasses.dataclass
class TransferArm:
  """One downstream agent: an exploration mode, a weight initialisation,
  knowledge retention methods ('ks', 'bc', 'ewc') and hand-overs
  (HANDOVERS)."""
  exploration: str
  weight_init: str = 'none'
  retention: Tuple[str, ...] = ()
  handover: Tuple[str, ...] = ()

  @property
  def name(self) -> str:
    if (self.exploration, self.handover) == JSRL and not (
        self.retention or self.weight_init != 'none'):
      return 'jsrl'
    parts = [self.exploration]
    if self.weight_init != 'none':
      parts.append(f'{self.weight_init}_init')
    return '+'.join(parts + list(self.retention) + list(self.handover))

  @property
  def uses_pretrained(self) -> bool:
    """Whether pi_p's behaviour or weights reach the agent: every arm but
    plain epsilon-greedy and epsilon-z-greedy R2D2."""
    return not (self.exploration in ('epsilon_greedy', 'ez_greedy') and
                self.weight_init == 'none' and not self.retention and
                not self.handover)

  def extra_policies(self, policy_source: str) -> List[str]:
    """The pi_p sources the arm adds to `policy_source`."""
    extra = []
    if 'zoo_pi' in self.handover:
      extra.append('bundled:' + next(
          name for name in bundled_policies.bundled_names()
          if f'bundled:{name}' != policy_source))
    if 'random_pi' in self.handover:
      extra.append('random')
    return extra

  def config_fields(self) -> Dict[str, object]:
    """The BTConfig fields the arm sets."""
    fields = dict(
        exploration=bt_config.Exploration(self.exploration),
        retention=retention_config.RetentionConfig(methods=self.retention),
        handover=bt_config.HandoverConfig(
            guidance='curriculum' if 'guided' in self.handover else 'none',
            flight_end_margin=(VALUE_END_MARGIN if 'value_ended' in
                               self.handover else None)))
    if 'no_flights' in self.handover:
      fields['levy_epsilon_base'] = 0.
    return fields


@dataclasses.dataclass
class PipelineSettings:
  # Six rooms joined by closed doors (minigrid registers "N4-S5-v0" with six
  # rooms), 120-step episodes: room to explore for the pre-training.
  environment: str = 'minigrid:MiniGrid-MultiRoom-N4-S5-v0'
  task: str = 'game'
  arms: Sequence[TransferArm] = (TransferArm('bt'),
                                 TransferArm('epsilon_greedy'))
  # A bundled policy's name: transfer it instead of pre-training.
  bundled: Optional[str] = None
  pretrain_steps: int = 1_000_000
  transfer_steps: int = 150_000
  intrinsic_reward: str = 'ngu'
  # Discount of pre-training's n-step return (None: the preset's). A shorter
  # horizon kept greedy pi_p from collapsing onto one action on key levels.
  pretrain_discount: Optional[float] = None
  # Priority of new sequences in pre-training's replay (None: the preset's).
  # Above the learnt priorities, rare events are replayed before they leave.
  pretrain_initial_priority: Optional[float] = None
  # Preset of every stage; on Atari 'tiny' runs the whole pipeline in
  # minutes, 'paper' is the papers' scale.
  preset: str = 'standard'
  num_actors: Optional[int] = None  # None: the preset's.
  seed: int = 0
  report_episodes: int = 20
  # Cap of each zero-shot report episode, in steps (None: the game's own);
  # an untrained pi_p may stand still for a whole 108,000-frame episode.
  report_max_steps: Optional[int] = None
  launch_type: runs.Launch = 'local_mp'  # Or a vertex.VertexLaunch.
  verbose: bool = False


def validate(settings: PipelineSettings) -> None:
  """Checks names before hours of pre-training, not after."""
  environments.validate(settings.environment, settings.task)
  ngu_config.IntrinsicReward(settings.intrinsic_reward)
  pretrain_spec(settings)  # R2D2Config refuses a bad discount or priority.
  if settings.bundled is not None:
    bundled_policies.policy_path(settings.bundled)
    for name in ('pretrain_discount', 'pretrain_initial_priority'):
      if getattr(settings, name) is not None:
        raise ValueError(f'A bundled pi_p ({settings.bundled!r}) skips '
                         f'pre-training; --{name} has nothing to set.')


def pretrained_dirs(settings: PipelineSettings, out_dir: str
                    ) -> Tuple[str, str]:
  """(pi_p's exported SavedModel, its weights checkpoint directory)."""
  if settings.bundled is not None:
    return (bundled_policies.policy_path(settings.bundled),
            bundled_policies.weights_path(settings.bundled))
  pretrain_dir = os.path.join(out_dir, 'pretrain')
  return (experiments.policy_dir(pretrain_dir),
          experiments.weights_dir(pretrain_dir))


def pretrained_sources(settings: PipelineSettings, out_dir: str
                       ) -> Tuple[str, str]:
  """pi_p's source and its weights' for the transfer runs: 'bundled:<name>'
  for both when a bundle is named (so run settings do not depend on where
  the package lives), else 'exported:<dir>' and the checkpoint directory."""
  if settings.bundled is not None:
    bundled_policies.policy_path(settings.bundled)
    source = f'bundled:{settings.bundled}'
    return source, source
  policy_dir, weights = pretrained_dirs(settings, out_dir)
  return f'exported:{policy_dir}', weights


def _spec(settings: PipelineSettings, agent: str, max_actor_steps: int,
          config: Dict[str, object], task: Optional[str] = None,
          **transfer) -> experiments.ExperimentSpec:
  """One stage's run: the agent under the pipeline's preset and seed."""
  spec = experiments.from_preset(agent, settings.environment, max_actor_steps,
                                 settings.preset, task, settings.seed,
                                 **transfer)
  return experiments.override(spec, config=config,
                              program=dict(num_actors=settings.num_actors))


def pretrain_spec(settings: PipelineSettings) -> experiments.ExperimentSpec:
  """Stage 1's run: reward-free NGU (or the chosen intrinsic reward)."""
  spec = _spec(settings, 'ngu', settings.pretrain_steps, dict(
      intrinsic_reward=ngu_config.IntrinsicReward(settings.intrinsic_reward)))
  return experiments.override(
      spec, r2d2=dict(discount=settings.pretrain_discount,
                      initial_priority=settings.pretrain_initial_priority))


def pretrain(settings: PipelineSettings, out_dir: str) -> str:
  """Stage 1; returns the pre-training run directory."""
  run_dir = os.path.join(out_dir, 'pretrain')
  experiments.run(pretrain_spec(settings), run_dir, settings.launch_type,
                  verbose=settings.verbose)
  return run_dir


def transfer_spec(settings: PipelineSettings, pretrained: Tuple[str, str],
                  task: str, arm: TransferArm) -> experiments.ExperimentSpec:
  """One transfer run: `arm` on `task` from `pretrained_sources`."""
  policy_source, weights = pretrained
  return _spec(settings, 'bt', settings.transfer_steps, arm.config_fields(),
               task, pretrained=','.join(
                   [policy_source] + arm.extra_policies(policy_source)),
               weight_init=arm.weight_init, weights_checkpoint=weights)


def transfer(settings: PipelineSettings, pretrained: Tuple[str, str],
             out_dir: str, task: str) -> Dict[str, str]:
  """Stage 3 from `pretrained_sources`; returns {arm name: run directory}."""
  run_dirs = {}
  for number, arm in enumerate(settings.arms, 1):
    run_dir = os.path.join(out_dir, 'transfer', task, arm.name)
    print(f'\nTransfer {number}/{len(settings.arms)}: {arm.name} on '
          f'{settings.environment} ({task}), seed {settings.seed}, '
          f'{settings.transfer_steps:,} actor steps -> {run_dir}', flush=True)
    experiments.run(transfer_spec(settings, pretrained, task, arm), run_dir,
                    settings.launch_type, verbose=settings.verbose)
    run_dirs[arm.name] = run_dir
  return run_dirs


def evaluator_return(run_dir: str, last: int = 5) -> float:
  """The greedy evaluator's mean return over its last `last` episodes."""
  evaluator = reports.read_logs(run_dir).get('evaluator')
  if evaluator is None or not len(evaluator):
    return float('nan')
  return float(evaluator['episode_return'].tail(last).mean())


def solved(episodes: pd.DataFrame, task: str) -> pd.Series:
  """Which logged episodes solved `task`: its return is positive; for a
  task that also pays or costs other things, the event it is about
  happened: the level's goal for deceptive_first_room's lure, the easy
  twin's event for a hard '<easy>_penalised' or '<easy>_penalised_once'
  task (a run that reaches the goal after many penalised pick-ups still
  solved it)."""
  column = f'return_{task}'
  if task == 'deceptive_first_room':
    column = 'return_game'
  elif PENALISED_MARK in task:
    column = f'return_{task.split(PENALISED_MARK)[0]}'
  if column not in episodes:  # Environments without task measures.
    column = 'episode_return'
  return episodes[column] > 0


PENALISED_MARK = '_penalised'


def comparison_table(run_dirs: Dict[str, str], task: str) -> str:
  lines = ['| agent | evaluator return (last 5) | actor return (last 50) | '
           'actor episodes solved |', '|---|---:|---:|---:|']
  for name, run_dir in run_dirs.items():
    episodes = reports.actor_episodes(reports.read_logs(run_dir))
    lines.append(
        f'| {name} | {evaluator_return(run_dir):.3f} | '
        f'{episodes["episode_return"].tail(50).mean():.3f} | '
        f'{solved(episodes, task).mean():.3f} |')
  return '\n'.join(lines)


def plot_transfer(run_dirs: Dict[str, str], title: str, path: str,
                  window: int = 50) -> str:
  """Actor and evaluator returns against actor steps, one line per agent."""
  fig, (ax_actor, ax_evaluator) = plt.subplots(1, 2, figsize=(12, 4.5))
  for name, run_dir in run_dirs.items():
    logs = reports.read_logs(run_dir)
    episodes = reports.actor_episodes(logs)
    ax_actor.plot(episodes['actor_steps'],
                  episodes['episode_return'].rolling(window, 1).mean(),
                  label=name)
    evaluator = logs.get('evaluator')
    if evaluator is not None and len(evaluator):
      ax_evaluator.plot(evaluator['actor_steps'],
                        evaluator['episode_return'].rolling(3, 1).mean(),
                        label=name)
  ax_actor.set_ylabel(f'actor episode return (mean of {window})')
  ax_evaluator.set_ylabel('greedy evaluator return (mean of 3)')
  for ax in (ax_actor, ax_evaluator):
    ax.set_xlabel('actor steps')
    ax.legend()
  fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def describe_pretraining(settings: PipelineSettings) -> str:
  if settings.bundled is not None:
    made = bundled_policies.provenance(settings.bundled)
    return (f'bundled pi_p {settings.bundled!r} ({made["intrinsic_reward"]}, '
            f'{made["actor_steps"]:,} reward-free actor steps on '
            f'{made["environment"]})')
  changed = ''.join(
      f', {label} {value:g}' for label, value in (
          ('discount', settings.pretrain_discount),
          ('initial priority', settings.pretrain_initial_priority))
      if value is not None)
  return (f'{settings.intrinsic_reward} pre-training ({settings.pretrain_steps:,}'
          f' reward-free actor steps{changed})')


def run(settings: PipelineSettings, out_dir: str) -> str:
  """Runs every stage; returns the printed report."""
  if settings.bundled is None:
    print(f'Pre-training: {describe_pretraining(settings)} on '
          f'{settings.environment} -> {os.path.join(out_dir, "pretrain")}',
          flush=True)
    pretrain(settings, out_dir)
  pretrained = pretrained_dirs(settings, out_dir)
  comparison = evaluation.compare_with_random(
      pretrained[0], settings.environment, settings.report_episodes,
      settings.seed, settings.report_max_steps)
  run_dirs = transfer(settings, pretrained_sources(settings, out_dir),
                      out_dir, settings.task)
  plot = plot_transfer(
      run_dirs, f'Transfer to {settings.environment} ({settings.task}), seed '
      f'{settings.seed}\nfrom {describe_pretraining(settings)}',
      os.path.join(out_dir, 'transfer.png'))
  sections: List[str] = [
      f'pi_p: {describe_pretraining(settings)}; {settings.report_episodes} '
      f'episodes on {settings.environment}:',
      evaluation.format_comparison(comparison),
      f'\nTransfer to task {settings.task!r} ({settings.transfer_steps} actor '
      'steps per agent):',
      comparison_table(run_dirs, settings.task),
      f'\nlearning curves: {plot}']
  return '\n'.join(sections)


def parse_arms(names: Sequence[str]) -> List[TransferArm]:
  """'bt', 'epsilon_greedy+partial_init', 'bt+partial_init+ks',
  'bt+guided', 'bt+zoo_pi+random_pi', 'jsrl', ... -> arms: an exploration
  mode, then at most one weight initialisation and any retention methods and
  hand-overs, each once ('jsrl' is 'flights+guided+no_flights'); refuses
  anything else before anything runs."""
  explorations = [e.value for e in bt_config.Exploration]
  inits = [f'{w.value}_init' for w in weight_transfer.WeightInit
           if w != weight_transfer.WeightInit.NONE]
  methods = [m.value for m in retention_config.Method]
  arms = []
  for name in names:
    if name == 'jsrl':
      arms.append(TransferArm(JSRL[0], handover=JSRL[1]))
      continue
    exploration, *parts = name.split('+')
    chosen_inits = [p for p in parts if p in inits]
    # In canonical order.
    retention = tuple(m for m in methods if m in parts)
    handover = tuple(h for h in HANDOVERS if h in parts)
    if (exploration not in explorations or len(chosen_inits) > 1 or
        len(chosen_inits) + len(retention) + len(handover) != len(parts)):
      raise ValueError(
          f'Unknown transfer agent {name!r}: use an exploration mode '
          f'({", ".join(explorations)}), then optionally one of '
          f'{", ".join("+" + i for i in inits)}, any of '
          f'{", ".join("+" + m for m in methods)} (knowledge retention: '
          'kickstarting, behavioural cloning, EWC) and any of '
          f'{", ".join("+" + h for h in HANDOVERS)} (hand-overs), each once; '
          'or jsrl.')
    arms.append(TransferArm(
        exploration, chosen_inits[0].replace('_init', '') if chosen_inits
        else 'none', retention, handover))
  return arms

