r"""Q-values of finished runs' final networks along a scripted route.

  python -m behavior_transfer.launch.value_route \
      --run_dirs=runs/study/doorkey/hard/bt/seed_0 \
      --route=face:key,pickup,face:door,toggle,reach:goal --json=route.json

Walks each run's final network along the shortest route through the level's
events on --seeds' layouts and prints, per leg, Q of the route's action on
the leg's first step against the best primitive action's (return units),
Q(a+), how often the route's action is the greedy one, and the reward the
task paid: where the value of the reward stops on its way back.
"""

from absl import app
from absl import flags

from behavior_transfer.launch import run_flags
from behavior_transfer.studies import value_route

FLAGS = flags.FLAGS
flags.DEFINE_list('run_dirs', None, 'Transfer run directories (R2D2 or BT) '
                  'on a MiniGrid level.')
flags.DEFINE_string('route', value_route.DOORKEY_ROUTE, 'Legs, comma '
                    'separated: face:<object>, reach:<object> or an action ('
                    + ', '.join(value_route.ACTIONS) + ').')
flags.DEFINE_list('seeds', [str(seed) for seed in range(10)],
                  'Environment seeds: one layout each.')
flags.DEFINE_string('json', 'value_route.json', 'Where the tables and every '
                    'step go, as JSON.')
flags.mark_flag_as_required('run_dirs')


def main(_):
  with run_flags.exit_codes():
    text = value_route.report(FLAGS.run_dirs, FLAGS.route,
                              [int(seed) for seed in FLAGS.seeds], FLAGS.json)
  print(text, flush=True)


if __name__ == '__main__':
  app.run(main)
