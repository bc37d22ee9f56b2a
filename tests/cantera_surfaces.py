"""Cantera input (YAML text) for the tests' surface mechanisms of CO isomers with given rate constants.

Every species is CO (or the free site PT(S)) with a flat thermochemistry: each reverse reaction is
written as a reaction of its own, so Cantera needs no thermochemistry. Site density 1 kmol/m^2
makes Cantera's surface rate constants per site; its adsorption rate constants take the gas
concentration p / RT instead of the pressure in bar (see :func:`per_bar`).
"""

FLAT = "{model: constant-cp, T0: 298.15, h0: 0, s0: 0, cp0: 0}"
FREE_SITE = "PT(S)"


def per_bar(T: float) -> float:
    """Gas concentration of 1 bar at ``T`` K, kmol/m^3 (divide an adsorption rate constant per bar by it)."""
    import cantera as ct  # in the test extras

    return 1e5 / (ct.gas_constant * T)


def co_isomer_surface(T: float, P: float, gases: list[str], adsorbates: list[str],
                      reactions: list[tuple[str, float, float, float]]) -> str:
    """Phases ``gas`` (``gases``, filled with the first) and ``surf`` (free site, then ``adsorbates``)
    at ``T`` K and ``P`` Pa; ``reactions`` as (equation, A, b, Ea in eV), each one way."""
    species = [f"- {{name: {name}, composition: {{C: 1, O: 1}}, thermo: {FLAT}}}" for name in gases]
    species.append(f"- {{name: {FREE_SITE}, composition: {{}}, thermo: {FLAT}}}")
    species += [f"- {{name: {name}, composition: {{C: 1, O: 1}}, thermo: {FLAT}}}" for name in adsorbates]
    lines = [f"- {{equation: {equation}, rate-constant: {{A: {A}, b: {b}, Ea: {Ea}}}}}" for equation, A, b, Ea in reactions]
    return f"""
units: {{length: m, quantity: kmol, activation-energy: eV}}
phases:
- name: gas
  thermo: ideal-gas
  elements: [C, O]
  species: [{", ".join(gases)}]
  state: {{T: {T}, P: {P}, X: {{{gases[0]}: 1.0}}}}
- name: surf
  thermo: ideal-surface
  adjacent-phases: [gas]
  elements: [C, O]
  species: [{", ".join([FREE_SITE, *adsorbates])}]
  kinetics: surface
  reactions: all
  site-density: 1.0
  state: {{T: {T}, P: {P}, coverages: {{{FREE_SITE}: 1.0}}}}
species:
{chr(10).join(species)}
reactions:
{chr(10).join(lines)}
"""
