r"""Chooses EWC's lambda: fine-tuning with EWC at several lambdas, one suite cell.

  python -m benchmarks.ewc_sweep [--level=multiroom] [--family=easy] \
      [--coefficients=1,100,10000] [--seeds=0] [--budget=150000]

Runs `epsilon_greedy+full_init+ewc` (fine-tuning from the level's bundled
pi_p's weights, EWC on torso and LSTM) at each lambda and seed, from the
level's bundled pi_p, at the suite's budget, and prints per lambda: the
final policy's greedy success at the budget (as the study scores it), the
actors' success, the EWC penalty at the end (sum F (theta - theta*)^2, how
far the protected weights moved), and the greedy policy's distinct cells
early and late in transfer (how much of pi_p's exploration fine-tuning
kept). Lambda 0 is
plain fine-tuning. Runs live in --out_dir/lambda_<x>/seed_<s> and finished
ones are not run again; the table also goes to --json.
"""

import dataclasses
import json
import os
from typing import Any, Dict

from absl import app
from absl import flags
import numpy as np

from behavior_transfer import experiments
from behavior_transfer.launching import reports
from behavior_transfer.studies import pipeline
from behavior_transfer.studies import study
from behavior_transfer.studies import suite

FLAGS = flags.FLAGS
flags.DEFINE_string('level', 'multiroom', 'Suite level.')
flags.DEFINE_string('family', 'easy', 'Task family.')
flags.DEFINE_list('coefficients', ['0', '1', '100', '10000'],
                  'EWC lambdas (0: fine-tuning without EWC).')
flags.DEFINE_list('seeds', ['0'], 'Seeds.')
flags.DEFINE_integer('budget', None, 'Actor steps per run (default: the '
                     'level\'s).')
flags.DEFINE_string('out_dir', 'runs/ewc_sweep', 'Run directories.')
flags.DEFINE_string('json', 'docs/ewc_sweep.json', 'Where the table goes.')
ARM = 'epsilon_greedy+full_init+ewc'
SUMMARY = 'sweep_summary.json'


def run_one(coefficient: float, seed: int, run_dir: str) -> Dict[str, Any]:
  """One finished run's summary (running it first if it has none)."""
  path = os.path.join(run_dir, SUMMARY)
  if os.path.exists(path):
    with open(path) as f:
      return json.load(f)
  settings = study.settings_for(
      study.Run(FLAGS.level, FLAGS.family, ARM, seed), FLAGS.budget)
  spec = pipeline.transfer_spec(
      settings, pipeline.pretrained_sources(settings, FLAGS.out_dir),
      settings.task, settings.arms[0])
  spec = experiments.override(spec, config=dict(
      retention=dataclasses.replace(spec.config.retention,
                                    ewc_coefficient=coefficient)))
  experiments.run(spec, run_dir, 'local_mp')
  summary = {**study.summarise_run(run_dir, settings.task,
                                   settings.transfer_steps),
             **study.final_scores(run_dir, settings.task)}
  learner = reports.read_logs(run_dir)['learner']
  summary['final_ewc_penalty'] = float(learner['ewc_penalty'].tail(20).mean())
  with open(path, 'w') as f:
    json.dump(summary, f)
  return summary


def main(_):
  suite.level(FLAGS.level).task(FLAGS.family)  # Refuses unknown names.
  rows = []
  for coefficient in [float(c) for c in FLAGS.coefficients]:
    runs = [run_one(coefficient, int(seed), os.path.join(
        FLAGS.out_dir, f'lambda_{coefficient:g}', f'seed_{seed}'))
            for seed in FLAGS.seeds]
    cells = [r['curves'].get('evaluator_distinct_cells', [None]) for r in runs]

    def mean_of(values):
      values = [v for v in values if v is not None]
      return float(np.mean(values)) if values else float('nan')
    rows.append({
        'lambda': coefficient, 'runs': len(runs),
        'success': mean_of([r['success'] for r in runs]),
        'actor_success': mean_of([r['actor_success'] for r in runs]),
        'final_ewc_penalty': mean_of([r['final_ewc_penalty'] for r in runs]),
        # The second of the curve's budget points (the first may hold no
        # evaluator episode yet) and the last.
        'distinct_cells_early': mean_of([c[1] for c in cells if len(c) > 1]),
        'distinct_cells_late': mean_of([c[-1] for c in cells]),
    })
    print(f'lambda {coefficient:g} done', flush=True)
  header = ('| lambda | runs | greedy success | actor success | final EWC '
            'penalty | greedy distinct cells, 2nd / last 20th of transfer |')
  lines = [header, '|---:|---:|---:|---:|---:|---|']
  lines += [f'| {r["lambda"]:g} | {r["runs"]} | {r["success"]:.2f} | '
            f'{r["actor_success"]:.3f} | {r["final_ewc_penalty"]:.3g} | '
            f'{r["distinct_cells_early"]:.1f} / '
            f'{r["distinct_cells_late"]:.1f} |' for r in rows]
  print('\n'.join(lines), flush=True)
  os.makedirs(os.path.dirname(FLAGS.json) or '.', exist_ok=True)
  with open(FLAGS.json, 'w') as f:
    json.dump({'level': FLAGS.level, 'family': FLAGS.family, 'arm': ARM,
               'seeds': FLAGS.seeds, 'budget': FLAGS.budget, 'rows': rows},
              f, indent=1)


if __name__ == '__main__':
  app.run(main)
