r"""The main job: pre-train pi_p with NGU without reward, then transfer it.

  python -m behavior_transfer.launch.run_pipeline --out_dir=runs/pipeline
  python -m behavior_transfer.launch.run_pipeline --bundled=ngu_multiroom \
      --out_dir=runs/demo        # transfer the shipped pi_p; no pre-training

Defaults: MiniGrid-MultiRoom-N4-S5-v0 (six rooms), 1M steps of pre-training
(about 9 minutes on 2 cores), then 150k steps of BT and of epsilon-greedy
transfer to the level's goal (about 2.5 minutes each); every stage scales by
flag and works for any MiniGrid id and any of its tasks.
"""

from absl import app
from absl import flags

from behavior_transfer.launch import run_flags
from behavior_transfer.launching import runs
from behavior_transfer.launching import vertex
from behavior_transfer.studies import pipeline

FLAGS = flags.FLAGS
defaults = pipeline.PipelineSettings()
flags.DEFINE_string('environment', defaults.environment,
                    'Dynamics shared by pre-training and transfer.')
flags.DEFINE_string('task', defaults.task, 'The transfer task (reward '
                    'function), e.g. game, reach_third_room, reach_last_room, '
                    'goal_in_half_time, deceptive_first_room.')
flags.DEFINE_list('arms', [a.name for a in defaults.arms],
                  'Downstream agents: an exploration mode (bt, flights, '
                  'extra_action, epsilon_greedy, ez_greedy), optionally with '
                  '"+full_init" or "+partial_init" weight transfer.')
flags.DEFINE_string(
    'bundled', None, 'Skip pre-training and transfer this bundled pi_p (and '
    'its weights, for "+..._init" agents), e.g. ngu_multiroom; see '
    'policies/bundled/.')
flags.DEFINE_integer('pretrain_steps', defaults.pretrain_steps,
                     'Actor steps of reward-free pre-training.')
flags.DEFINE_integer('transfer_steps', defaults.transfer_steps,
                     'Actor steps of each transfer run.')
flags.DEFINE_float(
    'pretrain_discount', None,
    'Discount of pre-training\'s n-step return, in (0, 1] (default: NGU\'s '
    'preset, 0.95 on MiniGrid, 0.997 on Atari). A shorter horizon is what '
    'to try when the report says pi_p explores less than 2x random '
    '(docs/transfer_suite.md, the zoo).')
flags.DEFINE_float(
    'pretrain_initial_priority', None,
    'Priority of new sequences in pre-training\'s replay, > 0 (default: '
    'NGU\'s preset, 100 on MiniGrid, 1.0 on Atari). 100 enters them above '
    'the learnt priorities, so rare events are replayed before they leave; '
    'with it one UnlockPickup run of four learnt to open the locked door '
    '(docs/transfer_suite.md, the zoo).')
flags.DEFINE_enum('intrinsic_reward', defaults.intrinsic_reward,
                  ['ngu', 'rnd', 'constant'], 'Pre-training reward.')
flags.DEFINE_string(
    'preset', defaults.preset,
    'Preset of every stage: standard; on Atari also tiny (tiny '
    'network and replay: the whole pipeline in minutes, learning nothing '
    'useful) and paper (256 actors; a cluster job).')
flags.DEFINE_integer('num_actors', None, 'Actors per stage (default: the '
                     'preset\'s).')
flags.DEFINE_integer('report_episodes', defaults.report_episodes,
                     'Episodes of pi_p and of a random policy in the '
                     'zero-shot report.')
flags.DEFINE_integer('report_max_steps', None, 'Cap of each zero-shot '
                     'report episode in steps (default: the game\'s own end).')
flags.DEFINE_integer('seed', defaults.seed, 'Seed of every stage.')
run_flags.define_launch_flags()  # Of every stage.
flags.DEFINE_string('out_dir', 'runs/pipeline', 'Run directories of all '
                    'stages; an existing one is resumed.')
flags.DEFINE_bool('verbose', False, 'Show every line the nodes print; '
                  'otherwise progress, warnings and failures only.')


def main(_):
  with run_flags.exit_codes(FLAGS.out_dir):
    for name in ('pretrain_steps', 'transfer_steps'):
      runs.check_budget(getattr(FLAGS, name),
                        1 if FLAGS.num_actors is None else FLAGS.num_actors,
                        name)
    if not isinstance(run_flags.launch(), vertex.VertexLaunch):
      runs.check_run_dir(FLAGS.out_dir)
    settings = pipeline.PipelineSettings(
        environment=FLAGS.environment, task=FLAGS.task,
        arms=pipeline.parse_arms(FLAGS.arms), bundled=FLAGS.bundled,
        pretrain_steps=FLAGS.pretrain_steps,
        transfer_steps=FLAGS.transfer_steps,
        intrinsic_reward=FLAGS.intrinsic_reward,
        pretrain_discount=FLAGS.pretrain_discount,
        pretrain_initial_priority=FLAGS.pretrain_initial_priority,
        preset=FLAGS.preset,
        num_actors=FLAGS.num_actors, report_episodes=FLAGS.report_episodes,
        report_max_steps=FLAGS.report_max_steps, seed=FLAGS.seed,
        launch_type=run_flags.launch(), verbose=FLAGS.verbose)
    pipeline.validate(settings)
    report = pipeline.run(settings, FLAGS.out_dir)
  print('\n' + report, flush=True)


if __name__ == '__main__':
  app.run(main)
