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


def test_pretrain_discount_sets_pre_training_alone():
  settings = pipeline.PipelineSettings(pretrain_discount=0.9,
                                       arms=pipeline.parse_arms(['bt']))
  pipeline.validate(settings)
  assert pipeline.pretrain_spec(settings).config.r2d2.discount == 0.9
  transfer = pipeline.transfer_spec(settings, ('exported:p', 'w'), 'game',
                                    settings.arms[0])
  assert transfer.config.r2d2.discount == 0.99  # R2D2's preset.
  assert pipeline.pretrain_spec(pipeline.PipelineSettings()
                                ).config.r2d2.discount == 0.95  # NGU's.
  assert 'discount 0.9' in pipeline.describe_pretraining(settings)
  with pytest.raises(ValueError, match=r'discount.*\(0, 1\]'):
    pipeline.validate(pipeline.PipelineSettings(pretrain_discount=1.5))
  with pytest.raises(ValueError, match='skips pre-training'):
    pipeline.validate(pipeline.PipelineSettings(bundled='ngu_doorkey',
                                                pretrain_discount=0.95))


def test_pretrain_initial_priority_sets_pre_training_alone():
  settings = pipeline.PipelineSettings(pretrain_initial_priority=10.,
                                       arms=pipeline.parse_arms(['bt']))
  pipeline.validate(settings)
  assert pipeline.pretrain_spec(settings).config.r2d2.initial_priority == 10
  transfer = pipeline.transfer_spec(settings, ('exported:p', 'w'), 'game',
                                    settings.arms[0])
  assert transfer.config.r2d2.initial_priority == 1.0  # R2D2's preset.
  assert pipeline.pretrain_spec(pipeline.PipelineSettings()
                                ).config.r2d2.initial_priority == 100  # NGU's.
  assert 'initial priority 10' in pipeline.describe_pretraining(settings)
  with pytest.raises(ValueError, match='initial_priority must be positive'):
    pipeline.validate(pipeline.PipelineSettings(pretrain_initial_priority=0.))
  with pytest.raises(ValueError, match='--pretrain_initial_priority has'):
    pipeline.validate(pipeline.PipelineSettings(
        bundled='ngu_doorkey', pretrain_initial_priority=100.))


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
