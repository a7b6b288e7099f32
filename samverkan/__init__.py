"""The composition root: settings, wiring, the command line and the console. The only package that knows all
the others."""
