"""Atomistic models built with ASE: nanoparticles, coordination numbers, cached calculator energies, BEEF ensembles."""
