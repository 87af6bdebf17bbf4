"""The transfer study over the suite: runs, sliced and resumable.

A study is a set of runs, one per (level, task family, arm, seed), each at its
level's transfer budget. A finished run leaves a small summary file under
`results_dir/runs/<level>/<family>/<arm>/seed_<s>.json` (learning curves on a
fixed grid of budgets and the measures the statistics need), which is what
the statistics read and what is committed; the run directory under `out_dir`
(checkpoints, logs) may be deleted once its summary exists. A study
interrupted mid-run resumes that run from its checkpoints; a run with a
summary is never repeated, so a study can be spread over several sittings
and any slice (some levels, families, arms or seeds) run on its own.
"""

import dataclasses
import json
import os
import shutil
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from behavior_transfer import environments
from behavior_transfer import experiments
from behavior_transfer.experiments import evaluation
from behavior_transfer.environments import measures
from behavior_transfer.environments import names
from behavior_transfer.launching import reports
from behavior_transfer.launching import runs
from behavior_transfer.policies import bundled
from behavior_transfer.studies import bundle
from behavior_transfer.studies import pipeline
from behavior_transfer.studies import suite

GRID_POINTS = 20  # Budget points of every learning curve.
RANDOM_EPISODES = 50  # Episodes of the random policy behind normalised return.
# Episodes of each run's final policy behind its scores at the budget.
FINAL_EPISODES = 50


@dataclasses.dataclass(frozen=True)
class Run:
  """One run of the study."""
  level: str
  family: str
  arm: str
  seed: int

  @property
  def key(self) -> str:
    return f'{self.level}/{self.family}/{self.arm}/seed_{self.seed}'


def plan(levels: Sequence[str] = (), families: Sequence[str] = (),
         arms: Sequence[str] = (), seeds: Sequence[int] = ()) -> List[Run]:
  """The runs of a slice (empty: all of that dimension, the far family only
  when named; no seeds: each arm's default number, suite.SEEDS), hard tasks
  first, then seed by seed so that a partial study has every arm at equal
  seeds. A level without a named family is skipped."""
  levels = [suite.level(name) for name in levels] or list(suite.SUITE)
  for family in families:
    names.check_name('task family', family, suite.ALL_FAMILIES)
  pipeline.parse_arms(arms)  # Refuses unknown arms before anything runs.
  all_seeds = sorted(seeds) if seeds else range(
      max(max(suite.SEEDS.values()), suite.FAR_SEEDS))
  return [Run(lvl.name, family, arm, seed)
          for family in (suite.ALL_FAMILIES if families else suite.FAMILIES)
          if not families or family in families
          for seed in all_seeds
          for lvl in levels if family in lvl.tasks
          for arm in suite.arms_of(lvl.name, family)
          if (not arms or arm in arms) and
          (seeds or seed < suite.seeds_of(arm, family))]


def summary_path(results_dir: str, run: Run) -> str:
  return os.path.join(results_dir, 'runs', run.key + '.json')


def read_summaries(results_dir: str, current: Optional[bool] = True
                   ) -> List[Dict[str, Any]]:
  """The finished runs' summaries under `results_dir`: those made with the
  pi_p bundled now (`current`), those made with one since re-bundled (False;
  their scores are not this pi_p's), or all (None)."""
  root = os.path.join(results_dir, 'runs')
  found = []
  for directory, _, files in sorted(os.walk(root)):
    for name in sorted(files):
      if name.endswith('.json'):
        with open(os.path.join(directory, name)) as f:
          summary = json.load(f)
        if current is None or current == (not stale_because(summary)):
          found.append(summary)
  return found


def read_combined_summaries(results_dirs: Sequence[str],
                            current: Optional[bool] = True
                            ) -> List[Dict[str, Any]]:
  """`read_summaries` over several results dirs, each dir's cells (level,
  family) replacing the same cells of the dirs before it, whole: e.g. the
  study with one level's cells taken from a check of another pi_p, so that
  no cell mixes two pi_p's runs."""
  cells: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
  for results_dir in results_dirs:
    found: Dict[Tuple[str, str], List[Dict[str, Any]]] = {}
    for summary in read_summaries(results_dir, current=None):
      found.setdefault((summary['level'], summary['family']),
                       []).append(summary)
    cells.update(found)
  return [summary for cell in sorted(cells) for summary in cells[cell]
          if current is None or current == (not stale_because(summary))]


def check_report_sources(sources: Sequence[str]) -> None:
  """Refuses results dirs to combine that hold no run summary."""
  for source in sources:
    if not read_summaries(source, current=None):
      raise ValueError(
          f'{source!r} holds no run summary (none under '
          f'{os.path.join(source, "runs")}); give results dirs of '
          '`run_study`, e.g. docs/transfer_suite.')


def keep_random_returns(results_dir: str, sources: Sequence[str]) -> None:
  """Copies into `results_dir` the random policy's returns `sources` kept
  (the first source's, level by level), so that a combined report
  normalises returns as its sources did instead of measuring them anew."""
  os.makedirs(os.path.join(results_dir, 'random'), exist_ok=True)
  for source in reversed(sources):
    kept = os.path.join(source, 'random')
    for name in sorted(os.listdir(kept)) if os.path.isdir(kept) else ():
      shutil.copyfile(os.path.join(kept, name),
                      os.path.join(results_dir, 'random', name))


def _made(name: str) -> Optional[str]:
  """When bundled pi_p `name` was made (its provenance's stamp); None when
  it is not bundled (any more)."""
  try:
    return bundled.provenance(name)['created']
  except ValueError:
    return None


def pretrained_made(config: pipeline.PipelineSettings) -> Dict[str, str]:
  """When each bundled pi_p the run's arm takes behaviour or weights from
  was made; empty for arms that use none (plain epsilon- and
  epsilon-z-greedy). Kept in the summary, so that re-bundling a pi_p
  marks the runs made with the old one."""
  arm = config.arms[0]
  if not arm.uses_pretrained:
    return {}
  sources = [f'bundled:{config.bundled}']
  sources += arm.extra_policies(sources[0])
  return {source.split(':', 1)[1]: _made(source.split(':', 1)[1])
          for source in sources if source.startswith('bundled:')}


def stale_because(summary: Dict[str, Any]) -> Optional[str]:
  """Why a summary's scores are not those of the pi_p bundled now (a pi_p
  re-bundled or gone since the run), or None. Summaries from before the
  stamp ('pretrained_made') are taken as made with today's bundles."""
  for name, made in summary.get('pretrained_made', {}).items():
    now = _made(name)
    if now != made:
      return (f'made with {name} of {made}, bundled now: '
              f'{now or "not bundled"}')
  return None


def _windows(frame: pd.DataFrame, values: pd.Series,
             edges: np.ndarray) -> List[Optional[float]]:
  """Mean of `values` over the rows logged in each (edges[i], edges[i+1]];
  None where a window holds no row."""
  steps = frame['actor_steps'].to_numpy()
  means = []
  for low, high in zip(edges[:-1], edges[1:]):
    inside = values.to_numpy()[(steps > low) & (steps <= high)]
    means.append(float(np.mean(inside)) if len(inside) else None)
  return means


def summarise_run(run_dir: str, task: str, budget: int) -> Dict[str, Any]:
  """What the logs of a finished run say: learning curves of success and
  return on GRID_POINTS budget points (the greedy evaluator's and the
  actors'), a+ usage, the greedy evaluator's exploration measures, and the
  evaluator's success and return over the last quarter of the budget (a few
  episodes, each from other weights: `final_scores` are the run's scores)."""
  logs = reports.read_logs(run_dir)
  evaluator = logs['evaluator']
  episodes = reports.actor_episodes(logs)
  edges = np.linspace(0, budget, GRID_POINTS + 1)
  task_return = f'return_{task}'
  curves = {
      'evaluator_success': _windows(
          evaluator, pipeline.solved(evaluator, task).astype(float), edges),
      'evaluator_return': _windows(evaluator, evaluator[task_return], edges),
      'actor_success': _windows(
          episodes, pipeline.solved(episodes, task).astype(float), edges),
  }
  for column, frame in (('greedy_extra_action_fraction', evaluator),
                        ('flight_fraction', episodes),
                        ('extra_action_fraction', episodes)):
    if column in frame:
      curves[column] = _windows(frame, frame[column], edges)
  # How much the greedy policy still explores as transfer goes: after full
  # initialisation it starts as pi_p, so these show what fine-tuning forgets.
  for measure in measures.EXPLORATION_MEASURES:
    if measure in evaluator:
      curves[f'evaluator_{measure}'] = _windows(evaluator, evaluator[measure],
                                                edges)
  late = evaluator[evaluator['actor_steps'] > 0.75 * budget]
  return {
      'budget_points': edges[1:].astype(int).tolist(),
      'curves': curves,
      'late_evaluator_success': float(pipeline.solved(late, task).mean())
                                if len(late) else 0.,
      'late_evaluator_return': float(late[task_return].mean()) if len(late)
                               else float(evaluator[task_return].tail(5).mean()),
      'actor_success': float(pipeline.solved(episodes, task).mean()),
      'evaluator_episodes': int(len(evaluator)),
      'late_evaluator_episodes': int(len(late)),
      'actor_steps': int(episodes['actor_steps'].max()),
  }


def final_scores(run_dir: str, task: str,
                 num_episodes: int = FINAL_EPISODES) -> Dict[str, Any]:
  """The scores at the budget: the run's final policy (its learner's last
  checkpoint, acted as the evaluator acts) over `num_episodes` episodes:
  success and return under `task`, the exploration measures and a+ usage."""
  episodes = evaluation.final_policy_episodes(run_dir, num_episodes)
  scores = {'success': float(pipeline.solved(episodes, task).mean()),
            'return': float(episodes[f'return_{task}'].mean()),
            'final_episodes': int(len(episodes))}
  for column in (*measures.EXPLORATION_MEASURES,
                 'greedy_extra_action_fraction'):
    if column in episodes:
      scores[f'final_{column}'] = float(episodes[column].mean())
  return scores


def random_returns(results_dir: str, level: suite.SuiteLevel
                   ) -> Dict[str, float]:
  """A uniformly random policy's mean return under each of the level's
  tasks (the zero of normalised return), measured once and kept."""
  path = os.path.join(results_dir, 'random', f'{level.name}.json')
  if os.path.exists(path):
    with open(path) as f:
      kept = json.load(f)
    if set(level.tasks) <= set(kept):  # Else a family was added since.
      return kept
  environment = environments.make_environment(level.environment, 'game')
  measured = measures.random_policy_measures(
      environment, environments.parse(level.environment).domain,
      RANDOM_EPISODES)
  returns = {family: measured[f'return_{task}']
             for family, task in level.tasks.items()}
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w') as f:
    json.dump(returns, f, indent=1)
  return returns


def check_pretrained(levels: Sequence[str],
                     pretrained: Optional[str] = None) -> None:
  """Refuses, before any run, levels whose bundled pi_p (or `pretrained`,
  transferred instead of each level's own) is missing."""
  for name in levels:
    lvl = suite.level(name)
    policy = pretrained or lvl.pretrained
    try:
      bundled.policy_path(policy)
    except ValueError as error:
      raise ValueError(
          f'Suite level {name!r} transfers the bundled pi_p '
          f'{policy!r}, which is not there ({error}). Make it with '
          f'`make zoo LEVEL={name}`.') from None


def settings_for(run: Run, budget: Optional[int] = None,
                 preset: str = 'standard', num_actors: Optional[int] = None,
                 launch_type: runs.Launch = 'local_mp',
                 verbose: bool = False,
                 pretrained: Optional[str] = None
                 ) -> pipeline.PipelineSettings:
  """The pipeline settings of `run`: the level's task, budget and bundled
  pi_p (or the bundled `pretrained`, to put another pi_p through the
  suite)."""
  lvl = suite.level(run.level)
  return pipeline.PipelineSettings(
      environment=lvl.environment, task=lvl.task(run.family),
      arms=pipeline.parse_arms([run.arm]),
      bundled=pretrained or lvl.pretrained,
      transfer_steps=budget or lvl.budget(run.family), preset=preset,
      num_actors=num_actors, seed=run.seed, launch_type=launch_type,
      verbose=verbose)


def _write_summary(results_dir: str, run: Run, summary: Dict[str, Any]
                   ) -> None:
  path = summary_path(results_dir, run)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path + '.partial', 'w') as f:
    json.dump(summary, f, indent=1)
  os.replace(path + '.partial', path)


def resummarise(planned: Sequence[Run], out_dir: str, results_dir: str,
                final_episodes: int = FINAL_EPISODES) -> List[Run]:
  """Rewrites the summaries of finished runs whose run directories are
  still in `out_dir` (after the summary gained a field); the run's own
  settings, wall time and commit are kept. Returns the runs rewritten."""
  rewritten = []
  for run in planned:
    path, run_dir = summary_path(results_dir, run), os.path.join(out_dir,
                                                                 run.key)
    if not (os.path.exists(path) and os.path.isdir(run_dir)):
      continue
    with open(path) as f:
      summary = json.load(f)
    for stale in ('success', 'return'):  # Once the late evaluator's.
      summary.pop(stale, None)
    summary.update(summarise_run(run_dir, summary['task'], summary['budget']))
    summary.update(final_scores(run_dir, summary['task'], final_episodes))
    _write_summary(results_dir, run, summary)
    rewritten.append(run)
  return rewritten


def _done(results_dir: str, run: Run,
          config: pipeline.PipelineSettings) -> bool:
  """Whether `run` has a summary; refuses one made from another pi_p (its
  scores would pass for this pi_p's) unless its arm uses none, so that
  plain epsilon- and epsilon-z-greedy runs serve every pi_p's study."""
  path = summary_path(results_dir, run)
  if not os.path.exists(path):
    return False
  with open(path) as f:
    summary = json.load(f)
  made_from = summary.get('pretrained')
  if made_from != config.bundled and config.arms[0].uses_pretrained:
    raise ValueError(
        f'{path} was made with pi_p {made_from!r}, not {config.bundled!r}: '
        'give runs of another pi_p their own --results_dir and --out_dir.')
  return not stale_because(summary)


def _set_aside(summary_file: str, run_dir: str) -> None:
  """Moves a stale run's summary and run directory to `<path>.stale`
  (replacing older ones), so that its re-run starts afresh and, if
  interrupted, resumes like any other run."""
  for path in (summary_file, run_dir):
    if os.path.exists(path):
      aside = path + '.stale'
      if os.path.isdir(aside):
        shutil.rmtree(aside)
      os.replace(path, aside)


def run_study(planned: Sequence[Run], out_dir: str, results_dir: str,
              budget: Optional[int] = None,
              final_episodes: int = FINAL_EPISODES,
              **settings) -> Iterator[Run]:
  """Runs every planned run that has no summary yet (resuming a run
  directory left by an interrupted study) or one made with a pi_p since
  re-bundled (afresh, its old summary and run directory set aside), and
  writes its summary, scored by its final policy over `final_episodes`
  episodes; yields each run as
  it finishes. `budget` overrides the levels' (smoke runs); `settings` go
  to `settings_for`."""
  check_pretrained(sorted({run.level for run in planned}),
                   settings.get('pretrained'))
  commit = bundle.source_commit()  # The code that trains the runs.
  todo = [run for run in planned
          if not _done(results_dir, run, settings_for(run, **settings))]
  again = sum(os.path.exists(summary_path(results_dir, run)) for run in todo)
  print(f'Study: {len(planned)} runs in this slice, {len(planned) - len(todo)}'
        f' already done, {len(todo)} to run ({again} of them again, made '
        'with a pi_p since re-bundled).', flush=True)
  for number, run in enumerate(todo, 1):
    lvl = suite.level(run.level)
    config = settings_for(run, budget, **settings)
    random_returns(results_dir, lvl)
    run_dir = os.path.join(out_dir, run.key)
    if os.path.exists(summary_path(results_dir, run)):
      with open(summary_path(results_dir, run)) as f:
        print(f'{run.key} runs again: {stale_because(json.load(f))}.',
              flush=True)
      _set_aside(summary_path(results_dir, run), run_dir)
    made = pretrained_made(config)  # The pi_p this run is about to use.
    print(f'\n[{number}/{len(todo)}] {run.key}: {run.arm} on '
          f'{lvl.environment} ({config.task}), {config.transfer_steps:,} '
          f'actor steps -> {run_dir}', flush=True)
    started = time.time()
    spec = pipeline.transfer_spec(
        config, pipeline.pretrained_sources(config, out_dir), config.task,
        config.arms[0])
    experiments.run(spec, run_dir, config.launch_type, verbose=config.verbose)
    summary = {**dataclasses.asdict(run), 'task': config.task,
               'environment': lvl.environment, 'pretrained': config.bundled,
               'pretrained_made': made,
               'budget': config.transfer_steps, 'preset': config.preset,
               'wall_seconds': round(time.time() - started, 1),
               'commit': commit,
               **summarise_run(run_dir, config.task, config.transfer_steps),
               **final_scores(run_dir, config.task, final_episodes)}
    _write_summary(results_dir, run, summary)
    print(f'  success at budget {summary["success"]:.2f} (the final policy, '
          f'{summary["final_episodes"]} episodes), actor success '
          f'{summary["actor_success"]:.3f}, {summary["wall_seconds"]:.0f} s',
          flush=True)
    yield run
