"""Distributed R2D2 (Kapturowski et al. 2019) on Acme, Reverb and Launchpad."""
