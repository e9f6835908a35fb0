"""The entries of the PyTorch API model, one module per kind of op.

Each ``op(...)``/``module_class(...)`` call in these modules is one entry; see
:mod:`torchlint.analysis.api` for what the fields mean.  Examples are checked against
real PyTorch by ``tests/test_api_model.py``.  A new op is one row in the module of its kind:

* ``creation.py``: ``torch.tensor``, ``randn``/``zeros``/..., ``full``, ``arange``, ``*_like``, ``Tensor.new_*``;
* ``pointwise.py``: unary and binary element-wise ops, comparisons, casts, activations, softmax, ``detach``;
* ``reductions.py``: ``sum``/``mean``/``max``/..., ``std``/``var``, ``norm``, ``logsumexp``, cumulative ops;
* ``linalg.py``: ``matmul``, ``mm``, ``bmm``, ``dot``, ``F.linear``, ``einsum``, ``tensordot``, ``eigh``;
* ``shape_ops.py``: views and reshapes, joining and splitting, selecting, ``topk``/``sort``, ``flip``, ``diag``;
* ``conversions.py``: ``.item()``, ``.tolist()``, ``.numpy()``;
* ``losses.py``: every loss in ``torch.nn`` and ``torch.nn.functional``;
* ``layers.py``: common ``nn`` layers; ``vision.py``: convolutions, pooling, upsampling;
* ``dtypes.py``: ``.to()``/``.type()`` and the legacy typed constructors;
* ``spectral.py``: ``torch.fft``, ``multinomial``; ``runtime.py``: seeds, devices, predicates, ``nn.init``;
* ``indexing.py``: scatter and index writes, grids, windows, padding, attention and other ops real code calls.

Importing this module registers them all, in this order (a name that two entries model is the later one's).
"""
from __future__ import annotations

from torchlint.analysis.api import creation as _creation  # noqa: F401
from torchlint.analysis.api import pointwise as _pointwise  # noqa: F401
from torchlint.analysis.api import reductions as _reductions  # noqa: F401
from torchlint.analysis.api import linalg as _linalg  # noqa: F401
from torchlint.analysis.api import shape_ops as _shape_ops  # noqa: F401
from torchlint.analysis.api import conversions as _conversions  # noqa: F401
from torchlint.analysis.api import losses as _losses  # noqa: F401
from torchlint.analysis.api import layers as _layers  # noqa: F401
from torchlint.analysis.api import dtypes as _dtypes  # noqa: F401
from torchlint.analysis.api import vision as _vision  # noqa: F401
from torchlint.analysis.api import spectral as _spectral  # noqa: F401
from torchlint.analysis.api import runtime as _runtime  # noqa: F401
from torchlint.analysis.api import indexing as _indexing  # noqa: F401
