"""Custom Lava processes for the snnc Lava peer.

They live in their own package on purpose: when compiling a Process, Lava
0.10.0 executes EVERY .py file in the directory of that Process's module to
look for ProcessModels (lava/magma/compiler/compiler_graphs.py
ProcGroupDiGraphs._find_proc_models: pkgutil.iter_modules + exec_module).
Keep only side-effect-free process/model modules in this directory.
"""
