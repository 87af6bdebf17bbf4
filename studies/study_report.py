"""The study's figures and results: tables of IQM [95% CI] and probability of
improvement, learning curves with interval bands (the paper's figures 3 and
5), a+ usage (figure 4), weights with and without BT (figure 6), performance
profiles, BT against fine-tuning with knowledge retention and what
fine-tuning forgets of pi_p's exploration, and what of the study is done."""

import json
import math
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
from scipy import stats as scipy_stats

from behavior_transfer.policies import bundled
from behavior_transfer.studies import statistics
from behavior_transfer.studies import study
from behavior_transfer.studies import suite

SUCCESS_THRESHOLD = 0.5  # For steps to threshold.
# What the tables compare: the final policy's greedy success at the budget
# (with probabilities of improvement), the actors' success over the whole run
# (exploration included) and the final policy's normalised return.
SCORES = ('success', 'actor_success', 'normalised_return')
# Bands of learning curves: one interval per budget point and arm.
CURVE_BOOTSTRAP_REPS = 500
WEIGHT_ARMS = ('epsilon_greedy', 'epsilon_greedy+partial_init',
               'epsilon_greedy+full_init', 'bt', 'bt+partial_init')
# Fine-tuning with and without retention, next to BT (issue 25's table).
FINE_TUNING_ARMS = ('epsilon_greedy+full_init',) + tuple(
    arm for arm in suite.RETENTION_ARMS if not suite.is_bt(arm))
RETENTION_TABLE_ARMS = FINE_TUNING_ARMS + (
    'bt', 'bt+partial_init', 'bt+partial_init+ks')
# What the forgetting figure follows: the greedy policy's exploration.
FORGETTING_MEASURES = ('rooms_reached', 'distinct_cells')


def _interval(values) -> str:
  point, low, high = values
  return f'{point:.2f} [{low:.2f}, {high:.2f}]'


def _ratio(a: Sequence[float], b: Sequence[float]) -> float:
  """IQM a over IQM b (inf when only b's is 0; NaN when both are: no arm
  is ahead)."""
  if b[0] > 0:
    return a[0] / b[0]
  return math.inf if a[0] > 0 else math.nan


def _ratio_text(ratio: float) -> str:
  return '-' if math.isnan(ratio) else f'{ratio:.2f}'


def _overlap(a: Sequence[float], b: Sequence[float]) -> bool:
  """Whether two (IQM, low, high) intervals overlap."""
  return not (a[1] > b[2] or b[1] > a[2])


def compare(table: Dict[statistics.Cell, Dict[str, np.ndarray]],
            cells: Sequence[statistics.Cell],
            with_improvement: bool = True) -> Dict[str, Any]:
  """IQM per arm over `cells`, the best non-BT arm, BT against it, and
  (`with_improvement`) BT's probability of improvement over each
  baseline."""
  arms = [arm for arm in
          suite.ARMS + suite.ABLATION_ARMS + suite.RETENTION_ARMS +
          suite.HANDOVER_ARMS
          if all(arm in table[cell] for cell in cells)]
  iqm = statistics.iqm_intervals(
      {arm: statistics.matrix(table, arm, cells) for arm in arms})
  baselines = [arm for arm in arms if not suite.is_bt(arm) and
               arm not in suite.ABLATION_ARMS]
  result: Dict[str, Any] = {'cells': [list(c) for c in cells], 'iqm': iqm}
  if 'bt' in arms and baselines:
    best = max(baselines, key=lambda arm: iqm[arm][0])
    bt_matrix = statistics.matrix(table, 'bt', cells)
    paper = [arm for arm in baselines if arm in suite.BASELINE_ARMS]
    if paper:  # The paper's baselines alone: issue 24's goal reads these.
      best_paper = max(paper, key=lambda arm: iqm[arm][0])
      result.update(
          best_paper_baseline=best_paper,
          paper_ratio=_ratio(iqm['bt'], iqm[best_paper]),
          paper_intervals_overlap=_overlap(iqm['bt'], iqm[best_paper]))
    result.update(
        best_baseline=best,
        ratio=_ratio(iqm['bt'], iqm[best]),
        intervals_overlap=_overlap(iqm['bt'], iqm[best]),
        probability_of_improvement={
            arm: statistics.probability_of_improvement(
                bt_matrix, statistics.matrix(table, arm, cells))
            for arm in baselines} if with_improvement else {})
  return result


def arm_table(table: Dict[statistics.Cell, Dict[str, np.ndarray]],
              cell: statistics.Cell, arms: Sequence[str],
              pairs: Sequence[Tuple[str, str]]) -> Dict[str, Any]:
  """IQM [95% CI] of each of `arms` that ran in `cell`, and P(a > b) for
  each (a, b) of `pairs` where both ran."""
  ran = [arm for arm in arms if arm in table[cell]]
  return {
      'iqm': statistics.iqm_intervals(
          {arm: statistics.matrix(table, arm, [cell]) for arm in ran}),
      'improvement': {
          f'{a} > {b}': statistics.probability_of_improvement(
              statistics.matrix(table, a, [cell]),
              statistics.matrix(table, b, [cell]))
          for a, b in pairs if a in ran and b in ran}}


# Does BT beat fine-tuning done right, and does retention add to BT?
RETENTION_PAIRS = tuple(('bt', arm) for arm in FINE_TUNING_ARMS) + (
    ('bt+partial_init+ks', 'bt+partial_init'),)
# What each hand-over adds to BT, and BT against JSRL alone.
HANDOVER_TABLE_ARMS = ('bt',) + suite.HANDOVER_ARMS
HANDOVER_PAIRS = tuple((arm, 'bt') for arm in suite.HANDOVER_ARMS
                       if suite.is_bt(arm)) + (('bt', 'jsrl'),)
# Do both of BT's parts matter (the paper's ablation)?
ABLATION_TABLE_ARMS = ('bt',) + suite.ABLATION_ARMS
ABLATION_PAIRS = tuple(('bt', arm) for arm in suite.ABLATION_ARMS)
# The extra tables of the results page: (key, title, arms, pairs, the arms
# whose runs put a cell in the table).
ARM_TABLES = (
    ('ablation', 'Both parts of BT: the ablation', ABLATION_TABLE_ARMS,
     ABLATION_PAIRS, suite.ABLATION_ARMS),
    ('retention', 'Fine-tuning done right', RETENTION_TABLE_ARMS,
     RETENTION_PAIRS, suite.RETENTION_ARMS),
    ('handover', 'Hand-overs beyond the paper', HANDOVER_TABLE_ARMS,
     HANDOVER_PAIRS, suite.HANDOVER_ARMS),
)


def steps_to_success(summaries: Sequence[Dict[str, Any]]
                     ) -> Dict[str, Dict[str, Any]]:
  """Per 'level/family/arm': runs that reached SUCCESS_THRESHOLD greedy
  success and the median steps to it, unsolved runs counted as never."""
  grouped: Dict[str, List[float]] = {}
  for summary in summaries:
    key = f'{summary["level"]}/{summary["family"]}/{summary["arm"]}'
    grouped.setdefault(key, []).append(
        statistics.steps_to_threshold(summary, SUCCESS_THRESHOLD))
  return {key: {'reached': int(np.isfinite(steps).sum()), 'runs': len(steps),
                'median_steps': float(np.median(steps))}
          for key, steps in grouped.items()}


def analyse(summaries: Sequence[Dict[str, Any]],
            random_returns: Dict[str, Dict[str, float]]) -> Dict[str, Any]:
  """Every figure of the results page."""
  results: Dict[str, Any] = {'runs': len(summaries), 'cells': {},
                             'aggregate': {}}
  for score in SCORES:
    table = statistics.score_table(summaries, score, random_returns)
    for cell in sorted(table):
      results['cells'].setdefault(f'{cell[0]}/{cell[1]}', {})[score] = compare(
          table, [cell], score == 'success')
    common = statistics.cells_with(table, suite.ARMS)
    if common:
      results['aggregate'][score] = compare(table, common, score == 'success')
    if score == 'success':
      for key, _, arms, pairs, distinctive in ARM_TABLES:
        results[key] = {
            f'{cell[0]}/{cell[1]}': arm_table(table, cell, arms, pairs)
            for cell in sorted(table)
            if any(arm in table[cell] for arm in distinctive)}
  results['late_evaluator_scores'] = sum('final_episodes' not in s
                                         for s in summaries)
  results['steps_to_success'] = steps_to_success(summaries)
  results['forgetting'] = forgetting(summaries)
  results['compute'] = {
      'wall_hours': round(sum(s['wall_seconds'] for s in summaries) / 3600, 2),
      'actor_steps': int(sum(s['actor_steps'] for s in summaries))}
  return results


def _rows(results: Dict[str, Any], score: str):
  """(name, comparison) per cell with BT and a baseline, then the
  aggregate."""
  rows = [(name, scores[score]) for name, scores in results['cells'].items()]
  if score in results['aggregate']:
    rows.append(('**all levels x families**', results['aggregate'][score]))
  return [(name, row) for name, row in rows if 'best_baseline' in row]


def seed_table(summaries: Sequence[Dict[str, Any]],
               results: Dict[str, Any]) -> List[str]:
  """Per level and family, every arm's runs seed by seed: the final
  policy's success, then (in brackets) the in-program evaluator's over the
  last quarter and the actors' over the run; and the arm's IQM."""
  by_cell: Dict[str, Dict[str, Dict[int, Dict[str, Any]]]] = {}
  for s in summaries:
    by_cell.setdefault(f'{s["level"]}/{s["family"]}', {}).setdefault(
        s['arm'], {})[s['seed']] = s
  lines = []
  for cell, arms in sorted(by_cell.items()):
    seeds = sorted({seed for runs in arms.values() for seed in runs})
    iqm = results['cells'].get(cell, {}).get('success', {}).get('iqm', {})
    lines += ['', f'{cell}, seed by seed: the final policy\'s success (the '
              'evaluator\'s last quarter; the actors\' success):', '',
              '| arm | ' + ' | '.join(f'seed {seed}' for seed in seeds) +
              ' | IQM [95% CI] |', '|---|' + '---:|' * (len(seeds) + 1)]
    for arm in sorted(arms, key=lambda a: (not suite.is_bt(a), a)):
      cells = []
      for seed in seeds:
        run = arms[arm].get(seed)
        cells.append('-' if run is None else (
            f'{run["success"]:.2f} ('
            f'{run.get("late_evaluator_success", run["success"]):.2f}; '
            f'{run["actor_success"]:.2f})'))
      lines.append(f'| `{arm}` | ' + ' | '.join(cells) + ' | ' +
                   (_interval(iqm[arm]) if arm in iqm else '-') + ' |')
  return lines


def markdown(results: Dict[str, Any], done: Sequence[study.Run]) -> str:
  """The results tables, the compute and the slices done."""
  lines = ['Greedy success at the budget (each run\'s final policy over '
           f'{study.FINAL_EPISODES} episodes): BT against the best of the '
           'paper\'s baselines, then against the best non-BT arm of all '
           '(fine-tuning with retention and the hand-over peer included):', '',
           '| level / family | BT | best paper baseline | its IQM | BT / it '
           '| intervals overlap | best non-BT arm | its IQM | BT / best | '
           'P(BT > best) | P(BT > each baseline) |',
           '|---|---:|---|---:|---:|---|---|---:|---:|---:|---|']
  for name, success in _rows(results, 'success'):
    best = success['best_baseline']
    paper = success.get('best_paper_baseline')
    poi = success['probability_of_improvement']
    paper_cells = (
        f'{paper} | {_interval(success["iqm"][paper])} | '
        f'{_ratio_text(success["paper_ratio"])} | '
        f'{"yes" if success["paper_intervals_overlap"] else "no"}'
        if paper else '- | - | - | -')
    lines.append(
        f'| {name} | {_interval(success["iqm"]["bt"])} | {paper_cells} | '
        f'{best} | {_interval(success["iqm"][best])} | '
        f'{_ratio_text(success["ratio"])} | {poi[best][0]:.2f} | ' + ', '.join(
            f'{arm} {p[0]:.2f}' for arm, p in poi.items()) + ' |')
  lines += ['', 'Actor success over the whole run (the agents\' own '
            'episodes, exploration included):', '',
            '| level / family | BT | best non-BT arm | its IQM | BT / best |',
            '|---|---:|---|---:|---:|']
  for name, success in _rows(results, 'actor_success'):
    best = success['best_baseline']
    lines.append(
        f'| {name} | {_interval(success["iqm"]["bt"])} | {best} | '
        f'{_interval(success["iqm"][best])} | '
        f'{_ratio_text(success["ratio"])} |')
  for key, title, arms, _, _ in ARM_TABLES:
    lines += _arm_table_lines(title, results.get(key, {}), arms)
  if results.get('extra_action_use'):
    lines += ['', 'BT\'s final greedy a+ share against its success, seed by '
              'seed (extra_action_use.png):', '',
              '| level / family | (a+ share, success) per seed | Spearman |',
              '|---|---|---:|']
    for name, use in results['extra_action_use'].items():
      pairs = ', '.join(f'({a:.2f}, {s:.2f})' for a, s in
                        zip(use['extra_action'], use['success']))
      rho = '-' if use['spearman'] is None else f'{use["spearman"]:.2f}'
      lines.append(f'| {name} | {pairs} | {rho} |')
  lines += forgetting_lines(results.get('forgetting', {}))
  if results.get('late_evaluator_scores'):
    lines += ['', f'**{results["late_evaluator_scores"]} summaries predate the '
              'final-policy scores**: theirs are the evaluator\'s over the last '
              'quarter of the budget. Rewrite them with `--resummarise` while '
              'their run directories exist.']
  return '\n'.join(lines + runs_done_lines(results, done))


def _seed_list(seeds) -> str:
  """'0-4', '0, 2', or '-': seeds compactly."""
  seeds = sorted(seeds)
  if not seeds:
    return '-'
  if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
    return f'{seeds[0]}-{seeds[-1]}'
  return ', '.join(map(str, seeds))


def runs_done_lines(results: Dict[str, Any],
                    done: Sequence[study.Run]) -> List[str]:
  """What of the study is done, arm by arm: the seeds done and those of the
  default plan still missing, on every slice of the default plan and on the
  slices run when named (the far task, the twins) that have a run."""
  done_seeds: Dict[Tuple[str, str, str], set] = {}
  for run in done:
    done_seeds.setdefault((run.level, run.family, run.arm), set()).add(run.seed)
  named = {(level, family) for level, family, _ in done_seeds}
  planned: Dict[Tuple[str, str, str], set] = {}
  for run in study.plan(families=suite.ALL_FAMILIES):
    if run.family in suite.FAMILIES or (run.level, run.family) in named:
      planned.setdefault((run.level, run.family, run.arm), set()).add(run.seed)
  default = len(study.plan())
  in_default = sum(len(seeds & planned.get(key, set()))
                   for key, seeds in done_seeds.items()
                   if key[1] in suite.FAMILIES)
  lines = ['', f'Runs done: {len(done)}, {in_default} of them of the default '
           f'plan\'s {default} (`run_study` with no slice flags; the far task '
           'and the twins run when named); compute so far '
           f'{results["compute"]["wall_hours"]} hours of this machine '
           f'(2 cores), {results["compute"]["actor_steps"]:,} actor steps.',
           '', '| level / family | arm | seeds done | missing of the plan |',
           '|---|---|---|---|']
  for key in list(planned) + [k for k in done_seeds if k not in planned]:
    seeds = done_seeds.get(key, set())
    missing = planned.get(key, set()) - seeds
    lines.append(f'| {key[0]} / {key[1]} | `{key[2]}` | {_seed_list(seeds)} | '
                 f'{_seed_list(missing)} |')
  return lines


def _arm_table_lines(title: str, rows: Dict[str, Any],
                     arms: Sequence[str]) -> List[str]:
  """One of ARM_TABLES as markdown."""
  if not rows:
    return []
  lines = ['', f'{title} (greedy success at the budget, IQM [95% CI]; '
           'probabilities of improvement):', '',
           '| level / family | ' + ' | '.join(arms) + ' | P(a > b) |',
           '|---|' + '---:|' * len(arms) + '---|']
  for name, row in rows.items():
    cells = [_interval(row['iqm'][arm]) if arm in row['iqm'] else '-'
             for arm in arms]
    improvement = ', '.join(
        f'{pair.replace("epsilon_greedy+", "")} {p[0]:.2f}'
        for pair, p in row['improvement'].items()) or '-'
    lines.append(f'| {name} | ' + ' | '.join(cells) + f' | {improvement} |')
  return lines


def _save(fig, axes, path: str) -> str:
  for ax in axes:
    if ax.get_legend_handles_labels()[0]:
      ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=80)
  plt.close(fig)
  return path


def _curve(summaries, arm, name):
  values = [[np.nan if v is None else v for v in s['curves'][name]]
            for s in summaries if s['arm'] == arm and name in s['curves']]
  return np.array(values, float)


def _mean_curve(summaries, arm, name) -> Optional[Tuple[np.ndarray, int]]:
  """The mean over `arm`'s runs of curve `name` (NaN where no run has a
  point) and how many runs it averages; None without any point."""
  values = _curve(summaries, arm, name)
  if not len(values) or np.isnan(values).all():
    return None
  return np.ma.masked_invalid(values).mean(0).filled(np.nan), len(values)


def _zero_shot_exploration(level: str) -> Dict[str, Dict[str, float]]:
  """pi_p's and a random policy's zero-shot exploration on `level`, from
  its bundled pi_p's provenance."""
  return bundled.provenance(suite.level(level).pretrained).get(
      'exploration', {})


def forgetting(summaries: Sequence[Dict[str, Any]]
               ) -> Dict[str, Dict[str, Any]]:
  """Per level, what the greedy policy still explores during transfer after
  full initialisation (where it starts as pi_p), by fine-tuning arm and
  measure: the mean over runs (all task families) in the first budget
  window that has an evaluation and over the last quarter of the budget,
  next to pi_p's and a random policy's zero-shot values. The numbers of
  forgetting_<level>.png."""
  levels: Dict[str, Dict[str, Any]] = {}
  for level in sorted({s['level'] for s in summaries}):
    runs = [s for s in summaries if s['level'] == level]
    zero_shot = _zero_shot_exploration(level)
    rows: Dict[str, Dict[str, Any]] = {}
    for arm in FINE_TUNING_ARMS:
      for measure in FORGETTING_MEASURES:
        mean = _mean_curve(runs, arm, f'evaluator_{measure}')
        if mean is None:
          continue
        curve, count = mean
        late = curve[int(0.75 * len(curve)):]
        rows.setdefault(arm, {'runs': count})[measure] = {
            'first': float(curve[~np.isnan(curve)][0]),
            'last_quarter': float(np.nanmean(late)) if not np.isnan(
                late).all() else None}
    if rows:
      levels[level] = {'arms': rows, 'zero_shot': {
          source: {m: zero_shot[source][m] for m in FORGETTING_MEASURES
                   if m in zero_shot.get(source, {})}
          for source in ('pi_p', 'random')}}
  return levels


def forgetting_lines(levels: Dict[str, Dict[str, Any]]) -> List[str]:
  """`forgetting` as a markdown table."""
  if not levels:
    return []
  lines = ['', "What fine-tuning forgets: the greedy policy's exploration "
           'during transfer, first evaluation -> last quarter of the budget '
           '(mean over runs, task families pooled; forgetting_<level>.png):',
           '', '| level | arm | runs | '
           + ' | '.join(FORGETTING_MEASURES) + ' |',
           '|---|---|---:|' + '---|' * len(FORGETTING_MEASURES)]
  def cell(value):
    return '-' if value is None else f'{value:.1f}'
  for level, found in levels.items():
    for arm, row in found['arms'].items():
      lines.append(f'| {level} | `{arm}` | {row["runs"]} | ' + ' | '.join(
          f'{cell(row[m]["first"])} -> {cell(row[m]["last_quarter"])}'
          if m in row else '-' for m in FORGETTING_MEASURES) + ' |')
    for source, values in found['zero_shot'].items():
      lines.append(f'| {level} | {source} zero-shot | | ' + ' | '.join(
          cell(values.get(m)) for m in FORGETTING_MEASURES) + ' |')
  return lines


def plot_curves(summaries: Sequence[Dict[str, Any]], level: str,
                path: str) -> str:
  """IQM greedy success over the budget per arm, with 95% bands, one panel
  per task family, and a+ usage of the arms that have the extra action."""
  families = [f for f in suite.ALL_FAMILIES
              if any(s['level'] == level and s['family'] == f
                     for s in summaries)]
  fig, axes = plt.subplots(1, len(families) + 1,
                           figsize=(4.5 * (len(families) + 1), 4))
  for ax, family in zip(axes, families):
    cell = [s for s in summaries
            if s['level'] == level and s['family'] == family]
    points = np.array(cell[0]['budget_points'])
    for arm in suite.arms_of(level, family):
      values = _curve(cell, arm, 'evaluator_success')
      if not len(values):
        continue
      values = np.nan_to_num(values, nan=0.)  # No episode yet: unsolved.
      iqm = np.array([statistics.iqm_interval(values[:, [i]],
                                              reps=CURVE_BOOTSTRAP_REPS)
                      for i in range(values.shape[1])])
      line, = ax.plot(points, iqm[:, 0], label=f'{arm} ({len(values)})')
      ax.fill_between(points, iqm[:, 1], iqm[:, 2], alpha=0.15,
                      color=line.get_color())
    ax.set_title(f'{level} / {family} ({cell[0]["task"]})')
    ax.set_xlabel('transfer actor steps')
    ax.set_ylabel('greedy success, IQM over seeds [95% CI]')
  ax = axes[-1]
  arms = sorted({a for f in families for a in suite.arms_of(level, f)},
                key=lambda a: (a != 'bt', a))
  for arm in [a for a in arms if suite.has_extra_action(a)]:
    values = _curve([s for s in summaries if s['level'] == level], arm,
                    'greedy_extra_action_fraction')
    if len(values) and not np.isnan(values).all():
      ax.plot(points, np.ma.masked_invalid(values).mean(0).filled(np.nan),
              label=arm)
  ax.set_title('a+ usage (all families)')
  ax.set_xlabel('transfer actor steps')
  ax.set_ylabel('greedy steps choosing a+ (mean)')
  return _save(fig, axes, path)


def plot_weights(results: Dict[str, Any], path: str) -> str:
  """IQM success of the weight-transfer arms with and without BT, per cell
  (the paper's figure 6)."""
  cells = list(results['cells'])
  fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(cells)), 4))
  width = 0.8 / len(WEIGHT_ARMS)
  for i, arm in enumerate(WEIGHT_ARMS):
    for j, cell in enumerate(cells):
      iqm = results['cells'][cell]['success']['iqm'].get(arm)
      if iqm is None:
        continue
      ax.bar(j + i * width, iqm[0], width, yerr=[[iqm[0] - iqm[1]],
                                                 [iqm[2] - iqm[0]]],
             color=f'C{i}', label=arm if j == 0 else None)
  ax.set_xticks(np.arange(len(cells)) + 0.4 - width / 2)
  ax.set_xticklabels(cells, rotation=20, fontsize=8)
  ax.set_ylabel('greedy success at budget, IQM [95% CI]')
  return _save(fig, [ax], path)


def plot_forgetting(summaries: Sequence[Dict[str, Any]], level: str,
                    path: str) -> str:
  """The greedy policy's exploration during transfer after full
  initialisation (where it starts as pi_p), with and without retention, all
  task families pooled (mean over runs), next to pi_p's own zero-shot
  exploration: what fine-tuning forgets."""
  runs = [s for s in summaries if s['level'] == level]
  measures = [m for m in FORGETTING_MEASURES
              if any(f'evaluator_{m}' in s['curves'] for s in runs)]
  fig, axes = plt.subplots(1, max(len(measures), 1),
                           figsize=(5 * max(len(measures), 1), 4),
                           squeeze=False)
  zero_shot = _zero_shot_exploration(level)
  for ax, measure in zip(axes[0], measures):
    for arm in FINE_TUNING_ARMS:
      mean = _mean_curve(runs, arm, f'evaluator_{measure}')
      if mean is not None:
        ax.plot(runs[0]['budget_points'], mean[0],
                label=f'{arm} ({mean[1]})')
    for source, style in (('pi_p', '--'), ('random', ':')):
      if measure in zero_shot.get(source, {}):
        ax.axhline(zero_shot[source][measure], color='k', linestyle=style,
                   label=f'{source} zero-shot')
    ax.set_title(f'{level}: greedy {measure} during transfer')
    ax.set_xlabel('transfer actor steps')
    ax.set_ylabel(f'{measure} per evaluator episode (mean)')
  return _save(fig, axes[0], path)


def plot_profiles(summaries: Sequence[Dict[str, Any]], path: str) -> str:
  """Performance profiles of success over every completed cell."""
  table = statistics.score_table(summaries, 'success')
  cells = statistics.cells_with(table, suite.ARMS)
  fig, ax = plt.subplots(figsize=(6, 4))
  if cells:
    thresholds = np.linspace(0, 1, 21)
    matrices = {arm: statistics.matrix(table, arm, cells)
                for arm in suite.ARMS}
    profiles, intervals = statistics.performance_profiles(matrices,
                                                          thresholds)
    for arm in suite.ARMS:
      line, = ax.plot(thresholds, profiles[arm], label=arm)
      ax.fill_between(thresholds, intervals[arm][0], intervals[arm][1],
                      alpha=0.15, color=line.get_color())
  ax.set_xlabel('greedy success at budget (tau)')
  ax.set_ylabel('fraction of runs with success > tau')
  return _save(fig, [ax], path)


def extra_action_use(summaries: Sequence[Dict[str, Any]]
                     ) -> Dict[str, Dict[str, Any]]:
  """Per level/family, each BT run's final greedy a+ share and success, and
  their Spearman rank correlation (None under 3 runs or with no spread):
  whether what BT's greedy policy gains comes through pi_p."""
  cells: Dict[str, Dict[str, Any]] = {}
  for s in sorted(summaries, key=lambda s: s['seed']):
    if s['arm'] == 'bt' and 'final_greedy_extra_action_fraction' in s:
      cell = cells.setdefault(f'{s["level"]}/{s["family"]}',
                              {'seeds': [], 'extra_action': [], 'success': []})
      cell['seeds'].append(s['seed'])
      cell['extra_action'].append(s['final_greedy_extra_action_fraction'])
      cell['success'].append(s['success'])
  for cell in cells.values():
    cell['spearman'] = _spearman(cell['extra_action'], cell['success'])
  return cells


def _spearman(x: Sequence[float], y: Sequence[float]) -> Optional[float]:
  """Rank correlation of x and y; None under 3 points or with no spread."""
  if len(x) < 3 or len(set(x)) < 2 or len(set(y)) < 2:
    return None
  return float(scipy_stats.spearmanr(x, y).statistic)


def plot_extra_action_use(use: Dict[str, Dict[str, Any]],
                          path: str) -> Optional[str]:
  """`extra_action_use` as a scatter, a colour per level/family; None when
  no BT run has the measure."""
  if not use:
    return None
  fig, ax = plt.subplots(figsize=(6, 4))
  for name, cell in sorted(use.items()):
    ax.scatter(cell['extra_action'], cell['success'], label=name)
  ax.set_xlabel('greedy a+ choices, final policy (fraction of steps)')
  ax.set_ylabel('greedy success at budget')
  return _save(fig, [ax], path)


def write(results_dir: str, command: str,
          sources: Sequence[str] = ()) -> str:
  """Reads every summary in `results_dir` (or, combined, in the results
  dirs `sources`: see `study.read_combined_summaries`), writes
  results.json (with `command`, the command that made it), results.md and
  the figures there; returns the markdown."""
  if sources:
    study.keep_random_returns(results_dir, sources)
  found = study.read_combined_summaries(sources or [results_dir],
                                        current=None)
  summaries, stale = [], []  # Stale: made with a pi_p since re-bundled.
  for summary in found:
    (stale if study.stale_because(summary) else summaries).append(summary)
  if not summaries:
    return '\n'.join(['No run made with the bundled pi_p has finished yet.',
                      *stale_lines(stale)])
  with statistics.persistent_cache(
      os.path.join(results_dir, statistics.CACHE_NAME)):
    return _write(results_dir, command, summaries, stale)


def stale_lines(stale: Sequence[Dict[str, Any]]) -> List[str]:
  """The runs left out because their pi_p has been re-bundled since."""
  if not stale:
    return []
  seeds: Dict[Tuple[str, str, str, str], List[int]] = {}
  for summary in stale:
    key = (summary['level'], summary['family'], summary['arm'],
           study.stale_because(summary))
    seeds.setdefault(key, []).append(summary['seed'])
  lines = ['', f'**{len(stale)} runs are left out**: their pi_p has been '
           're-bundled since they ran, so their scores are not the bundled '
           'pi_p\'s. `run_study` runs them again on that slice.', '',
           '| level / family | arm | seeds | why |', '|---|---|---|---|']
  for (level, family, arm, why), run_seeds in seeds.items():
    lines.append(f'| {level} / {family} | `{arm}` | {_seed_list(run_seeds)} '
                 f'| {why} |')
  return lines


def _write(results_dir: str, command: str,
           summaries: Sequence[Dict[str, Any]],
           stale: Sequence[Dict[str, Any]] = ()) -> str:
  """`write` for the summaries read (`stale`: those left out)."""
  random_returns = {lvl.name: study.random_returns(results_dir, lvl)
                    for lvl in suite.SUITE
                    if any(s['level'] == lvl.name for s in summaries)}
  results = analyse(summaries, random_returns)
  done = [study.Run(s['level'], s['family'], s['arm'], s['seed'])
          for s in summaries]
  figures = [plot_curves(summaries, level,
                         os.path.join(results_dir, f'curves_{level}.png'))
             for level in random_returns]
  figures.append(plot_weights(results, os.path.join(results_dir,
                                                    'weights.png')))
  figures += [plot_forgetting(summaries, level, os.path.join(
      results_dir, f'forgetting_{level}.png'))
              for level in random_returns
              if any(s['level'] == level and s['arm'] in FINE_TUNING_ARMS
                     for s in summaries)]
  figures.append(plot_profiles(summaries, os.path.join(results_dir,
                                                       'profiles.png')))
  results['extra_action_use'] = extra_action_use(summaries)
  extra_action = plot_extra_action_use(
      results['extra_action_use'],
      os.path.join(results_dir, 'extra_action_use.png'))
  if extra_action:
    figures.append(extra_action)
  text = '\n'.join([markdown(results, done), *stale_lines(stale),
                    *seed_table(summaries, results)])
  with open(os.path.join(results_dir, 'results.json'), 'w') as f:
    json.dump({'command': command, 'random_returns': random_returns,
               'figures': figures, **results,
               'stale_runs': [study.Run(s['level'], s['family'], s['arm'],
                                        s['seed']).key for s in stale]},
              f, indent=1, default=float)
  with open(os.path.join(results_dir, 'results.md'), 'w') as f:
    f.write(f'Written by `{command}`.\n\n{text}\n')
  return text
