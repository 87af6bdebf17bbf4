"""The pipeline's settings: agent names and stage names are checked up front."""

import pandas as pd
import pytest

from behavior_transfer.policies import evaluation
from behavior_transfer.policies import pretrained
from behavior_transfer.studies import pipeline


def test_arms_parse_modes_and_weight_initialisation():
  arms = pipeline.parse_arms(['bt', 'epsilon_greedy+partial_init',
                              'bt+full_init'])
  assert [(a.exploration, a.weight_init) for a in arms] == [
      ('bt', 'none'), ('epsilon_greedy', 'partial'), ('bt', 'full')]
  assert [a.name for a in arms] == ['bt', 'epsilon_greedy+partial_init',
                                    'bt+full_init']


@pytest.mark.parametrize('name', ['bt+half_init', 'curious', 'bt+'])
def test_unknown_arms_list_the_valid_ones(name):
  with pytest.raises(ValueError, match='ez_greedy.*partial_init'):
    pipeline.parse_arms([name])


def test_unknown_task_or_reward_is_refused_before_anything_runs():
  with pytest.raises(ValueError, match='deceptive_first_room'):
    pipeline.validate(pipeline.PipelineSettings(task='gaol'))
  with pytest.raises(ValueError, match='curiosity'):
    pipeline.validate(pipeline.PipelineSettings(intrinsic_reward='curiosity'))


@pytest.mark.parametrize(
    'field,value,transfer_value,ngu_value,label,bad,error', [
        ('discount', 0.9, 0.99, 0.95, 'discount 0.9', 1.5,
         r'discount.*\(0, 1\]'),
        ('initial_priority', 10., 1., 100., 'initial priority 10', 0.,
         'initial_priority must be positive')])
def test_pretrain_flags_set_pre_training_alone(field, value, transfer_value,
                                               ngu_value, label, bad, error):
  """--pretrain_<field> sets NGU's value; transfer keeps R2D2's preset, and
  without the flag NGU's MiniGrid preset holds."""
  name = f'pretrain_{field}'
  settings = pipeline.PipelineSettings(**{name: value},
                                       arms=pipeline.parse_arms(['bt']))
  pipeline.validate(settings)
  assert getattr(pipeline.pretrain_spec(settings).config.r2d2, field) == value
  transfer = pipeline.transfer_spec(settings, ('exported:p', 'w'), 'game',
                                    settings.arms[0])
  assert getattr(transfer.config.r2d2, field) == transfer_value
  assert getattr(pipeline.pretrain_spec(pipeline.PipelineSettings()
                                        ).config.r2d2, field) == ngu_value
  assert label in pipeline.describe_pretraining(settings)
  with pytest.raises(ValueError, match=error):
    pipeline.validate(pipeline.PipelineSettings(**{name: bad}))
  with pytest.raises(ValueError, match=f'skips pre-training; --{name} has'):
    pipeline.validate(pipeline.PipelineSettings(bundled='ngu_doorkey',
                                                **{name: value}))


def test_solved_counts_the_tasks_own_success_not_its_lure():
  episodes = pd.DataFrame({
      'episode_return': [0.4, 1.2, 1.0, 0.0],
      'return_game': [0., 0.8, 0., 0.],
      'return_reach_third_room': [0., 1., 1., 0.]})
  assert list(pipeline.solved(episodes, 'deceptive_first_room')) == [
      False, True, False, False]
  assert list(pipeline.solved(episodes, 'reach_third_room')) == [
      False, True, True, False]
  # Environments without task measures: the logged return itself.
  assert list(pipeline.solved(episodes[['episode_return']], 'game')) == [
      True, True, True, False]


def test_zero_shot_episodes_stop_at_the_step_cap():
  environment = 'minigrid:MiniGrid-Empty-5x5-v0'
  policy = pretrained.RandomPolicy(7, seed=0)
  # One step reaches at most one new cell; a whole random episode more.
  capped = evaluation.policy_measures(policy, environment, 3, max_steps=1)
  whole = evaluation.policy_measures(policy, environment, 3)
  assert capped['distinct_cells'] <= 2 < whole['distinct_cells']
