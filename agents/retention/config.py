"""Knowledge retention during transfer: what keeps pi_p's knowledge in the
downstream Q-network once fine-tuning starts.

Three methods from "Fine-tuning Reinforcement Learning Models is Secretly a
Forgetting Mitigation Problem" (Wolczyk, Cupial et al. 2024), made for a
recurrent Q-learner; the defaults are that paper's where it has one:

* kickstarting (KS): lambda_t KL(pi_p(.|s) || softmax(Q(s, .) / tau)) over
  the primitive actions, on the replayed states of the agent's own acting,
  lambda_t = max(lambda_0 decay^t, floor) at learner step t;
* behavioural cloning (BC): the same KL (or DQfD's large-margin loss) on
  pi_p's own reward-free episodes, kept in a demonstration table and mixed
  into the learner's batches as R2D3 mixes demonstrations;
* elastic weight consolidation (EWC): lambda sum_i F_i (theta_i -
  theta*_i)^2 over the torso and LSTM (not the head, not a+), with theta* the
  pre-trained weights and F the diagonal Fisher of log softmax(Q / tau) at
  pi_p's action, estimated once at the start of transfer on pi_p's states.
"""

import dataclasses
import enum
from typing import Tuple


class Method(str, enum.Enum):
  """A retention method, by the name the `--arms` syntax uses."""
  KICKSTARTING = 'ks'
  BEHAVIOURAL_CLONING = 'bc'
  EWC = 'ewc'


class CloningLoss(str, enum.Enum):
  KL = 'kl'  # KL(pi_p || softmax(Q / tau)), as kickstarting.
  MARGIN = 'margin'  # DQfD: max_a [Q(s, a) + m 1(a != a_p)] - Q(s, a_p).


@dataclasses.dataclass
class RetentionConfig:
  """Which retention methods run, and their constants."""
  methods: Tuple[Method, ...] = ()

  # softmax(Q / tau): the downstream Q-network's policy in the KL terms and
  # the EWC Fisher (Q is in R2D2's rescaled space). pi_p's own distribution
  # is softmax(Q_p / pretrained_temperature) when pi_p exposes its values;
  # 0 (or a pi_p without values) makes it one-hot at pi_p's action, and the
  # KL is then a cross-entropy.
  q_temperature: float = 0.1
  pretrained_temperature: float = 0.

  # Kickstarting: coefficient lambda_0 decay^t, floored.
  kickstarting_coefficient: float = 0.5
  kickstarting_decay: float = 0.99998
  kickstarting_floor: float = 0.33

  # Behavioural cloning from pi_p's reward-free episodes.
  cloning_coefficient: float = 2.0
  cloning_loss: CloningLoss = CloningLoss.KL
  cloning_margin: float = 0.8  # DQfD's margin, for CloningLoss.MARGIN.
  # Each sequence of a learner batch comes from the demonstration table with
  # this probability (R2D3's demo ratio); it is trained on by cloning only.
  demonstration_ratio: float = 0.25
  # pi_p's environment steps written to the demonstration table (the
  # demonstrator node stops then; they are not part of the agent's budget).
  demonstration_steps: int = 20_000
  max_demonstration_size: int = 2_000  # Sequences.

  # EWC.
  ewc_coefficient: float = 100.
  fisher_batches: int = 4  # Demonstration batches the Fisher is taken over.

  def __post_init__(self):
    self.methods = tuple(sorted({Method(m) for m in self.methods},
                                key=list(Method).index))
    self.cloning_loss = CloningLoss(self.cloning_loss)
    if not 0. < self.demonstration_ratio < 1.:
      raise ValueError('demonstration_ratio is the share of each batch that '
                       'comes from demonstrations: strictly between 0 and 1, '
                       f'got {self.demonstration_ratio}.')
    if self.q_temperature <= 0. or self.pretrained_temperature < 0.:
      raise ValueError('q_temperature must be positive and '
                       'pretrained_temperature at least 0 (one-hot).')

  def uses(self, method: Method) -> bool:
    return Method(method) in self.methods

  @property
  def records_pretrained_policy(self) -> bool:
    """Actors store pi_p's action distribution with every step: KS learns
    from it, and BC's demonstrations are mixed into the same batches, so
    both tables hold the same fields."""
    return (self.uses(Method.KICKSTARTING) or
            self.uses(Method.BEHAVIOURAL_CLONING))

  @property
  def needs_demonstrations(self) -> bool:
    """A demonstrator fills a table with pi_p's episodes (BC; EWC takes its
    Fisher on them)."""
    return self.uses(Method.BEHAVIOURAL_CLONING) or self.uses(Method.EWC)
