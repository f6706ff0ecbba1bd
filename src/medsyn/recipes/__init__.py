"""Generation recipes: independent switches that change how rows are generated (``generation:`` in the config).

- ``examples``: fresh example rows per call, stratified or residual-aware (TabGen-ICL);
- ``novelty``: completed rows that repeat, copy an example or a train row, or lie too near one, are resampled;
- ``outside``: the first values of a row drawn outside the model (train marginals or a Gaussian copula);
- ``steering``: a logit bias pulling the run's values toward each column's train marginal;
- ``hooks``: what the decoder calls at row boundaries, built from the above.
"""
