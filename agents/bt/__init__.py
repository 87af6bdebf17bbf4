"""Behavior Transfer (Campos et al. 2021): R2D2 that explores with a frozen
pre-trained policy pi_p, through flights and the extra action a+.

The exploration logic is `actor.BehaviorTransferActor` (Algorithm 1 of the
paper). `make_actor` gives it to Acme's `EnvironmentLoop` for one
environment, and `ActorMetricsObserver` adds its per-episode metrics to that
loop's results. `adder.make_adder` writes what the extra-action learner
(`learning.ExtraActionLearner`) needs; `BTBuilder` makes every piece
(`distributed.layout` lays them out as a Launchpad program).
"""

from behavior_transfer.acting.batched_loop import ActorMetricsObserver
from behavior_transfer.acting.batched_loop import SingleEnvironmentActor
from behavior_transfer.agents.bt.actor import BehaviorTransferActor
from behavior_transfer.agents.bt.actor import make_actor
from behavior_transfer.agents.bt.adder import make_adder
from behavior_transfer.agents.bt.adder import signature as replay_signature
from behavior_transfer.agents.bt.builder import BTBuilder
from behavior_transfer.agents.bt.config import BTConfig
from behavior_transfer.agents.bt.config import Exploration
from behavior_transfer.agents.bt.config import preset
from behavior_transfer.agents.bt.learning import ExtraActionLearner
