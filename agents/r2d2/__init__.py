"""Distributed R2D2 (Kapturowski et al. 2019) on Acme, Reverb and Launchpad."""

from behavior_transfer.acting.batched_loop import SingleEnvironmentActor
from behavior_transfer.agents.r2d2.actor import EpsilonGreedyActor
from behavior_transfer.agents.r2d2.actor import make_actor
from behavior_transfer.agents.r2d2.builder import make_replay_table
from behavior_transfer.agents.r2d2.builder import R2D2Builder
from behavior_transfer.agents.r2d2.config import preset
from behavior_transfer.agents.r2d2.config import PRESETS
from behavior_transfer.agents.r2d2.config import R2D2Config
from behavior_transfer.agents.r2d2.learning import R2D2Learner
