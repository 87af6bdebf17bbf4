"""Reward-free pre-training with NGU (Badia et al. 2020): the intrinsic
reward, its models, their learner and the builder of the pre-training
agent."""

from behavior_transfer.agents.ngu.builder import NGUBuilder
from behavior_transfer.agents.ngu.config import IntrinsicReward
from behavior_transfer.agents.ngu.config import NGUConfig
from behavior_transfer.agents.ngu.config import preset
from behavior_transfer.agents.ngu.learning import NGULearner
from behavior_transfer.agents.ngu.networks import IntrinsicModels
from behavior_transfer.agents.ngu.reward_wrapper import IntrinsicRewardBatch
from behavior_transfer.agents.ngu.reward_wrapper import IntrinsicRewardWrapper
from behavior_transfer.agents.ngu.rewards import EpisodicNovelty
from behavior_transfer.agents.ngu.rewards import IntrinsicRewardFunction
from behavior_transfer.agents.ngu.rewards import LifelongModulator
