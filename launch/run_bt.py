r"""Transfers a pre-trained policy's behaviour to a task with Behavior Transfer.

  python -m behavior_transfer.launch.run_bt \
      --environment=minigrid:MiniGrid-MultiRoom-N2-S4-v0 --exploration=bt \
      --pretrained=scripted:door_seeker --max_actor_steps=40000 --run_dir=runs/bt
"""

from absl import app
from absl import flags

from behavior_transfer import experiments
from behavior_transfer.agents.bt import config as bt_config
from behavior_transfer.agents.retention import config as retention_config
from behavior_transfer.launch import run_flags
from behavior_transfer.launching import reports

FLAGS = run_flags.FLAGS
run_flags.define_run_flags(environment='minigrid:MiniGrid-MultiRoom-N2-S4-v0',
                           run_dir='runs/bt', max_actor_steps=40_000)
flags.adopt_module_key_flags(run_flags)  # --help lists the shared flags too.
flags.DEFINE_enum(
    'exploration', 'bt', [e.value for e in bt_config.Exploration],
    'bt: flights of pi_p + extra action a+; flights: flights only; '
    'extra_action: a+ only; epsilon_greedy: plain R2D2; ez_greedy: flights '
    'repeating one random action (Dabney et al. 2021).')
flags.DEFINE_string(
    'pretrained', 'scripted:door_seeker',
    'The frozen pre-trained policy pi_p: "random", "scripted:door_seeker", '
    '"bundled:<name>" (shipped with the package, e.g. bundled:ngu_multiroom), '
    '"exported:<dir>" (from export_policy) or "checkpoint:<dir>" (a learner '
    'checkpoint, e.g. <run_dir>/checkpoints/learner); several, '
    'comma-separated, give the agent one extra action a+_k each. Ignored by '
    'the '
    'epsilon_greedy and ez_greedy baselines unless --retention names a '
    'method.')
flags.DEFINE_float('levy_epsilon_base', None,
                   'Flight start probability of acting environment 0; '
                   'environment i of N uses base ** (1 + alpha * i / (N - 1)).')
flags.DEFINE_float('levy_epsilon_alpha', None,
                   'Exponent of the flight ladder.')
flags.DEFINE_enum(
    'weight_init', 'none', ['none', 'full', 'partial'],
    'Weight transfer into the Q-network from --weights: full (every weight; '
    'the a+ output stays fresh) or partial (torso and LSTM; fresh head).')
flags.DEFINE_string('weights', None, 'Pre-training learner checkpoint '
                    'directory for --weight_init, e.g. '
                    'runs/ngu/checkpoints/learner, or bundled:<name> for the '
                    'weights of a bundled policy.')
flags.DEFINE_list(
    'retention', [], 'Knowledge retention while fine-tuning (docs/agents.md): '
    'ks (kickstarting towards pi_p on the agent\'s states), bc (behavioural '
    'cloning of pi_p\'s own episodes, mixed into the batches), ewc (elastic '
    'weight consolidation of torso and LSTM; needs --weight_init).')
flags.DEFINE_float('kickstarting_coefficient', None,
                   'lambda_0 of kickstarting (decays per learner step).')
flags.DEFINE_float('cloning_coefficient', None,
                   'Weight of the behavioural cloning loss.')
flags.DEFINE_float('ewc_coefficient', None, 'lambda of EWC.')
flags.DEFINE_enum('flight_policy_choice', 'uniform',
                  [c.value for c in bt_config.PolicyChoice],
                  'With several --pretrained, which one a flight runs: '
                  'uniform, or softmax over Q(s, a+_k).')
flags.DEFINE_enum('flight_lengths', 'zeta',
                  [d.value for d in bt_config.FlightLengths],
                  'Flight length distribution: zeta (the paper\'s Zeta(2)) '
                  'or geometric with --flight_length_mean.')
flags.DEFINE_float('flight_length_mean', 10., 'Mean of geometric flights.')
flags.DEFINE_float('flight_end_margin', None, 'Value-ended flights: a flight '
                   'also ends when the greedy primitive value exceeds '
                   'Q(s, a+_k) by this margin.')
flags.DEFINE_enum('guidance', 'none', [g.value for g in bt_config.Guidance],
                  'Episode-start guidance: the first pi_p (see '
                  '--guide_policy) acts for the first h steps of every '
                  'episode, h on JSRL\'s curriculum or drawn per episode.')
flags.DEFINE_integer('guide_policy', 0, 'Which --pretrained guides.')
flags.DEFINE_integer('guidance_horizon', 100, 'The largest h.')


def retention_from_flags() -> retention_config.RetentionConfig:
  given = {name: getattr(FLAGS, name) for name in (
      'kickstarting_coefficient', 'cloning_coefficient', 'ewc_coefficient')
           if getattr(FLAGS, name) is not None}
  return retention_config.RetentionConfig(methods=FLAGS.retention, **given)


def handover_from_flags() -> bt_config.HandoverConfig:
  return bt_config.HandoverConfig(
      flight_policy_choice=FLAGS.flight_policy_choice,
      flight_length_distribution=FLAGS.flight_lengths,
      flight_length_mean=FLAGS.flight_length_mean,
      flight_end_margin=FLAGS.flight_end_margin, guidance=FLAGS.guidance,
      guide_policy=FLAGS.guide_policy,
      guidance_horizon=FLAGS.guidance_horizon)


def main(_):
  with run_flags.exit_codes(FLAGS.run_dir):
    run_flags.check_run_flags()
    spec = experiments.override(
        run_flags.make_spec('bt', pretrained=FLAGS.pretrained,
                            weight_init=FLAGS.weight_init,
                            weights_checkpoint=FLAGS.weights),
        config=dict(exploration=bt_config.Exploration(FLAGS.exploration),
                    levy_epsilon_base=FLAGS.levy_epsilon_base,
                    levy_epsilon_alpha=FLAGS.levy_epsilon_alpha,
                    retention=retention_from_flags(),
                    handover=handover_from_flags()))
    summary = experiments.run(spec, FLAGS.run_dir, run_flags.launch(),
                              FLAGS.overwrite, verbose=FLAGS.verbose)
  print(f'\n{FLAGS.exploration} on {FLAGS.environment} ({FLAGS.task}) with '
        f'pi_p {FLAGS.pretrained} finished; run directory {FLAGS.run_dir}\n'
        f'{reports.format_summary(summary)}\n'
        f'  learning curve: {FLAGS.run_dir}/learning_curve.png', flush=True)


if __name__ == '__main__':
  app.run(main)
