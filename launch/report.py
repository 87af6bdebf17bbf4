r"""The paper's tables and figure from run directories.

  python -m behavior_transfer.launch.report --runs=runs/atari_study \
      --json=runs/atari_study/report.json --plot=runs/atari_study/report.png

Finds every run directory under --runs (R2D2, BT and its ablations; not the
reward-free pre-training), scores each by its greedy evaluator, and prints
per game and task the mean and std over seeds with the human-normalised score,
and per agent the median HNS over the whole suite, the six hard-exploration
games and the 12-game ablation subset (mean [min, max] over seeds).
"""

from absl import app
from absl import flags

from behavior_transfer.launch import run_flags
from behavior_transfer.studies import paper_report

FLAGS = flags.FLAGS
flags.DEFINE_list('runs', None, 'Directories holding run directories '
                  '(searched recursively), e.g. a pipeline\'s --out_dir.')
flags.DEFINE_string('json', 'report.json', 'Where the tables go, as JSON.')
flags.DEFINE_string('plot', 'report.png', 'Where the figure goes (PNG).')
flags.mark_flag_as_required('runs')


def main(_):
  with run_flags.exit_codes():
    text = paper_report.report(FLAGS.runs, FLAGS.json, FLAGS.plot)
  print(text, flush=True)


if __name__ == '__main__':
  app.run(main)
