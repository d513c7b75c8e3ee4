"""A real non-loopback link for protocol tests: a private network namespace
joined to the test's own namespace by a veth pair with addresses from
198.18.0.0/15 (RFC 2544, reserved for testing; never routed).

The daemons run inside the namespace (CoveServer(host=ns.ns_addr,
wrap=ns.wrap())) and listen on its address; the test's clients connect from
outside, so the daemon sees a peer that is neither loopback nor a UNIX
socket. Needs root and `ip netns`; skip_reason() says why not. Every
namespace and link made here is removed by close(), also at exit.
"""
import atexit
import ipaddress
import os
import shutil
import subprocess

_NET = ipaddress.ip_network("198.18.0.0/15")


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check,
                          timeout=10)


def skip_reason():
    """None when namespaces can be made here, else why not (for skipTest)."""
    if os.geteuid() != 0:
        return "needs root for ip netns (non-loopback tests)"
    if shutil.which("ip") is None:
        return "ip(8) not installed"
    probe = f"coveprobe{os.getpid()}"
    r = _ip("netns", "add", probe, check=False)
    if r.returncode != 0:
        return "ip netns unavailable: " + r.stderr.strip()
    _ip("netns", "del", probe, check=False)
    return None


class NetNS:
    """One namespace with a /30 link: host_addr (this side) <-> ns_addr."""

    def __init__(self):
        pid = os.getpid()
        self.name = f"cove{pid}"
        self.veth_host, self.veth_ns = f"cvh{pid}", f"cvn{pid}"
        used = _ip("-o", "-4", "addr", "show").stdout
        for k in range(64):
            base = _NET.network_address + ((pid + k * 7919) % (_NET.num_addresses // 4)) * 4
            self.host_addr, self.ns_addr = str(base + 1), str(base + 2)
            if f" {self.host_addr}/" not in used:
                break
        self._open = False
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self):
        _ip("netns", "add", self.name)
        self._open = True
        atexit.register(self.close)
        _ip("link", "add", self.veth_host, "type", "veth", "peer", "name", self.veth_ns)
        _ip("link", "set", self.veth_ns, "netns", self.name)
        _ip("addr", "add", f"{self.host_addr}/30", "dev", self.veth_host)
        _ip("link", "set", self.veth_host, "up")
        _ip("-n", self.name, "addr", "add", f"{self.ns_addr}/30", "dev", self.veth_ns)
        _ip("-n", self.name, "link", "set", self.veth_ns, "up")
        _ip("-n", self.name, "link", "set", "lo", "up")

    def wrap(self):
        """Command prefix that runs a program inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def close(self):
        """Deleting the namespace destroys its veth end, and with it the pair."""
        if self._open:
            _ip("netns", "del", self.name, check=False)
            self._open = False
        _ip("link", "del", self.veth_host, check=False)
