r"""The Atari pipeline end to end under local_mp, at the tiny preset.

  python -m benchmarks.atari_pipeline [--pretrain_steps=2000] \
      [--transfer_steps=2000]

For each game: reward-free NGU pre-training on its dynamics, pi_p exported,
pi_p's zero-shot report next to a random policy's (every task's return, and
on Montezuma's Revenge the rooms visited, read from RAM), then BT and
epsilon-greedy transfer to each of the game's tasks (its own reward, or the
paper's modified Ms Pac-Man and H.E.R.O. tasks), and finally the report
command's tables and figure over all the runs. It times every stage. The
tiny preset learns nothing useful in these budgets: this checks that every
piece of the paper's Atari setting runs, with real Atari frames, processes
and Reverb, and what each stage costs; learning on Atari is a cluster job.
"""

import dataclasses
import json
import os
import time
from typing import Dict, List

from absl import app
from absl import flags

from behavior_transfer.launching import reports
from behavior_transfer.policies import evaluation
from behavior_transfer.studies import paper_report
from behavior_transfer.studies import pipeline

FLAGS = flags.FLAGS
flags.DEFINE_list(
    'games', ['montezuma_revenge=game',
              'ms_pacman=eat_ghosts_easy+eat_ghosts_hard',
              'hero=rescue_miners_easy+rescue_miners_hard'],
    'Each "<game>=<task>+<task>...": pre-train on the game, transfer to its '
    'tasks.')
flags.DEFINE_list('arms', ['bt', 'epsilon_greedy'], 'Transfer agents.')
flags.DEFINE_string('preset', 'tiny', 'Config preset of every stage.')
flags.DEFINE_integer('pretrain_steps', 2000, 'Pre-training actor steps.')
flags.DEFINE_integer('transfer_steps', 2000, 'Actor steps per transfer run.')
flags.DEFINE_integer('report_episodes', 2, 'Zero-shot report episodes.')
flags.DEFINE_integer('report_max_steps', 1000,
                     'Cap of each zero-shot report episode (steps).')
flags.DEFINE_string('out_dir', 'runs/bench_atari_pipeline',
                    'Run directories (a game per folder); resumed if there.')
flags.DEFINE_string('json', 'docs/atari_pipeline.json', 'Figures as JSON.')
flags.DEFINE_string('report_json', 'docs/atari_pipeline_report.json',
                    'The report command\'s tables.')
flags.DEFINE_string('plot', 'docs/atari_pipeline.png',
                    'The report command\'s figure.')


def parse_games(entries: List[str]) -> Dict[str, List[str]]:
  games = {}
  for entry in entries:
    game, _, tasks = entry.partition('=')
    games[game] = tasks.split('+') if tasks else ['game']
  return games


def run_game(game: str, tasks: List[str]) -> Dict:
  """Pre-training, zero-shot report and transfers on one game; timings."""
  settings = pipeline.PipelineSettings(
      environment=f'atari:{game}', arms=pipeline.parse_arms(FLAGS.arms),
      pretrain_steps=FLAGS.pretrain_steps,
      transfer_steps=FLAGS.transfer_steps, preset=FLAGS.preset,
      report_episodes=FLAGS.report_episodes,
      report_max_steps=FLAGS.report_max_steps)
  out_dir = os.path.join(FLAGS.out_dir, game)
  for task in tasks:
    pipeline.validate(dataclasses.replace(settings, task=task))
  stages = []

  def timed(name, fn):
    start = time.time()
    result = fn()
    stages.append(dict(game=game, stage=name,
                       seconds=round(time.time() - start, 1)))
    print(f'[{game}] {name}: {stages[-1]["seconds"]} s', flush=True)
    return result

  pretrain_dir = timed('NGU pre-training', lambda: pipeline.pretrain(
      settings, out_dir))
  stages[-1].update(reports.summarize(pretrain_dir))
  pretrained = pipeline.pretrained_dirs(settings, out_dir)
  comparison = timed('zero-shot report', lambda: evaluation.compare_with_random(
      pretrained[0], settings.environment, settings.report_episodes,
      settings.seed, settings.report_max_steps))
  for task in tasks:
    run_dirs = timed(f'transfer to {task} ({", ".join(FLAGS.arms)})',
                     lambda task=task: pipeline.transfer(
                         settings, pipeline.pretrained_sources(
                             settings, out_dir), out_dir, task))
    stages[-1]['runs'] = {name: reports.summarize(run_dir)
                          for name, run_dir in run_dirs.items()}
  return dict(stages=stages, zero_shot=comparison)


def main(_):
  start = time.time()
  results = {game: run_game(game, tasks)
             for game, tasks in parse_games(FLAGS.games).items()}
  report = paper_report.report([FLAGS.out_dir], FLAGS.report_json,
                               FLAGS.plot)
  lines = [f'Atari pipeline, preset {FLAGS.preset}, local_mp: '
           f'{FLAGS.pretrain_steps:,} pre-training and {FLAGS.transfer_steps:,}'
           ' transfer actor steps per run', '',
           '| game | stage | seconds | actor steps | learner steps |',
           '|---|---|---:|---:|---:|']
  for game, result in results.items():
    for stage in result['stages']:
      runs = stage.get('runs', {'': stage})
      steps = ' / '.join(f'{r.get("actor_steps", 0):,.0f}'
                         for r in runs.values()) if 'runs' in stage or (
                             'actor_steps' in stage) else ''
      learner = ' / '.join(f'{r.get("learner_steps", 0):,.0f}'
                           for r in runs.values()) if steps else ''
      lines.append(f'| {game} | {stage["stage"]} | {stage["seconds"]} | '
                   f'{steps} | {learner} |')
  for game, result in results.items():
    lines += ['', f'{game}: pi_p zero-shot, {FLAGS.report_episodes} episodes '
              f'of at most {FLAGS.report_max_steps} steps:',
              evaluation.format_comparison(result['zero_shot'])]
  lines += ['', report, '', f'total: {time.time() - start:.0f} s']
  text = '\n'.join(lines)
  print(text, flush=True)
  with open(FLAGS.json, 'w') as f:
    json.dump(dict(settings=dict(
        games=FLAGS.games, arms=FLAGS.arms, preset=FLAGS.preset,
        pretrain_steps=FLAGS.pretrain_steps,
        transfer_steps=FLAGS.transfer_steps),
                   results=results, seconds=time.time() - start), f, indent=2)


if __name__ == '__main__':
  app.run(main)
