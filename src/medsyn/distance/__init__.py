"""The row distance shared by generation and evaluation, below both: the evaluation's privacy metrics, the novelty
judge's near-copy check and the examples' nearest neighbours measure rows with the same kernel.

- ``medsyn.distance.gower``: the mixed-type (Gower-style L1) distance, as an encoding of rows (``encode``,
  ``RowEncoder`` for one row at a time, ``categorical_slice``);
- ``medsyn.distance.search``: exact k-nearest rows in bounded memory (``nearest``, ``Base``, ``unique_rows``).
"""

from medsyn.distance.gower import RowEncoder, categorical_slice, encode, encoded_width
from medsyn.distance.search import Base, nearest, unique_rows

__all__ = ["Base", "RowEncoder", "categorical_slice", "encode", "encoded_width", "nearest", "unique_rows"]
