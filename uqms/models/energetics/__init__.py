"""Energetics: scaling and BEP relations, gas free-energy corrections, a mechanism's energies."""
