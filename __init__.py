"""Behavior Transfer (BT) on the DeepMind stack: Acme, Reverb and Launchpad."""
