"""Mean-field micro-kinetics: mechanisms, rate constants, the batched steady-state solver.

The entry points other scales call (import them from their modules)::

    from uqms.chemistry.mechanism import load_mechanism
    from uqms.models.microkinetics.from_energies import rate_constants_at
    from uqms.models.microkinetics.steady_state import solve_steady_state
    from uqms.models.microkinetics.sensitivity import degree_of_rate_control

    mechanism = load_mechanism("ammonia_mechanism.toml")
    k = rate_constants_at(mechanism, temperature, {"E_N": e_n, ...})    # (samples, steps)
    state = solve_steady_state(mechanism, k, pressures, guess=None)    # all samples at once
    state.coverages, state.tof(), degree_of_rate_control(state)

(The package imports nothing itself. Mechanisms live in the leaf package
``uqms.chemistry``, on which energetics, micro-kinetics and reactors all build.)
"""
