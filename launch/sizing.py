r"""Prints what each config preset needs: actors, network, replay memory.

  python -m behavior_transfer.launch.sizing --environment=atari:ms_pacman

For every preset of the environment's domain (Atari: standard, paper, tiny)
and every agent (R2D2, BT, NGU pre-training): actors x environments, the
Q-network's parameters, replay sequences and the bytes one step takes in
replay, the memory a full replay holds, and the machines a Vertex AI launch
would ask for. The same figures go to --json.
"""

import json

from absl import app
from absl import flags

from behavior_transfer.launch import run_flags
from behavior_transfer.studies import sizing

FLAGS = flags.FLAGS
flags.DEFINE_string('environment', 'atari:ms_pacman',
                    'Dynamics as "<domain>:<name>".')
flags.DEFINE_string('json', None, 'Also write the table here as JSON.')


def main(_):
  with run_flags.exit_codes():
    rows = sizing.describe_all(FLAGS.environment)
  print(f'Presets on {FLAGS.environment} (replay sizes uncompressed; Reverb '
        'compresses frames, so they are upper bounds):')
  print(sizing.format_table(rows), flush=True)
  if FLAGS.json:
    with open(FLAGS.json, 'w') as f:
      json.dump(rows, f, indent=2)


if __name__ == '__main__':
  app.run(main)
