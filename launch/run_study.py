r"""The transfer study over the suite: where Behavior Transfer helps.

  python -m behavior_transfer.launch.run_study                 # everything
  python -m behavior_transfer.launch.run_study --levels=doorkey \
      --tasks=hard --arms=bt,epsilon_greedy --seeds=0,1       # one slice

Runs every (level, task family, arm, seed) of the slice that has not run yet
(hard tasks first), each from the level's bundled pi_p at the level's budget,
and after each run rewrites the results: IQM [95% CI] of success and of
normalised return per level and family and over all of them, BT's
probability of improvement over each baseline, steps to 50% success,
learning curves, a+ usage, weights with and without BT and performance
profiles, in --results_dir (results.md, results.json, PNGs). Finished runs
are kept as small summaries in --results_dir/runs (commit them); an
interrupted study resumes where it stopped. docs/transfer_suite.md reads the
results.
"""

import sys

from absl import app
from absl import flags

from behavior_transfer.launch import run_flags
from behavior_transfer.studies import study
from behavior_transfer.studies import study_report
from behavior_transfer.studies import suite

FLAGS = flags.FLAGS
flags.DEFINE_list('levels', [], 'Suite levels (default all): ' + ', '.join(
    lvl.name for lvl in suite.SUITE) + '.')
flags.DEFINE_list('tasks', [], 'Task families (default '
                  + ', '.join(suite.FAMILIES) + '; hard runs first). '
                  f'{suite.FAR!r} (the six-room level\'s last room, where BT '
                  'fails, for the hand-over arms), '
                  f'{suite.HARD_ONCE!r} (the hard twin charging each event once '
                  'per episode, as the paper\'s games do) and '
                  f'{suite.DOOR_HARD!r} (the hard twin of going through the '
                  'first door) run only when named.')
flags.DEFINE_list('arms', [], 'Arms (default all): ' + ', '.join(
    suite.ARMS) + f'; the ablation arms {", ".join(suite.ABLATION_ARMS)} '
                  f'run on {suite.ABLATION_LEVEL}; the retention arms '
                  f'{", ".join(suite.RETENTION_ARMS)}; the hand-over arms '
                  f'{", ".join(suite.HANDOVER_ARMS)} (hard and far only).')
flags.DEFINE_list('seeds', [], 'Seeds (default: 5 for BT, BT + partial init, '
                  'epsilon-greedy and epsilon-z-greedy, 3 for the rest).')
flags.DEFINE_integer('budget', None, 'Actor steps of every run (default: '
                     'the level\'s, the same for every arm); for smoke runs.')
flags.DEFINE_string('pretrained', None, 'A bundled pi_p to transfer on '
                    'every level of the slice instead of each level\'s own '
                    '(to put another pi_p through the suite); give its runs '
                    'their own --out_dir and --results_dir.')
flags.DEFINE_string('preset', 'standard', 'Preset of every run.')
flags.DEFINE_integer('num_actors', None, 'Actors per run (default: the '
                     'preset\'s).')
flags.DEFINE_string('out_dir', 'runs/study', 'Run directories (checkpoints, '
                    'logs); deletable once a run\'s summary exists.')
flags.DEFINE_string('results_dir', 'docs/transfer_suite', 'Run summaries, '
                    'results and figures.')
flags.DEFINE_bool('report_only', False, 'Rewrite the results from the '
                  'summaries there; run nothing.')
flags.DEFINE_list('report_from', [], 'With --report_only: write the '
                  'report in --results_dir from the summaries of these '
                  'results dirs instead of its own, each dir\'s cells '
                  '(level/family) replacing the same cells of the dirs '
                  'before it, e.g. docs/transfer_suite,<a check of another '
                  'pi_p on one level>: the study with that level\'s pi_p '
                  'swapped.')
flags.DEFINE_bool('resummarise', False, 'First rewrite the summaries of the '
                  'slice\'s finished runs from their run directories in '
                  '--out_dir, where those still exist (after the summaries '
                  'gained a field).')
flags.DEFINE_integer('final_episodes', study.FINAL_EPISODES, 'Episodes of '
                     'each run\'s final policy (its last learner checkpoint, '
                     'acted greedily as the evaluator acts) behind its scores '
                     'at the budget.')
run_flags.define_launch_flags()
flags.DEFINE_bool('verbose', False, 'Show every line the nodes print.')


def main(_):
  command = ' '.join(['python -m behavior_transfer.launch.run_study'] +
                     sys.argv[1:])
  with run_flags.exit_codes(FLAGS.out_dir):
    if FLAGS.report_from:
      if not FLAGS.report_only:
        raise ValueError('--report_from combines finished runs into a '
                         'report; it needs --report_only.')
      study.check_report_sources(FLAGS.report_from)
    planned = study.plan(FLAGS.levels, FLAGS.tasks, FLAGS.arms,
                         [int(s) for s in FLAGS.seeds])
    if FLAGS.resummarise:
      rewritten = study.resummarise(planned, FLAGS.out_dir, FLAGS.results_dir,
                                    FLAGS.final_episodes)
      print(f'Rewrote {len(rewritten)} summaries from their run directories.',
            flush=True)
    if not FLAGS.report_only:
      for _ in study.run_study(
          planned, FLAGS.out_dir, FLAGS.results_dir, FLAGS.budget,
          FLAGS.final_episodes, preset=FLAGS.preset,
          num_actors=FLAGS.num_actors, launch_type=run_flags.launch(),
          verbose=FLAGS.verbose, pretrained=FLAGS.pretrained):
        study_report.write(FLAGS.results_dir, command)
  print('\n' + study_report.write(FLAGS.results_dir, command,
                                  FLAGS.report_from), flush=True)
  if study.read_combined_summaries(FLAGS.report_from or
                                   [FLAGS.results_dir]):
    print(f'\nWrote {FLAGS.results_dir}/results.md, results.json and '
          'figures.', flush=True)


if __name__ == '__main__':
  app.run(main)
