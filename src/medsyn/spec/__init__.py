"""Dataset specs: the declarative description of one medical table (``config/datasets/<name>.yaml``).

``model`` holds the data (``Column``, ``Rule``, ``DatasetSpec``), ``rules`` the load-time checks of a spec's
clinical rules against its columns, ``load`` the YAML loading and every other check (``load_spec``,
``spec_from_dict``). Import from here: ``from medsyn.spec import DatasetSpec, load_spec``.
"""

from medsyn.spec.model import MISSING_TEXT, NUMERIC_TYPES, Column, DatasetSpec, Rule
from medsyn.spec.load import load_spec, spec_from_dict

__all__ = ["MISSING_TEXT", "NUMERIC_TYPES", "Column", "DatasetSpec", "Rule", "load_spec", "spec_from_dict"]
