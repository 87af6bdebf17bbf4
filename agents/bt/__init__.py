"""Behavior Transfer (Campos et al. 2021): R2D2 that explores with a frozen
pre-trained policy pi_p, through flights and the extra action a+.

The exploration logic is `actor.BehaviorTransferActor` (Algorithm 1 of the
paper); `adder.make_adder` writes what the extra-action learner
(`learning.ExtraActionLearner`) needs; `BTBuilder` makes every piece and
`make_program_builder` lays them out as a Launchpad program.
"""

from behavior_transfer.agents.bt.actor import BehaviorTransferActor
from behavior_transfer.agents.bt.adder import make_adder
from behavior_transfer.agents.bt.adder import signature as replay_signature
from behavior_transfer.agents.bt.builder import BTBuilder
from behavior_transfer.agents.bt.config import BTConfig
from behavior_transfer.agents.bt.config import Exploration
from behavior_transfer.agents.bt.experiment import default_config
from behavior_transfer.agents.bt.experiment import make_program_builder
from behavior_transfer.agents.bt.experiment import run
from behavior_transfer.agents.bt.learning import ExtraActionLearner
