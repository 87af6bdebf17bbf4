"""Behavior Transfer (paper section 3): the BT actor, adder, extra-action learner and transfer program."""
