"""Reactor scale: isothermal, isobaric CSTR and plug-flow reactor on a micro-kinetic surface.

Gas compositions are molar flows (mol/s) of ``mechanism.gas``; the catalyst is counted in
moles of active sites, so a turnover frequency (1/s per site) times the sites is a molar
flow. The gas-phase change is carried by the extents (mol/s) of the mechanism's independent
overall reactions, found from its catalytic cycles (one or several). Entry points::

    from uqms.models.reactor.conditions import ReactorConditions
    from uqms.models.reactor.cstr import solve_cstr
    from uqms.models.reactor.pfr import integrate_pfr
    from uqms.models.reactor.stages import CSTRStage, PFRStage   # reactor.cstr, reactor.pfr
"""
