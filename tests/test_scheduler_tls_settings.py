"""TLS settings of a tls:// scheduler: given, from Dask's configuration, or refused naming the key."""

import dask
import pytest
from distributed.security import Security

from uqms.errors import UqmsError
from uqms.execution.scheduler import security_for


@pytest.fixture
def files(tmp_path):
    paths = {key: tmp_path / f"{key}.pem" for key in ("ca_file", "cert_file", "key_file")}
    for path in paths.values():
        path.write_text("")
    return {key: str(path) for key, path in paths.items()}


def test_tls_settings_come_from_the_workflow_or_dasks_configuration(files):
    assert security_for("tcp://host:8786", files) is None  # only tls:// addresses take them
    given = Security()
    assert security_for("tls://host:8786", given) is given
    with dask.config.set({"distributed.comm.tls.ca-file": files["ca_file"],
                          "distributed.comm.tls.client.cert": files["cert_file"]}):
        configured = security_for("tls://host:8786")
    assert configured.tls_ca_file == files["ca_file"] and configured.tls_client_cert == files["cert_file"]


def test_a_missing_tls_file_or_key_is_named(files):
    with pytest.raises(UqmsError, match="execution.tls.key_file: missing; a tls:// scheduler needs"):
        security_for("tls://host:8786", {**files, "key_file": ""})
    with pytest.raises(UqmsError, match="execution.tls.cert_file: no such file .*nowhere.pem"):
        security_for("tls://host:8786", {**files, "cert_file": "nowhere.pem"})
