"""The synthetic GridMind grid: physically coherent, labelled data for every source.

Pure generators live in one module per source (``regions``, ``weather``, ``load``,
``renewables``, ``dispatch`` (with ``fleet`` and ``zonal``), ``market``, ``scada``, ``pmu``,
``meters``, ``satellite``; ``system`` runs the system sources together);
each takes frames and a ``numpy.random.Generator`` and returns frames (or an xarray
Dataset), never touching storage. :mod:`workbench.sim.build` writes them through ``io``.
"""
