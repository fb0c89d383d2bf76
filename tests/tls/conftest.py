"""The test PKI, made once per module with the openssl CLI (tls_support.py)."""

import pytest

from tls_support import make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))
