"""End-of-run summaries and learning-curve plots from the per-node CSV logs."""

import glob
import os
import re
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import pandas as pd


def log_path(run_dir: str, label: str) -> str:
  return os.path.join(run_dir, 'logs', label, 'logs.csv')


def log_labels(run_dir: str) -> List[str]:
  """The labels of the nodes that wrote a CSV log in the run directory."""
  return [os.path.basename(os.path.dirname(path)) for path in
          sorted(glob.glob(log_path(run_dir, '*')))]


def read_logs(run_dir: str) -> Dict[str, pd.DataFrame]:
  """Every node's CSV log in the run directory, keyed by node label."""
  frames = {}
  for label in log_labels(run_dir):
    try:
      frames[label] = pd.read_csv(log_path(run_dir, label))
    except pd.errors.EmptyDataError:
      continue
  return frames


def actor_episodes(frames: Dict[str, pd.DataFrame]) -> pd.DataFrame:
  """All actors' episodes in order of the global actor step count."""
  actors = [f for label, f in frames.items() if label.startswith('actor_')]
  if not actors:
    return pd.DataFrame(columns=['actor_steps', 'episode_return'])
  return pd.concat(actors).sort_values('actor_steps').reset_index(drop=True)


def summarize(run_dir: str, recent: int = 50) -> Dict[str, float]:
  """Steps, episodes and recent mean returns of a finished run."""
  frames = read_logs(run_dir)
  episodes = actor_episodes(frames)
  summary = {
      'actor_steps': float(episodes['actor_steps'].max()) if len(episodes) else 0.,
      'actor_episodes': float(len(episodes)),
      'recent_actor_return': float(
          episodes['episode_return'].tail(recent).mean()) if len(episodes)
                             else float('nan'),
  }
  evaluator = frames.get('evaluator')
  if evaluator is not None and len(evaluator):
    summary['evaluator_episodes'] = float(len(evaluator))
    summary['recent_evaluator_return'] = float(
        evaluator['episode_return'].tail(max(recent // 5, 1)).mean())
  learner = frames.get('learner')
  if learner is not None and len(learner):
    summary['learner_steps'] = float(learner['learner_steps'].max())
  return summary


def format_summary(summary: Dict[str, float]) -> str:
  return '\n'.join(f'  {k:>26}: {v:,.3f}' if v != int(v) else
                   f'  {k:>26}: {int(v):,}' for k, v in summary.items()
                   if v == v)  # Skips NaN.


# BT's per-episode a+ usage columns (agents/bt/actor.py), and what each counts.
USAGE_MEASURES = {'greedy_extra_action_fraction': 'greedy choice of a+',
                  'flight_fraction': 'steps in flights',
                  'extra_action_fraction': 'steps executing a+'}


def extra_action_usage(
    episodes: pd.DataFrame) -> List[Tuple[str, Optional[int], str]]:
  """(measure, policy, column) of the a+ usage in the actors' episodes: per
  policy k (columns suffixed _k) when the actor had several pi_p, else the
  totals (policy None); empty for agents without a+."""
  usage = []
  for measure in USAGE_MEASURES:
    per_policy = sorted(
        (int(m.group(1)), column) for column in episodes.columns
        if (m := re.fullmatch(re.escape(measure) + r'_(\d+)', column)))
    if per_policy:
      usage += [(measure, k, column) for k, column in per_policy]
    elif measure in episodes.columns:
      usage.append((measure, None, measure))
  return usage


def plot_learning_curves(run_dir: str, title: Optional[str] = None,
                         window: int = 20) -> str:
  """Writes <run_dir>/learning_curve.png: returns vs actor steps, the loss,
  and for BT the a+ usage over actor steps (per pi_p when it has several)."""
  frames = read_logs(run_dir)
  episodes = actor_episodes(frames)
  usage = extra_action_usage(episodes)
  fig, axes = plt.subplots(1, 3 if usage else 2,
                           figsize=(16.5 if usage else 11, 4))
  ax_return, ax_loss = axes[:2]
  if len(episodes):
    ax_return.plot(episodes['actor_steps'],
                   episodes['episode_return'].rolling(window, 1).mean(),
                   label=f'actors (mean of {window} episodes)')
  evaluator = frames.get('evaluator')
  if evaluator is not None and 'actor_steps' in evaluator:
    ax_return.plot(evaluator['actor_steps'],
                   evaluator['episode_return'].rolling(5, 1).mean(),
                   label='evaluator (greedy, mean of 5)')
  ax_return.set_xlabel('actor steps')
  ax_return.set_ylabel('episode return')
  ax_return.legend()
  learner = frames.get('learner')
  if learner is not None and len(learner):
    ax_loss.plot(learner['learner_steps'], learner['loss'].rolling(50, 1).mean())
    ax_loss.set_yscale('log')
  ax_loss.set_xlabel('learner steps')
  ax_loss.set_ylabel('loss (mean of 50 updates)')
  if usage:
    _plot_usage(axes[2], episodes, usage, window)
  fig.suptitle(title or os.path.basename(os.path.normpath(run_dir)))
  fig.tight_layout()
  path = os.path.join(run_dir, 'learning_curve.png')
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def _plot_usage(ax, episodes: pd.DataFrame, usage, window: int) -> None:
  """a+ usage over actor steps: one colour per pi_p, one line style per
  measure (the paper's figure 4, per run)."""
  styles = dict(zip(USAGE_MEASURES, ('-', '--', ':')))
  for measure, policy, column in usage:
    ax.plot(episodes['actor_steps'],
            episodes[column].rolling(window, 1).mean(),
            linestyle=styles[measure],
            color=None if policy is None else f'C{policy}',
            label=USAGE_MEASURES[measure] + (
                '' if policy is None else f', pi_p {policy}'))
  ax.set_xlabel('actor steps')
  ax.set_ylabel(f'fraction of steps (mean of {window} episodes)')
  ax.set_title('a+ usage')
  ax.legend(fontsize=7)
