r"""Makes the zoo: one NGU pi_p per suite level, bundled by name.

  python -m behavior_transfer.launch.run_zoo --levels=doorkey

Each level's pi_p comes from one recipe, NGU's defaults with the level's
budget (studies/suite.py), reward-free on the level's dynamics, seed 0. The
bundle (policies/bundled/<name>) holds the SavedModel, the Q-network's
weights, a provenance file with the exploration next to a random policy's,
and exploration.png: pi_p's exploration over pre-training (the paper's
figure 2). A run directory left by an interrupted call is resumed.
"""

import sys

from absl import app
from absl import flags

from behavior_transfer import experiments
from behavior_transfer.launch import run_flags
from behavior_transfer.policies import evaluation
from behavior_transfer.studies import bundle
from behavior_transfer.studies import suite

FLAGS = flags.FLAGS
flags.DEFINE_list('levels', [lvl.name for lvl in suite.SUITE],
                  'Suite levels whose pi_p to make.')
flags.DEFINE_integer('report_episodes', 50, 'Episodes of pi_p and of a '
                     'random policy behind the bundled exploration table.')
flags.DEFINE_string('out_dir', 'runs/zoo', 'Pre-training run directories.')
run_flags.define_launch_flags()
flags.DEFINE_bool('verbose', False, 'Show every line the nodes print.')


def main(_):
  levels = [suite.level(name) for name in FLAGS.levels]
  command = ['python -m behavior_transfer.launch.run_zoo'] + sys.argv[1:]
  for lvl in levels:
    spec = experiments.from_preset('ngu', lvl.environment, lvl.pretrain_steps)
    with run_flags.exit_codes(f'{FLAGS.out_dir}/{lvl.name}'):
      provenance = bundle.bundle_policy(
          lvl.pretrained, spec, f'{FLAGS.out_dir}/{lvl.name}',
          FLAGS.report_episodes, command, run_flags.launch(),
          verbose=FLAGS.verbose)
    print(f'\n{lvl.pretrained}: {lvl.pretrain_steps:,} reward-free steps on '
          f'{lvl.environment}\n' + evaluation.format_comparison(
              provenance['exploration']), flush=True)


if __name__ == '__main__':
  app.run(main)
