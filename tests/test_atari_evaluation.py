"""Human-normalised scores and the paper's report from run directories."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from behavior_transfer import experiments
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.environments import atari
from behavior_transfer.studies import atari_scores
from behavior_transfer.studies import paper_report


def test_reference_scores_cover_the_57_games_and_normalise_to_0_and_1():
  assert len(atari_scores.ATARI_57) == 57
  assert set(atari_scores.ATARI_57) <= set(atari.game_names())
  for game, (random, human) in atari_scores.REFERENCE_SCORES.items():
    assert atari_scores.human_normalized_score(game, random) == 0.
    assert atari_scores.human_normalized_score(game, human) == pytest.approx(1.)
  assert atari_scores.human_normalized_score('pong', 14.6 + 35.3) == \
      pytest.approx(2.)


def test_the_papers_game_sets():
  assert atari_scores.HARD_EXPLORATION == (
      'gravitar', 'montezuma_revenge', 'pitfall', 'private_eye', 'solaris',
      'venture')
  assert len(atari_scores.ABLATION_12) == 12
  assert set(atari_scores.ABLATION_12) <= set(atari_scores.ATARI_57)
  assert {'ms_pacman', 'pong', 'montezuma_revenge'} <= set(
      atari_scores.ABLATION_12)


def test_unknown_game_lists_the_ones_with_reference_scores():
  with pytest.raises(ValueError, match='montezuma_revenge'):
    atari_scores.human_normalized_score('tetris', 10.)


def _write_run(root, name, environment, task, agent, seed, evaluator_returns,
               actor_returns=(0.,), **config):
  run_dir = os.path.join(root, name)
  config = dict(environment=environment, task=task, agent=agent, seed=seed,
                **config)
  if agent == 'bt':
    config.setdefault('exploration', 'bt')
  os.makedirs(run_dir)
  with open(os.path.join(run_dir, 'config.json'), 'w') as f:
    json.dump(config, f)
  for label, returns in (('evaluator', evaluator_returns),
                         ('actor_0', actor_returns)):
    if returns is None:
      continue
    os.makedirs(os.path.join(run_dir, 'logs', label))
    pd.DataFrame({'actor_steps': 100 * np.arange(1, len(returns) + 1),
                  'episode_return': returns}).to_csv(
                      os.path.join(run_dir, 'logs', label, 'logs.csv'),
                      index=False)
  return run_dir


@pytest.fixture(name='study')
def _study(tmp_path):
  """Two agents x two seeds on three games, a modified task, a pre-training
  run and a run whose evaluator never finished an episode."""
  root = str(tmp_path / 'runs')
  human = {g: atari_scores.REFERENCE_SCORES[g][1]
           for g in ('pong', 'montezuma_revenge', 'ms_pacman')}
  random = {g: atari_scores.REFERENCE_SCORES[g][0] for g in human}
  # HNS per (agent, seed, game): bt seed 0: pong 1, montezuma 0.5, pacman 0;
  # bt seed 1: pong 0.8, montezuma 0.1, pacman 0.2; r2d2 scores random.
  hns = {('bt', 0): dict(pong=1., montezuma_revenge=.5, ms_pacman=0.),
         ('bt', 1): dict(pong=.8, montezuma_revenge=.1, ms_pacman=.2),
         ('r2d2', 0): dict(pong=0., montezuma_revenge=0., ms_pacman=0.)}
  for (agent, seed), games in hns.items():
    for game, value in games.items():
      score = random[game] + value * (human[game] - random[game])
      # The score is the mean of the last 5 episodes; earlier ones differ.
      _write_run(root, f'{agent}_{game}_{seed}', f'atari:{game}', 'game',
                 agent, seed, [-1e6] * 3 + [score] * 5)
  _write_run(root, 'bt_ghosts_0', 'atari:ms_pacman', 'ghosts_hard', 'bt', 0,
             [100., 300., 200.])
  _write_run(root, 'bt_ghosts_1', 'atari:ms_pacman', 'ghosts_hard', 'bt', 1,
             None, actor_returns=[50.] * 60)
  _write_run(root, 'pretrain', 'atari:ms_pacman', 'none', 'ngu', 0, [7.])
  return root


def test_report_scores_runs_by_their_evaluator_and_medians_per_seed(
    study, tmp_path):
  json_path, plot_path = str(tmp_path / 'r.json'), str(tmp_path / 'r.png')
  text = paper_report.report([study], json_path, plot_path)
  with open(json_path) as f:
    tables = json.load(f)
  assert len(tables['runs']) == 11  # Not the reward-free pre-training run.
  games = {(r['environment'], r['task'], r['agent']): r
           for r in tables['games']}
  pong = games[('atari:pong', 'game', 'bt')]
  assert pong['seeds'] == [0, 1]
  assert pong['hns_mean'] == pytest.approx(0.9)
  assert pong['score_mean'] == pytest.approx(-20.7 + 0.9 * 35.3)
  assert pong['score_std'] == pytest.approx(0.1 * 35.3)
  assert pong['frames'] == 800 * 4  # The last logged step, 4 frames each.
  ghosts = games[('atari:ms_pacman', 'ghosts_hard', 'bt')]
  # Seed 0: the mean of its evaluator's episodes; seed 1 had none, so its
  # actors' last 50 (flagged).
  assert ghosts['score_mean'] == pytest.approx((200. + 50.) / 2)
  assert ghosts['actor_scores'] and np.isnan(ghosts['hns_mean'])
  medians = {(r['agent'], r['game_set']): r for r in tables['median_hns']}
  # bt: median over 3 games per seed: seed 0 -> 0.5, seed 1 -> 0.2.
  bt_all = medians[('bt', 'atari57')]
  assert (bt_all['median_hns_mean'], bt_all['median_hns_min'],
          bt_all['median_hns_max']) == pytest.approx((0.35, 0.2, 0.5))
  assert (bt_all['games_covered'], bt_all['seeds']) == (3, 2)
  # Hard exploration: montezuma alone of the three.
  bt_hard = medians[('bt', 'hard_exploration')]
  assert bt_hard['games_covered'] == 1
  assert bt_hard['median_hns_mean'] == pytest.approx(0.3)
  assert medians[('r2d2', 'ablation12')]['median_hns_mean'] == 0.
  assert '| bt | hard_exploration | 1/6 | 2 | 0.300 [0.100, 0.500] |' in text
  assert '(actors)' in text
  assert os.path.getsize(plot_path) > 10_000


def test_report_refuses_a_directory_without_runs(tmp_path):
  with pytest.raises(FileNotFoundError, match='No run directories'):
    paper_report.report([str(tmp_path)], str(tmp_path / 'r.json'),
                        str(tmp_path / 'r.png'))


def test_agent_labels_name_exploration_and_weight_transfer():
  assert paper_report.agent_label(dict(agent='bt', exploration='flights')) == \
      'flights'
  assert paper_report.agent_label(dict(
      agent='bt', exploration='epsilon_greedy', weight_init='partial')) == \
      'epsilon_greedy+partial_init'
  assert paper_report.agent_label(dict(agent='r2d2')) == 'r2d2'
  stored = experiments.override(
      experiments.from_preset('bt', 'atari:hero', 10, pretrained='random',
                              weight_init='full', weights_checkpoint='w'),
      config=dict(exploration=bt_config.Exploration.FLIGHTS)).to_json()
  assert paper_report.agent_label(stored) == 'flights+full_init'


def test_median_hns_curve_follows_the_runs_over_frames(study):
  runs = [r for r in paper_report.find_runs([study]) if r.agent == 'bt']
  frames = np.array([400. * 4, 800. * 4])  # After 4 and 8 evaluator episodes.
  mean, low, high = paper_report.median_hns_curve(
      runs, atari_scores.ATARI_57, frames)
  assert mean[-1] == pytest.approx(0.35) and (low[-1], high[-1]) == \
      pytest.approx((0.2, 0.5))
