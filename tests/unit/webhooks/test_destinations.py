"""unit: the SSRF rules. A URL must be https and its host must resolve to public addresses only;
loopback (and plain http to it) only where the setting allows it (ecrm local)."""

from __future__ import annotations

import pytest
from ecrm.errors import InvalidInput
from ecrm.webhooks.destinations import destination


class Hosts:
    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table

    def addresses(self, host: str) -> list[str]:
        return self.table.get(host, [])


HOSTS = Hosts(
    {
        "hooks.example.com": ["93.184.216.34"],
        "internal.example.com": ["10.1.2.3"],
        "split.example.com": ["93.184.216.34", "192.168.0.7"],  # one public, one private: refused
        "v6.example.com": ["2606:2800:220:1:248:1893:25c8:1946"],
    }
)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://172.16.5.4/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data/",  # cloud metadata
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6 loopback
        "https://[::ffff:10.0.0.1]/hook",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of 169.254.169.254
        "https://[2002:c0a8:0101::1]/hook",  # 6to4 of 192.168.1.1
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://0.0.0.0/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://224.0.0.1/hook",
        "https://internal.example.com/hook",  # a name resolving to a private address
        "https://split.example.com/hook",
        "https://nowhere.example.com/hook",  # resolves to nothing
        "http://hooks.example.com/hook",  # not https
        "ftp://hooks.example.com/hook",
        "https://user:pass@hooks.example.com/hook",
        "https:///hook",
        "https://hooks.example.com:99999/hook",
    ],
)
def test_refused_destinations_name_the_url(url: str):
    with pytest.raises(InvalidInput) as refused:
        destination(url, HOSTS)
    assert refused.value.field == "url"


def test_a_public_https_destination_is_sent_to_the_address_checked():
    found = destination("https://hooks.example.com/ecrm?team=crm", HOSTS)
    assert (found.host, found.port, found.target, found.address) == (
        "hooks.example.com",
        443,
        "/ecrm?team=crm",
        "93.184.216.34",
    )
    assert destination("https://v6.example.com/x", HOSTS).address == "2606:2800:220:1:248:1893:25c8:1946"
    assert destination("https://[64:ff9b::5db8:d822]/x", HOSTS).address == "64:ff9b::5db8:d822"  # a public IPv4


def test_loopback_and_http_only_where_the_setting_allows_it():
    local = destination("http://127.0.0.1:8099/hook", HOSTS, allow_loopback=True)
    assert (local.address, local.port) == ("127.0.0.1", 8099)
    destination("https://[::1]/hook", HOSTS, allow_loopback=True)
    for still_refused in ("https://10.0.0.1/hook", "https://169.254.169.254/", "http://hooks.example.com/x"):
        with pytest.raises(InvalidInput):
            destination(still_refused, HOSTS, allow_loopback=True)
