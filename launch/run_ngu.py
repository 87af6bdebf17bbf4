r"""Pre-trains an exploratory policy pi_p without reward (NGU) on Launchpad.

  python -m behavior_transfer.launch.run_ngu \
      --environment=minigrid:MiniGrid-MultiRoom-N2-S4-v0 \
      --max_actor_steps=40000 --run_dir=runs/ngu

pi_p is exported to <run_dir>/policy (load it with --pretrained=exported:...),
the weights to <run_dir>/checkpoints/learner (for --weight_init). At the end,
pi_p's zero-shot return under every task and its exploration are printed next
to a uniformly random policy's. With --bundle_as=<name> pi_p is also copied
into the package (policies/bundled/<name>, with a provenance file), loadable
as --pretrained=bundled:<name>.
"""

import sys

from absl import app
from absl import flags

from behavior_transfer import experiments
from behavior_transfer.agents.ngu import config as ngu_config
from behavior_transfer.launch import run_flags
from behavior_transfer.launching import reports
from behavior_transfer.policies import bundled
from behavior_transfer.policies import evaluation
from behavior_transfer.studies import bundle

FLAGS = run_flags.FLAGS
run_flags.define_run_flags(environment='minigrid:MiniGrid-MultiRoom-N2-S4-v0',
                           run_dir='runs/ngu', max_actor_steps=40_000)
flags.adopt_module_key_flags(run_flags)  # --help lists the shared flags too.
flags.DEFINE_enum(
    'intrinsic_reward', 'ngu', [r.value for r in ngu_config.IntrinsicReward],
    'ngu: episodic novelty x RND modulation; rnd: RND error alone; constant: '
    '+1 per step (favours long episodes).')
flags.DEFINE_bool(
    'rnd_observation_normalization', None,
    'Whiten RND inputs by running observation statistics, clipped to [-5, 5] '
    '(NGU and RND do); --nornd_observation_normalization feeds them raw, for '
    'ablations.')
flags.DEFINE_integer(
    'rnd_statistics_horizon', None,
    'The RND error\'s mean and std that set alpha follow each '
    'environment\'s latest ~N errors (default: the preset\'s, 1000 on '
    'MiniGrid). 0 keeps all errors since the actor started, whose first '
    'ones, before RND learns, hold alpha at 1: the Atari preset\'s, and '
    'what runs made before MiniGrid\'s default changed resume with.')
flags.DEFINE_integer(
    'n_step', None, 'n of the n-step return (NGU itself uses '
    'Retrace(0.95)).')
flags.DEFINE_float(
    'intrinsic_batch_fraction', None,
    'Fraction of each replay batch that trains the embedding and RND '
    'predictor (NGU: 1).')
flags.DEFINE_bool(
    'bootstrap_at_level_end', None,
    'Treat the level\'s own ends (goal reached, life lost) as time limits, '
    'so the intrinsic return does not stop there and pi_p does not learn to '
    'avoid the goal (default: the preset\'s).')
flags.DEFINE_integer('report_episodes', 20, 'Episodes of pi_p and of a '
                     'random policy for the final zero-shot report.')
flags.DEFINE_string(
    'bundle_as', None, 'Also ship pi_p inside the package as '
    'policies/bundled/<name> with a provenance file (this command, commit, '
    'seed, steps, wall time, exploration next to random); replaces a '
    'bundled policy of that name.')


def make_spec():
  """The pre-training run the flags describe: NGU's preset for the
  environment, with every flag that is set replacing its field."""
  return experiments.override(
      run_flags.make_spec('ngu'), r2d2=dict(n_step=FLAGS.n_step),
      config=dict(
          intrinsic_reward=ngu_config.IntrinsicReward(FLAGS.intrinsic_reward),
          rnd_observation_normalization=FLAGS.rnd_observation_normalization,
          rnd_statistics_horizon=FLAGS.rnd_statistics_horizon,
          intrinsic_batch_fraction=FLAGS.intrinsic_batch_fraction,
          bootstrap_at_level_end=FLAGS.bootstrap_at_level_end))


def main(_):
  with run_flags.exit_codes(FLAGS.run_dir):
    run_flags.check_run_flags()
    if FLAGS.bundle_as:
      bundled.check_new_name(FLAGS.bundle_as)
    spec = make_spec()
    if FLAGS.bundle_as:
      provenance = bundle.bundle_policy(
          FLAGS.bundle_as, spec, FLAGS.run_dir, FLAGS.report_episodes,
          ['python -m behavior_transfer.launch.run_ngu'] + sys.argv[1:],
          run_flags.launch(), FLAGS.overwrite, verbose=FLAGS.verbose)
      comparison = {key: provenance['exploration'][key]
                    for key in ('pi_p', 'random', 'reachable')
                    if key in provenance['exploration']}
      summary = reports.summarize(FLAGS.run_dir)
      print(f'Bundled as {FLAGS.bundle_as!r}: --pretrained=bundled:'
            f'{FLAGS.bundle_as}', flush=True)
    else:
      summary = experiments.run(spec, FLAGS.run_dir, run_flags.launch(),
                                FLAGS.overwrite, verbose=FLAGS.verbose)
      comparison = evaluation.compare_with_random(
          experiments.policy_dir(FLAGS.run_dir), spec.environment,
          FLAGS.report_episodes, FLAGS.seed)
  print(f'\n{FLAGS.intrinsic_reward} pre-training on {FLAGS.environment} '
        f'finished; run directory {FLAGS.run_dir}\n'
        f'{reports.format_summary(summary)}\n'
        f'  pi_p: {experiments.policy_dir(FLAGS.run_dir)}\n'
        f'  weights: {experiments.weights_dir(FLAGS.run_dir)}\n'
        f'  learning curve: {FLAGS.run_dir}/learning_curve.png\n\n'
        f'{evaluation.format_comparison(comparison)}', flush=True)


if __name__ == '__main__':
  app.run(main)
