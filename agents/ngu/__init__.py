"""Reward-free pre-training with NGU (Badia et al. 2020): intrinsic reward, its models and the pre-training program."""
