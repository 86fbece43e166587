"""Fairness measures for the distribution report."""


def jain_index(values):
    """Jain's fairness index of non-negative values: 1 = perfectly fair, 1/n = one takes all.

    Values are received/expected ratios per agent. Empty or all-zero -> 1.0.
    """
    values = [float(v) for v in values]
    if not values:
        return 1.0
    square_sum = sum(v * v for v in values)
    if not square_sum:
        return 1.0
    return sum(values) ** 2 / (len(values) * square_sum)
