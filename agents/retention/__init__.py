"""Knowledge retention while fine-tuning a pre-trained Q-network: kickstarting,
behavioural cloning and EWC (Wolczyk, Cupial et al. 2024) for the recurrent
Q-learner, alone or with Behavior Transfer.

`RetentionConfig` (in `BTConfig.retention`) picks the methods; `losses` holds
the terms the R2D2 learner adds to its TD loss; `demonstrations` the
demonstrator's actor and table (pi_p's own episodes, for BC and EWC).
"""

from behavior_transfer.agents.retention.config import CloningLoss
from behavior_transfer.agents.retention.config import Method
from behavior_transfer.agents.retention.config import RetentionConfig
from behavior_transfer.agents.retention.demonstrations import DemonstrationActor
from behavior_transfer.agents.retention.losses import BehaviouralCloning
from behavior_transfer.agents.retention.losses import ElasticWeightConsolidation
from behavior_transfer.agents.retention.losses import Kickstarting
from behavior_transfer.agents.retention.losses import make_losses
