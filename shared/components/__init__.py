"""L2-style constructs: one concern each, secure defaults, typed props.

Raw provider resources live only here; stacks compose these constructs.
"""
