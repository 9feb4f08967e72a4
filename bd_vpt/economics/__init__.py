"""The figures: pure functions from records to numbers (metrics, pricing, budgets and
alerts, baselines and marginal VPT, FOCUS rows). No I/O, no git, no click.
"""
