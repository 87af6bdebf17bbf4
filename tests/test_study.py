"""The transfer study: slices, run summaries, and statistics that agree with
rliable called directly."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from rliable import library as rly
from rliable import metrics

from behavior_transfer import environments
from behavior_transfer.policies import bundled
from behavior_transfer.studies import statistics
from behavior_transfer.studies import study
from behavior_transfer.studies import study_report
from behavior_transfer.studies import suite


@pytest.fixture(autouse=True)
def _few_resamples(monkeypatch):
  """The statistics at a tenth of their resamples: same code, faster."""
  monkeypatch.setattr(statistics, 'BOOTSTRAP_REPS', 200)
  monkeypatch.setattr(statistics, 'IMPROVEMENT_BOOTSTRAP_REPS', 20)
  monkeypatch.setattr(study_report, 'CURVE_BOOTSTRAP_REPS', 50)


def test_plan_runs_hard_tasks_first_at_each_arms_seeds():
  planned = study.plan()
  assert [r.family for r in planned][:1] == ['hard']
  families = [r.family for r in planned]
  assert families == sorted(families, key=suite.FAMILIES.index)
  bt = [r for r in planned if r.level == 'doorkey' and r.family == 'easy'
        and r.arm == 'bt']
  full = [r for r in planned if r.level == 'doorkey' and r.family == 'easy'
          and r.arm == 'epsilon_greedy+full_init']
  assert [r.seed for r in bt] == [0, 1, 2, 3, 4]
  assert [r.seed for r in full] == [0, 1, 2]
  ks = [r for r in planned if r.level == 'doorkey' and r.family == 'easy'
        and r.arm == 'epsilon_greedy+full_init+ks']
  assert [r.seed for r in ks] == [0, 1, 2]
  # The ablation runs on its level only.
  assert {r.level for r in planned if r.arm == 'flights'} == {
      suite.ABLATION_LEVEL}
  sliced = study.plan(['doorkey'], ['hard'], ['bt', 'ez_greedy'], [7])
  assert [r.key for r in sliced] == ['doorkey/hard/bt/seed_7',
                                     'doorkey/hard/ez_greedy/seed_7']


def test_the_once_charged_hard_twin_is_planned_only_by_name():
  assert not [r for r in study.plan() if r.family == suite.HARD_ONCE]
  planned = study.plan(families=[suite.HARD_ONCE])
  assert {r.level for r in planned} == {lvl.name for lvl in suite.SUITE}
  assert {r.arm for r in planned} == set(suite.ARMS)
  assert {r.seed for r in planned if r.arm == 'bt'} == set(range(5))
  assert {r.seed for r in planned
          if r.arm == 'epsilon_greedy+full_init'} == set(range(3))
  settings = study.settings_for(
      study.Run('doorkey', suite.HARD_ONCE, 'bt', 0))
  assert settings.task == 'success_penalised_once'
  assert settings.transfer_steps == suite.level('doorkey').transfer_steps


def test_the_door_s_hard_twin_is_planned_only_by_name_on_every_level():
  assert not [r for r in study.plan() if r.family == suite.DOOR_HARD]
  planned = study.plan(families=[suite.DOOR_HARD], seeds=[0])
  assert {r.level for r in planned} == {lvl.name for lvl in suite.SUITE}
  assert {r.arm for r in planned} == set(suite.ARMS + suite.RETENTION_ARMS)
  for lvl in suite.SUITE:
    settings = study.settings_for(study.Run(lvl.name, suite.DOOR_HARD, 'bt', 0))
    assert settings.task == 'through_door_penalised'
    environments.validate(lvl.environment, settings.task)


def test_plan_refuses_unknown_names_listing_valid_ones():
  with pytest.raises(ValueError, match='doorkey'):
    study.plan(['dorkey'])
  with pytest.raises(ValueError, match='Unknown transfer agent'):
    study.plan(arms=['bt+half_init'])
  with pytest.raises(ValueError, match='hard'):
    study.plan(families=['hardest'])


def _summary(level, family, arm, seed, success, curve=None):
  curve = curve or [None] * 3 + [success] * (study.GRID_POINTS - 3)
  return {'level': level, 'family': family, 'arm': arm, 'seed': seed,
          'task': family, 'success': success, 'return': success - 0.1,
          'final_greedy_extra_action_fraction':
              success / 4 if suite.is_bt(arm) else 0.,
          'actor_success': success / 2, 'wall_seconds': 60.,
          'actor_steps': 1000,
          'budget_points': list(range(100, 100 * study.GRID_POINTS + 1, 100)),
          'curves': {'evaluator_success': curve,
                     'greedy_extra_action_fraction': [0.1] * len(curve),
                     # Fine-tuning forgets pi_p's exploration, more slowly
                     # with retention.
                     'evaluator_distinct_cells': list(np.linspace(
                         9, 4 if arm == 'epsilon_greedy+full_init' else 7,
                         len(curve)))}}


def _write_summaries(results_dir, summaries):
  for s in summaries:
    run = study.Run(s['level'], s['family'], s['arm'], s['seed'])
    path = study.summary_path(results_dir, run)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
      json.dump(s, f)


def _hand_made(results_dir):
  """Summaries of two levels x two families, every arm at its seeds, scores
  drawn so that BT is better; and each level's random returns."""
  rng = np.random.RandomState(0)
  summaries = []
  for level in ('doorkey', 'unlockpickup'):
    for family in ('hard', 'easy'):
      for arm in suite.ARMS + suite.RETENTION_ARMS:
        for seed in range(suite.SEEDS[arm]):
          success = float(np.clip(rng.normal(
              0.6 if suite.is_bt(arm) else 0.3, 0.2), 0, 1))
          summaries.append(_summary(level, family, arm, seed, success))
  _write_summaries(results_dir, summaries)
  random = {level: {'hard': -0.3, 'easy': 0.05, 'game': 0.}
            for level in ('doorkey', 'unlockpickup')}
  for level, returns in random.items():
    os.makedirs(os.path.join(results_dir, 'random'), exist_ok=True)
    with open(os.path.join(results_dir, 'random', f'{level}.json'), 'w') as f:
      json.dump(returns, f)
  return summaries, random


def _direct(scores, seed=0):
  """rliable's IQM and 95% stratified bootstrap interval, called directly
  (its resamples come from numpy's global generator)."""
  np.random.seed(seed)
  point, interval = rly.get_interval_estimates(
      {'x': scores}, lambda x: np.array([metrics.aggregate_iqm(x)]),
      reps=statistics.BOOTSTRAP_REPS)
  return point['x'][0], interval['x'][0, 0], interval['x'][1, 0]


def test_statistics_agree_with_rliable_called_directly(tmp_path):
  summaries, random = _hand_made(str(tmp_path))
  results = study_report.analyse(summaries, random)
  by_cell = {(s['level'], s['family'], s['arm'], s['seed']): s['success']
             for s in summaries}

  def scores(arm, cells):
    return np.array([[by_cell[(*cell, arm, seed)] for cell in cells]
                     for seed in range(suite.SEEDS[arm])])

  cell = ('doorkey', 'hard')
  measured = results['cells']['doorkey/hard']['success']
  for arm in ('bt', 'epsilon_greedy+full_init'):
    np.testing.assert_allclose(measured['iqm'][arm],
                               _direct(scores(arm, [cell])))
  cells = [('doorkey', 'easy'), ('doorkey', 'hard'), ('unlockpickup', 'easy'),
           ('unlockpickup', 'hard')]
  aggregate = results['aggregate']['success']
  assert [tuple(c) for c in aggregate['cells']] == cells
  np.testing.assert_allclose(aggregate['iqm']['bt'],
                             _direct(scores('bt', cells)))
  np.random.seed(0)
  point, interval = rly.get_interval_estimates(
      {'pair': (scores('bt', cells), scores('ez_greedy', cells))},
      metrics.probability_of_improvement, reps=20)
  np.testing.assert_allclose(
      aggregate['probability_of_improvement']['ez_greedy'],
      np.hstack([point['pair'], np.ravel(interval['pair'])]).astype(float))
  assert aggregate['probability_of_improvement']['ez_greedy'][0] > 0.75
  best = aggregate['best_baseline']
  assert not suite.is_bt(best)
  assert aggregate['ratio'] == pytest.approx(
      aggregate['iqm']['bt'][0] / aggregate['iqm'][best][0])
  # The goal of issue 24 reads the paper's baselines alone.
  paper = aggregate['best_paper_baseline']
  assert paper in suite.BASELINE_ARMS
  assert aggregate['iqm'][paper][0] == max(
      aggregate['iqm'][arm][0] for arm in suite.BASELINE_ARMS)
  assert aggregate['paper_ratio'] == pytest.approx(
      aggregate['iqm']['bt'][0] / aggregate['iqm'][paper][0])
  bt_low, paper_high = aggregate['iqm']['bt'][1], aggregate['iqm'][paper][2]
  assert aggregate['paper_intervals_overlap'] == (bt_low <= paper_high)
  # Normalised return: the random policy's return is 0, the best run's 1.
  normalised = statistics.score_table(summaries, 'normalised_return', random)
  values = np.concatenate(list(normalised[cell].values()))
  assert values.max() == pytest.approx(1.)
  low = random['doorkey']['hard']
  high = max(s['return'] for s in summaries
             if (s['level'], s['family']) == cell)
  np.testing.assert_allclose(
      normalised[cell]['bt'], (np.array([
          s['return'] for s in summaries if (s['level'], s['family'], s['arm'])
          == (*cell, 'bt')]) - low) / (high - low))


def test_retention_table_agrees_with_rliable_called_directly(tmp_path):
  summaries, random = _hand_made(str(tmp_path))
  results = study_report.analyse(summaries, random)
  row = results['retention']['doorkey/hard']
  assert set(row['iqm']) == set(study_report.RETENTION_TABLE_ARMS)
  assert set(row['improvement']) == {
      f'{a} > {b}' for a, b in study_report.RETENTION_PAIRS}

  def scores(arm):
    return np.array([[s['success']] for s in summaries
                     if (s['level'], s['family'], s['arm']) ==
                     ('doorkey', 'hard', arm)])
  arm = 'epsilon_greedy+full_init+ewc'
  np.testing.assert_allclose(row['iqm'][arm], _direct(scores(arm)))
  np.random.seed(0)
  point, interval = rly.get_interval_estimates(
      {'pair': (scores('bt+partial_init+ks'), scores('bt+partial_init'))},
      metrics.probability_of_improvement, reps=20)
  np.testing.assert_allclose(
      row['improvement']['bt+partial_init+ks > bt+partial_init'],
      np.hstack([point['pair'], np.ravel(interval['pair'])]).astype(float))
  assert 'handover' not in results or not results['handover']


def test_ablation_table_sets_bt_against_each_of_its_parts():
  # Flights alone scores highest here: as an ablation of BT it must not
  # become the baseline BT is measured against.
  scores = {'bt': [0.5, 0.4, 0.6], 'flights': [0.9, 0.8, 1.0],
            'extra_action': [0.1, 0.2, 0.0], 'epsilon_greedy': [0.0, 0.1, 0.0]}
  summaries = [_summary('multiroom', 'hard', arm, seed, success)
               for arm, values in scores.items()
               for seed, success in enumerate(values)]
  summaries.append(_summary('doorkey', 'hard', 'bt', 0, 0.3))
  random = {level: {'hard': -0.3} for level in ('multiroom', 'doorkey')}
  results = study_report.analyse(summaries, random)
  assert set(results['ablation']) == {'multiroom/hard'}
  row = results['ablation']['multiroom/hard']
  np.testing.assert_allclose(row['iqm']['flights'],
                             _direct(np.array([[v] for v in scores['flights']])))
  np.random.seed(0)
  point, interval = rly.get_interval_estimates(
      {'pair': (np.array([[v] for v in scores['bt']]),
                np.array([[v] for v in scores['extra_action']]))},
      metrics.probability_of_improvement, reps=20)
  np.testing.assert_allclose(
      row['improvement']['bt > extra_action'],
      np.hstack([point['pair'], np.ravel(interval['pair'])]).astype(float))
  assert row['improvement']['bt > flights'][0] < 0.5
  cell = results['cells']['multiroom/hard']['success']
  assert cell['best_baseline'] == 'epsilon_greedy'
  assert set(cell['probability_of_improvement']) == {'epsilon_greedy'}
  assert 'Both parts of BT: the ablation' in study_report.markdown(
      results, [])


def test_steps_to_threshold_counts_unsolved_runs():
  solved = _summary('doorkey', 'easy', 'bt', 0, 0.8,
                    curve=[0., 0.2, 0.6] + [0.8] * (study.GRID_POINTS - 3))
  unsolved = _summary('doorkey', 'easy', 'bt', 1, 0.1,
                      curve=[0.1] * study.GRID_POINTS)
  assert statistics.steps_to_threshold(solved, 0.5) == 300
  assert statistics.steps_to_threshold(unsolved, 0.5) == float('inf')
  steps = study_report.steps_to_success([solved, unsolved])['doorkey/easy/bt']
  assert steps['reached'] == 1 and steps['runs'] == 2
  assert steps['median_steps'] == float('inf')  # Half never got there.


def test_report_writes_table_figures_and_done_slices(tmp_path):
  summaries, _ = _hand_made(str(tmp_path))
  text = study_report.write(str(tmp_path), 'the command')
  assert '| doorkey/hard |' in text and '**all levels x families**' in text
  assert 'Fine-tuning done right' in text
  # What is done, arm by arm, against the whole study's default plan.
  assert f'Runs done: {len(summaries)}, {len(summaries)} of them' in text
  assert '| doorkey / hard | `bt` | 0-4 | - |' in text
  assert '| doorkey / hard | `jsrl` | - | 0-4 |' in text  # Not hand-made.
  assert '| multiroom / game | `epsilon_greedy` | - | 0-4 |' in text
  written = json.load(open(tmp_path / 'results.json'))
  assert written['command'] == 'the command'
  # Every run seed by seed, with its arm's IQM: BT's row on doorkey/hard.
  bt = sorted((s for s in summaries if (s['level'], s['family'], s['arm'])
               == ('doorkey', 'hard', 'bt')), key=lambda s: s['seed'])
  row = ('| `bt` | ' + ' | '.join(
      f'{s["success"]:.2f} ({s["success"]:.2f}; {s["actor_success"]:.2f})'
      for s in bt) + ' | {:.2f} [{:.2f}, {:.2f}] |'.format(
          *written['cells']['doorkey/hard']['success']['iqm']['bt']))
  assert row in text.split('doorkey/hard, seed by seed')[1]
  # BT's final a+ share against its success, per seed; the hand-made share
  # is success / 4, so their ranks agree exactly.
  use = written['extra_action_use']['doorkey/hard']
  assert use['seeds'] == [s['seed'] for s in bt]
  assert use['success'] == [s['success'] for s in bt]
  assert use['extra_action'] == [s['success'] / 4 for s in bt]
  assert use['spearman'] == pytest.approx(1.)
  for name in ('curves_doorkey.png', 'curves_unlockpickup.png', 'weights.png',
               'profiles.png', 'forgetting_doorkey.png',
               'extra_action_use.png'):
    assert os.path.getsize(tmp_path / name) > 1000
  # What the forgetting figure shows, in numbers: the hand-made distinct
  # cells fall from 9 to 4 after plain fine-tuning, to 7 with retention.
  forgetting = written['forgetting']['doorkey']
  def late(end):
    return np.linspace(9, end, study.GRID_POINTS)[
        int(0.75 * study.GRID_POINTS):].mean()
  plain = forgetting['arms']['epsilon_greedy+full_init']
  kickstarted = forgetting['arms']['epsilon_greedy+full_init+ks']
  assert plain['distinct_cells']['first'] == pytest.approx(9.)
  assert plain['distinct_cells']['last_quarter'] == pytest.approx(late(4))
  assert kickstarted['distinct_cells']['last_quarter'] == pytest.approx(
      late(7))
  assert plain['runs'] == len([s for s in summaries if
                               (s['level'], s['arm']) == (
                                   'doorkey', 'epsilon_greedy+full_init')])
  assert 'rooms_reached' not in plain  # Not in the hand-made curves.
  pi_p = bundled.provenance('ngu_doorkey')['exploration']['pi_p']
  assert forgetting['zero_shot']['pi_p']['distinct_cells'] == pi_p[
      'distinct_cells']
  assert (f'| doorkey | `epsilon_greedy+full_init` | {plain["runs"]} | - | '
          f'9.0 -> {late(4):.1f} |') in text


def test_runs_of_a_pi_p_since_re_bundled_are_left_out_and_named(tmp_path):
  summaries, _ = _hand_made(str(tmp_path))
  made = bundled.provenance('ngu_doorkey')['created']
  for summary in summaries:  # BT's doorkey/hard runs used an older bundle.
    if (summary['level'], summary['family'], summary['arm']) == (
        'doorkey', 'hard', 'bt'):
      summary['pretrained_made'] = {'ngu_doorkey': 'older'}
    elif summary['arm'] != 'epsilon_greedy':
      summary['pretrained_made'] = {'ngu_doorkey': made}
  _write_summaries(str(tmp_path), summaries)
  stale = study.read_summaries(str(tmp_path), current=False)
  assert {(s['level'], s['family'], s['arm']) for s in stale} == {
      ('doorkey', 'hard', 'bt')}
  assert len(stale) + len(study.read_summaries(str(tmp_path))) == len(
      summaries) == len(study.read_summaries(str(tmp_path), current=None))
  text = study_report.write(str(tmp_path), 'the command')
  assert f'**{len(stale)} runs are left out**' in text
  assert (f'| doorkey / hard | `bt` | 0-4 | made with ngu_doorkey of older, '
          f'bundled now: {made} |') in text
  assert '| doorkey / hard | `bt` | - | 0-4 |' in text  # Not done.
  written = json.load(open(tmp_path / 'results.json'))
  assert len(written['stale_runs']) == len(stale)
  assert 'bt' not in written['cells']['doorkey/hard']['success']['iqm']


def test_a_combined_report_takes_each_cell_whole_from_the_last_dir_with_it(
    tmp_path):
  """The study with one cell re-run from another pi_p: that cell's runs
  all come from the check (none of the study's arms left in it), the
  others from the study; returns are normalised by the study's random
  returns; a dir without summaries is refused."""
  main, check, out = (str(tmp_path / name) for name in
                      ('study', 'check', 'combined'))
  summaries, _ = _hand_made(main)
  random = {level: {family: -0.1 for family in suite.level(level).tasks}
            for level in ('doorkey', 'unlockpickup')}
  for level, returns in random.items():
    with open(os.path.join(main, 'random', f'{level}.json'), 'w') as f:
      json.dump(returns, f)
  _write_summaries(check, [
      _summary('unlockpickup', 'easy', arm, seed, success)
      for arm, success in (('bt', 1.), ('epsilon_greedy', 0.))
      for seed in range(3)])
  os.makedirs(os.path.join(check, 'random'))
  with open(os.path.join(check, 'random', 'unlockpickup.json'), 'w') as f:
    json.dump({family: -9. for family in random['unlockpickup']}, f)
  study_report.write(out, 'the command', [main, check])
  written = json.load(open(os.path.join(out, 'results.json')))
  swapped = written['cells']['unlockpickup/easy']['success']['iqm']
  assert sorted(swapped) == ['bt', 'epsilon_greedy']
  assert swapped['bt'][0] == 1. and swapped['epsilon_greedy'][0] == 0.
  kept = written['cells']['doorkey/easy']['success']['iqm']
  assert len(kept) == len(suite.ARMS + suite.RETENTION_ARMS)
  assert written['runs'] == len(summaries) - sum(
      (s['level'], s['family']) == ('unlockpickup', 'easy')
      for s in summaries) + 6
  assert written['random_returns'] == random  # The first source's.
  assert not os.path.exists(os.path.join(out, 'runs'))  # Nothing copied.
  study.check_report_sources([main, check])
  with pytest.raises(ValueError, match='holds no run summary'):
    study.check_report_sources([main, out])


def test_no_arm_is_ahead_where_every_arm_scores_zero(tmp_path):
  """BT / best is '-' (not inf) when both are 0, inf when only the best's is."""
  _write_summaries(str(tmp_path), [
      _summary(level, 'hard', arm, seed, success)
      for level, arm, success in (
          ('doorkey', 'bt', 0.), ('doorkey', 'epsilon_greedy', 0.),
          ('unlockpickup', 'bt', 0.5), ('unlockpickup', 'epsilon_greedy', 0.))
      for seed in range(3)])
  text = study_report.write(str(tmp_path), 'the command')
  both_zero = next(line for line in text.splitlines()
                   if line.startswith('| doorkey/hard | 0.00'))
  assert 'inf' not in both_zero and '| - | yes |' in both_zero
  bt_ahead = next(line for line in text.splitlines()
                  if line.startswith('| unlockpickup/hard | 0.50'))
  assert '| inf | no |' in bt_ahead


def test_a_run_is_stamped_with_every_bundle_its_arm_uses():
  def stamps(arm):
    return study.pretrained_made(study.settings_for(
        study.Run('doorkey', 'hard', arm, 0)))
  made = {name: bundled.provenance(name)['created']
          for name in bundled.bundled_names()}
  assert stamps('epsilon_greedy') == stamps('ez_greedy') == {}
  for arm in ('bt', 'epsilon_greedy+full_init', 'epsilon_greedy+full_init+ks',
              'jsrl'):
    assert stamps(arm) == {'ngu_doorkey': made['ngu_doorkey']}, arm
  zoo = stamps('bt+zoo_pi+random_pi')
  assert len(zoo) == 2 and zoo['ngu_doorkey'] == made['ngu_doorkey']


def test_a_report_reuses_the_intervals_an_earlier_one_computed(
    tmp_path, monkeypatch):
  _hand_made(str(tmp_path))
  monkeypatch.setattr(statistics, '_cache', {})
  study_report.write(str(tmp_path), 'first')
  first = json.load(open(tmp_path / 'results.json'))
  assert len(json.load(open(tmp_path / statistics.CACHE_NAME))) > 10

  # A new process (an empty memory) with the same runs: every interval comes
  # from the file, none from rliable, and the report is the same. An entry no
  # estimate of this report reads (a cell the study no longer has) is dropped.
  def no_bootstrap(*args, **kwargs):
    raise AssertionError('recomputed an interval the cache holds')
  cache = tmp_path / statistics.CACHE_NAME
  kept = json.load(open(cache))
  cache.write_text(json.dumps({**kept, 'stale': [0., 0., 0.]}))
  monkeypatch.setattr(statistics, '_cache', {})
  monkeypatch.setattr(statistics.rly, 'get_interval_estimates', no_bootstrap)
  study_report.write(str(tmp_path), 'first')
  assert json.load(open(tmp_path / 'results.json')) == first
  assert json.load(open(cache)) == kept


def test_an_unreadable_statistics_cache_is_rebuilt(tmp_path, monkeypatch):
  scores = np.array([[0.1, 0.5], [0.3, 0.2], [0.9, 0.4]])
  monkeypatch.setattr(statistics, '_cache', {})
  expected = statistics.iqm_interval(scores)
  cache = tmp_path / statistics.CACHE_NAME
  cache.write_text('{"truncated')
  monkeypatch.setattr(statistics, '_cache', {})
  with statistics.persistent_cache(str(cache)):
    assert statistics.iqm_interval(scores) == expected
  assert list(json.load(open(cache)).values()) == [list(expected)]


def test_runs_done_name_seeds_done_and_missing_arm_by_arm():
  done = [study.Run('doorkey', 'hard', 'bt', seed) for seed in (0, 1, 3)] + [
      study.Run('doorkey', 'door_hard', 'epsilon_greedy', 1),
      study.Run('doorkey', 'hard', 'epsilon_greedy', 7)]  # Beyond the plan.
  text = '\n'.join(study_report.runs_done_lines(
      {'compute': {'wall_hours': 1.5, 'actor_steps': 10}}, done))
  assert (f'Runs done: 5, 3 of them of the default plan\'s '
          f'{len(study.plan())}') in text
  assert '| doorkey / hard | `bt` | 0, 1, 3 | 2, 4 |' in text
  assert '| doorkey / hard | `epsilon_greedy` | 7 | 0-4 |' in text
  # A slice run only when named appears once it has a run.
  assert '| doorkey / door_hard | `epsilon_greedy` | 1 | 0, 2, 3, 4 |' in text
  assert '| doorkey / door_hard | `bt` | - | 0-4 |' in text
  assert 'multiroom / far' not in text
  assert '| unlockpickup / hard | `bt` | - | 0-4 |' in text


def test_summarise_run_reads_curves_and_the_last_quarter(tmp_path):
  run_dir = tmp_path / 'run'
  for label, frame in {
      'evaluator': pd.DataFrame({
          'actor_steps': [100, 500, 800, 900, 1000],
          'episode_return': [0., 1., 0., 1., 1.],
          'return_success_penalised': [-0.2, 0.6, -0.4, 0.6, 0.8],
          'return_success': [0., 1., 0., 1., 1.],
          'greedy_extra_action_fraction': [0.5, 0.4, 0.3, 0.2, 0.1],
          'distinct_cells': [9., 8., 6., 5., 4.]}),
      'actor_0': pd.DataFrame({
          'actor_steps': [200, 400, 600, 800],
          'episode_return': [0., 0., 1., 1.],
          'return_success_penalised': [-0.2, 0., 0.6, -0.6],
          'return_success': [0., 0., 1., 1.]})}.items():
    os.makedirs(run_dir / 'logs' / label)
    frame.to_csv(run_dir / 'logs' / label / 'logs.csv', index=False)
  summary = study.summarise_run(str(run_dir), 'success_penalised', 1000)
  # The last quarter (after 750 steps): 3 evaluator episodes, 2 solved.
  assert summary['late_evaluator_success'] == pytest.approx(2 / 3)
  assert summary['late_evaluator_episodes'] == 3
  assert summary['late_evaluator_return'] == pytest.approx(
      (-0.4 + 0.6 + 0.8) / 3)
  assert 'success' not in summary  # The final policy's (final_scores).
  # Solved is the easy twin's event, even when penalties outweigh it.
  assert summary['actor_success'] == 0.5
  curve = summary['curves']['evaluator_success']
  assert len(curve) == study.GRID_POINTS and curve[1] == 0. and curve[0] is None
  assert summary['curves']['greedy_extra_action_fraction'][-1] == 0.1
  # What the greedy policy still explores, for the forgetting figure.
  cells = summary['curves']['evaluator_distinct_cells']
  assert cells[1] == 9. and cells[-1] == 4.
  assert 'evaluator_rooms_reached' not in summary['curves']


def test_smoke_study_runs_a_slice_and_resumes_it(tmp_path):
  """One level, two arms, a tiny budget: the study runs both, writes their
  summaries and the results, and a second call runs nothing."""
  flags = ['--levels=multiroom', '--tasks=hard', '--arms=bt,epsilon_greedy',
           '--seeds=0', '--budget=1500', '--num_actors=1',
           '--final_episodes=3',
           f'--out_dir={tmp_path / "runs"}',
           f'--results_dir={tmp_path / "results"}']

  def run_study(*more):
    return subprocess.run(
        [sys.executable, '-m', 'behavior_transfer.launch.run_study', *flags,
         *more],
        capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)

  first = run_study()
  assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
  assert '2 runs in this slice, 0 already done, 2 to run' in first.stdout
  summaries = study.read_summaries(str(tmp_path / 'results'))
  assert sorted(s['arm'] for s in summaries) == ['bt', 'epsilon_greedy']
  for summary in summaries:
    assert summary['task'] == 'reach_third_room_penalised'
    assert summary['budget'] == 1500 and summary['actor_steps'] >= 1500
    assert summary['evaluator_episodes'] >= 1
    # Scored by the final policy; the code that made the run is named.
    assert summary['final_episodes'] == 3
    assert 0 <= summary['success'] <= 1
    assert len(summary['commit'].split('-')[0]) == 40
    assert summary['pretrained'] == 'ngu_multiroom'  # The level's own.
  # The runs-done table names this slice's seeds arm by arm.
  assert 'Runs done: 2, 2 of them of the default plan' in first.stdout
  for arm in ('bt', 'epsilon_greedy'):
    assert f'| multiroom / hard | `{arm}` | 0 | 1-' in first.stdout
  assert (tmp_path / 'results' / 'curves_multiroom.png').exists()
  # Each run names the bundle it used, by when that was made; none for
  # epsilon-greedy, which uses no pi_p.
  made = bundled.provenance('ngu_multiroom')['created']
  stamps = {s['arm']: s['pretrained_made'] for s in summaries}
  assert stamps == {'bt': {'ngu_multiroom': made}, 'epsilon_greedy': {}}
  second = run_study()
  assert second.returncode == 0, second.stderr[-3000:]
  assert '2 already done, 0 to run' in second.stdout
  # As if pi_p had been re-bundled since BT ran: BT alone runs again, afresh.
  bt_path = study.summary_path(str(tmp_path / 'results'),
                               study.Run('multiroom', 'hard', 'bt', 0))
  old = json.load(open(bt_path))
  with open(bt_path, 'w') as f:
    json.dump({**old, 'pretrained_made': {'ngu_multiroom': 'before'}}, f)
  third = run_study()
  assert third.returncode == 0, third.stdout[-3000:] + third.stderr[-3000:]
  assert '1 already done, 1 to run (1 of them again' in third.stdout
  assert (f'multiroom/hard/bt/seed_0 runs again: made with ngu_multiroom of '
          f'before, bundled now: {made}') in third.stdout
  assert (tmp_path / 'runs' / 'multiroom' / 'hard' / 'bt' /
          'seed_0.stale').is_dir()
  assert json.load(open(bt_path + '.stale'))['pretrained_made'] == {
      'ngu_multiroom': 'before'}  # Kept, out of the statistics' way.
  assert json.load(open(bt_path))['pretrained_made'] == {
      'ngu_multiroom': made}
  # Another pi_p's runs are not taken for these: refused, naming the file;
  # epsilon-greedy's, which used no pi_p, serve any pi_p's study.
  other = run_study('--pretrained=ngu_doorkey')
  assert other.returncode != 0
  assert "made with pi_p 'ngu_multiroom', not 'ngu_doorkey'" in (
      other.stdout + other.stderr)
  shared = run_study('--pretrained=ngu_doorkey', '--arms=epsilon_greedy')
  assert shared.returncode == 0, shared.stderr[-3000:]
  assert '1 already done, 0 to run' in shared.stdout
  # The finished runs, combined into a report elsewhere; only a report.
  report_from = f'--report_from={tmp_path / "results"}'
  combined = run_study('--report_only', report_from,
                       f'--results_dir={tmp_path / "combined"}')
  assert combined.returncode == 0, combined.stderr[-3000:]
  assert json.load(open(tmp_path / 'combined' / 'results.json'))['runs'] == 2
  assert run_study(report_from).returncode == 2


def test_git_keeps_the_summaries_it_is_told_to_commit():
  """Summaries under the default results dir are committed, run directories
  under runs/ are not: a `runs/` pattern without its leading slash once
  ignored docs/transfer_suite/runs/ too, and 56 runs' summaries were lost."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  if subprocess.run(['git', '-C', root, 'rev-parse'],
                    capture_output=True).returncode:
    pytest.skip('not a git checkout')

  def ignored(path):
    return subprocess.run(['git', '-C', root, 'check-ignore', '-q',
                           '--no-index', path]).returncode == 0

  run = study.Run('multiroom', 'hard', 'bt', 0)
  assert not ignored(study.summary_path('docs/transfer_suite', run))
  assert ignored('runs/study/multiroom/hard/bt/seed_0/checkpoints')


def test_extra_action_use_ranks_a_plus_share_against_success():
  def bt(level, seed, share, success):
    return {'level': level, 'family': 'hard', 'arm': 'bt', 'seed': seed,
            'success': success, 'final_greedy_extra_action_fraction': share}
  use = study_report.extra_action_use(
      [bt('doorkey', 2, 0.3, 0.1), bt('doorkey', 0, 0.1, 0.5),
       bt('doorkey', 1, 0.2, 0.4), bt('multiroom', 0, 0.1, 0.2),
       bt('multiroom', 1, 0.2, 0.3),
       dict(bt('doorkey', 3, 0.9, 0.9), arm='epsilon_greedy')])
  assert use['doorkey/hard']['seeds'] == [0, 1, 2]  # BT runs only.
  assert use['doorkey/hard']['spearman'] == pytest.approx(-1.)
  assert use['multiroom/hard']['spearman'] is None  # Two runs.
