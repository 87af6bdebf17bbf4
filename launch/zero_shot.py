r"""pi_p's zero-shot returns under every task, and its exploration, next to a
uniformly random policy on the same episodes' seeds.

  python -m behavior_transfer.launch.zero_shot --pretrained=ngu_doorkey \
      --environment=minigrid:MiniGrid-DoorKey-6x6-v0 --episodes=50 \
      --json=zero_shot.json [--epsilon=0.1]

pi_p is a bundled policy or any exported one, e.g. the pi_p of a
pre-training run: --pretrained=exported:runs/ngu/policy.

What pi_p does on a task before any transfer: whether its own behaviour goes
through a hard task's penalised events to the rewarded one.
"""

import json

from absl import app
from absl import flags

from behavior_transfer.launch import run_flags
from behavior_transfer.policies import evaluation
from behavior_transfer.policies import sources

FLAGS = flags.FLAGS
flags.DEFINE_string(
    'pretrained', None, 'pi_p: a bundled policy\'s name (or '
    '"bundled:<name>"), or "exported:<dir>" for a SavedModel such as a '
    'pre-training run\'s <run_dir>/policy.')
flags.DEFINE_string('environment', None, 'Where it acts, e.g. '
                    'minigrid:MiniGrid-DoorKey-6x6-v0.')
flags.DEFINE_integer('episodes', 50, 'Greedy episodes of pi_p, and as many of '
                     'a random policy.')
flags.DEFINE_integer('seed', 0, 'Seeds the episodes and the random policy.')
flags.DEFINE_float(
    'epsilon', 0., 'pi_p takes a uniformly random action with this '
    'probability at each step (its recurrent state still follows every '
    'observation). A greedy pi_p that explores less than random but more '
    'with a little epsilon is looping, not stuck.')
flags.DEFINE_string('json', None, 'Also write the table here, as JSON.')
flags.mark_flags_as_required(['pretrained', 'environment'])


def main(_):
  with run_flags.exit_codes():
    comparison = evaluation.compare_with_random(
        sources.saved_model_path(FLAGS.pretrained), FLAGS.environment,
        FLAGS.episodes, FLAGS.seed, epsilon=FLAGS.epsilon)
  print(evaluation.format_comparison(comparison, FLAGS.epsilon), flush=True)
  if FLAGS.json:
    with open(FLAGS.json, 'w') as f:
      json.dump({'pretrained': FLAGS.pretrained,
                 'environment': FLAGS.environment,
                 'episodes': FLAGS.episodes, 'seed': FLAGS.seed,
                 'epsilon': FLAGS.epsilon,
                 **comparison}, f, indent=1)


if __name__ == '__main__':
  app.run(main)
