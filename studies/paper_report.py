"""The paper's tables and figure from run directories.

Every run directory under the given roots (found by its config.json) is one
(game, task, agent, seed). Its score is the greedy evaluator's mean return
over its last episodes, as the paper evaluates; a run whose evaluator never
finished an episode falls back to its actors' episodes, and the tables say
so. From these:

- per game and task: each agent's mean and standard deviation over seeds
  (the paper's tables) and, for the game's own reward, the human-normalised
  score (HNS);
- per agent: the median HNS over games for the whole suite, the six
  hard-exploration games and the 12-game ablation subset, taken per seed and
  reported as mean [min, max] over seeds (the paper's figures 3 and 6, its
  ablation medians), with how many of the set's games the runs cover;
- one figure: median HNS against frames per set (mean over seeds, min/max
  band), and the return against frames for every other task (the modified
  games of figure 5).
"""

import dataclasses
import json
import math
import os
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
import pandas as pd

from behavior_transfer.launching import reports
from behavior_transfer.studies import atari_scores

ATARI_FRAMES_PER_STEP = 4  # Action repeat of the Atari environment.
EVALUATOR_EPISODES = 5  # A run's score: its evaluator's last episodes.
ACTOR_EPISODES = 50  # Or, without evaluator episodes, its actors' last ones.


@dataclasses.dataclass
class Run:
  """One run directory's identity, score and learning curve."""
  run_dir: str
  environment: str
  task: str
  agent: str
  seed: int
  frames_per_step: int
  score: float
  score_source: str  # 'evaluator' or 'actors'.
  curve: pd.DataFrame  # actor_steps, episode_return.
  actor_steps: float  # The last count any node logged: the run's length.

  @property
  def game(self) -> Optional[str]:
    domain, _, level = self.environment.partition(':')
    return level if domain == 'atari' else None

  @property
  def hns(self) -> float:
    """The score's HNS, for a game's own reward with reference scores."""
    if self.task != 'game' or not atari_scores.has_reference(self.game or ''):
      return math.nan
    return atari_scores.human_normalized_score(self.game, self.score)

  @property
  def frames(self) -> float:
    """Environment frames the run's actors took."""
    return self.actor_steps * self.frames_per_step


def agent_label(config: Dict) -> str:
  """'bt', 'flights', 'epsilon_greedy+partial_init', 'r2d2', 'ngu', ..."""
  if config.get('agent') == 'bt':
    # The agent config is under 'config' (the first layout kept it at the
    # top).
    label = config.get('config', config)['exploration']
    if config.get('weight_init', 'none') != 'none':
      label += f'+{config["weight_init"]}_init'
    return label
  return config.get('agent', 'unknown')


def read_run(run_dir: str) -> Run:
  """The run in `run_dir` (which holds a config.json)."""
  with open(os.path.join(run_dir, 'config.json')) as f:
    config = json.load(f)
  logs = reports.read_logs(run_dir)
  evaluator = logs.get('evaluator')
  actors = reports.actor_episodes(logs)
  if evaluator is not None and len(evaluator):
    curve, source, last = evaluator, 'evaluator', EVALUATOR_EPISODES
  else:
    curve, source, last = actors, 'actors', ACTOR_EPISODES
  actor_steps = max([float(frame['actor_steps'].max())
                     for frame in (actors, evaluator)
                     if frame is not None and len(frame)] + [0.])
  curve = curve[['actor_steps', 'episode_return']].reset_index(drop=True)
  score = float(curve['episode_return'].tail(last).mean()) if len(
      curve) else math.nan
  environment = config['environment']
  return Run(run_dir=run_dir, environment=environment,
             task=config.get('task', 'none'), agent=agent_label(config),
             seed=int(config.get('seed', 0)),
             frames_per_step=(ATARI_FRAMES_PER_STEP
                              if environment.startswith('atari:') else 1),
             score=score, score_source=source, curve=curve,
             actor_steps=actor_steps)


def find_runs(roots: Sequence[str], include_pretraining: bool = False
              ) -> List[Run]:
  """Every run directory under `roots`; reward-free pre-training runs (NGU)
  only if asked, since they optimise no task."""
  found = []
  for root in roots:
    if not os.path.isdir(root):
      raise FileNotFoundError(f'No run directory at {root}.')
    for directory, subdirectories, files in os.walk(root):
      if 'config.json' in files:
        found.append(read_run(directory))
        subdirectories.clear()  # A run's own folders hold no runs.
    if not found:
      raise FileNotFoundError(f'No run directories (with a config.json) '
                              f'under {root}.')
  return [run for run in sorted(found, key=lambda r: r.run_dir)
          if include_pretraining or run.agent != 'ngu']


def _format(value: float, digits: int = 2) -> str:
  return 'n/a' if math.isnan(value) else f'{value:,.{digits}f}'


def game_rows(runs: Sequence[Run]) -> List[Dict]:
  """Per (environment, task, agent): seeds, mean and std of the score, mean
  HNS, frames, and whether any score came from actors, not the evaluator."""
  rows = []
  keys = sorted({(r.environment, r.task, r.agent) for r in runs})
  for environment, task, agent in keys:
    group = [r for r in runs
             if (r.environment, r.task, r.agent) == (environment, task, agent)]
    scores = np.array([r.score for r in group])
    rows.append(dict(
        environment=environment, task=task, agent=agent,
        seeds=sorted(r.seed for r in group),
        score_mean=float(np.nanmean(scores)) if len(scores) else math.nan,
        score_std=float(np.nanstd(scores)) if len(scores) else math.nan,
        hns_mean=float(np.nanmean([r.hns for r in group]))
        if any(not math.isnan(r.hns) for r in group) else math.nan,
        frames=float(np.mean([r.frames for r in group])),
        actor_scores=any(r.score_source == 'actors' for r in group)))
  return rows


def median_hns_rows(runs: Sequence[Run]) -> List[Dict]:
  """Per agent and game set: the median HNS over the set's games each seed
  covers, as mean, min and max over seeds."""
  rows = []
  for agent in sorted({r.agent for r in runs}):
    scored = [r for r in runs if r.agent == agent and not math.isnan(r.hns)]
    for set_name, games in atari_scores.GAME_SETS.items():
      per_seed, covered = {}, set()
      for seed in sorted({r.seed for r in scored}):
        hns = {r.game: r.hns for r in scored
               if r.seed == seed and r.game in games}
        if hns:
          per_seed[seed] = float(np.median(list(hns.values())))
          covered |= set(hns)
      if not per_seed:
        continue
      medians = list(per_seed.values())
      rows.append(dict(agent=agent, game_set=set_name,
                       games_covered=len(covered), games_in_set=len(games),
                       seeds=len(medians),
                       median_hns_mean=float(np.mean(medians)),
                       median_hns_min=float(np.min(medians)),
                       median_hns_max=float(np.max(medians))))
  return rows


def format_game_table(rows: Sequence[Dict]) -> str:
  lines = ['| environment | task | agent | seeds | score mean | score std | '
           'HNS | frames |', '|---|---|---|---|---:|---:|---:|---:|']
  for row in rows:
    flag = ' (actors)' if row['actor_scores'] else ''
    lines.append(
        f'| {row["environment"]} | {row["task"]} | {row["agent"]} | '
        f'{",".join(map(str, row["seeds"]))} | '
        f'{_format(row["score_mean"])}{flag} | {_format(row["score_std"])} | '
        f'{_format(row["hns_mean"], 3)} | {row["frames"]:,.0f} |')
  return '\n'.join(lines)


def format_median_table(rows: Sequence[Dict]) -> str:
  if not rows:
    return ('No human-normalised scores: no run has the game\'s own reward '
            'on a game with reference scores.')
  lines = ['| agent | game set | games covered | seeds | median HNS: mean '
           '[min, max] over seeds |', '|---|---|---:|---:|---|']
  for row in rows:
    lines.append(
        f'| {row["agent"]} | {row["game_set"]} | {row["games_covered"]}/'
        f'{row["games_in_set"]} | {row["seeds"]} | '
        f'{_format(row["median_hns_mean"], 3)} '
        f'[{_format(row["median_hns_min"], 3)}, '
        f'{_format(row["median_hns_max"], 3)}] |')
  return '\n'.join(lines)


def _curve_on(run: Run, frames: np.ndarray, window: int = 3) -> np.ndarray:
  """The run's return (mean of `window` episodes) at `frames`; NaN past
  the run's last episode or before its first."""
  if not len(run.curve):
    return np.full(len(frames), np.nan)
  x = run.curve['actor_steps'].to_numpy(float) * run.frames_per_step
  y = run.curve['episode_return'].rolling(window, 1).mean().to_numpy(float)
  return np.interp(frames, x, y, left=np.nan, right=np.nan)


def _band(values: List[np.ndarray]) -> Tuple[np.ndarray, ...]:
  stacked = np.array(values)
  with warnings.catch_warnings():  # Frames no run reached stay NaN.
    warnings.simplefilter('ignore', RuntimeWarning)
    return (np.nanmean(stacked, 0), np.nanmin(stacked, 0),
            np.nanmax(stacked, 0))


def median_hns_curve(runs: Sequence[Run], games: Sequence[str],
                     frames: np.ndarray) -> Optional[Tuple[np.ndarray, ...]]:
  """(mean, min, max) over seeds of the median HNS over `games` at
  `frames`, for one agent's runs; a seed counts where all its games have
  an episode."""
  per_seed = []
  for seed in sorted({r.seed for r in runs}):
    members = [r for r in runs if r.seed == seed and r.game in games
               and r.task == 'game' and atari_scores.has_reference(r.game)]
    if not members:
      continue
    hns = np.array([atari_scores.human_normalized_score(
        r.game, _curve_on(r, frames)) for r in members])
    per_seed.append(np.median(hns, 0))  # NaN wherever a game has none.
  return _band(per_seed) if per_seed else None


def plot(runs: Sequence[Run], path: str, points: int = 100) -> str:
  """Median HNS per game set and the return on every other task, against
  frames, one line per agent (mean over seeds, min/max band)."""
  frames = np.linspace(0, max([r.frames for r in runs] + [1.]), points)
  agents = sorted({r.agent for r in runs})
  panels = []
  for set_name, games in atari_scores.GAME_SETS.items():
    curves = {a: median_hns_curve([r for r in runs if r.agent == a], games,
                                  frames) for a in agents}
    curves = {a: c for a, c in curves.items() if c is not None}
    if curves:
      panels.append((f'median HNS, {set_name}', curves))
  for environment, task in sorted({(r.environment, r.task) for r in runs
                                   if math.isnan(r.hns)}):
    curves = {}
    for agent in agents:
      members = [r for r in runs if (r.environment, r.task, r.agent) ==
                 (environment, task, agent)]
      if members:
        curves[agent] = _band([_curve_on(r, frames) for r in members])
    panels.append((f'{environment} ({task}) return', curves))
  columns = min(3, len(panels)) or 1
  rows = math.ceil(len(panels) / columns) or 1
  fig, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.8 * rows),
                           squeeze=False)
  for ax, (title, curves) in zip(axes.flat, panels):
    for agent, (mean, low, high) in curves.items():
      line, = ax.plot(frames, mean, label=agent)
      ax.fill_between(frames, low, high, alpha=0.2, color=line.get_color())
    ax.set_title(title, fontsize=9)
    ax.set_xlabel('frames')
    ax.legend(fontsize=7)
  for ax in list(axes.flat)[len(panels):]:
    ax.axis('off')
  fig.tight_layout()
  fig.savefig(path, dpi=90)
  plt.close(fig)
  return path


def report(roots: Sequence[str], json_path: str, plot_path: str) -> str:
  """Writes the tables to `json_path`, the figure to `plot_path`; returns
  the printed report."""
  runs = find_runs(roots)
  if not runs:
    raise FileNotFoundError(f'Only reward-free pre-training runs under '
                            f'{", ".join(roots)}: nothing to score.')
  games, medians = game_rows(runs), median_hns_rows(runs)
  for path in (json_path, plot_path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(json_path, 'w') as f:
    json.dump({'runs': [dict(run_dir=r.run_dir, environment=r.environment,
                             task=r.task, agent=r.agent, seed=r.seed,
                             frames=r.frames, score=r.score,
                             score_source=r.score_source,
                             hns=None if math.isnan(r.hns) else r.hns)
                        for r in runs],
               'games': games, 'median_hns': medians}, f, indent=2)
  plot(runs, plot_path)
  return '\n'.join([
      f'{len(runs)} runs under {", ".join(roots)}. Score: the greedy '
      f'evaluator\'s mean return over its last {EVALUATOR_EPISODES} episodes '
      f'("(actors)": no evaluator episode, the actors\' last '
      f'{ACTOR_EPISODES}).', '', format_game_table(games), '',
      format_median_table(medians), '', f'tables: {json_path}',
      f'figure: {plot_path}'])
