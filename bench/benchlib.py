"""Helpers shared by the side-by-side benchmark scripts (bench/*/compare.py).

Loopback ports, waiting for a server to listen, and /proc accounting of a
server's whole process tree (master, workers, per-session processes), so
every benchmark measures Cove and Dovecot the same way.
"""
import os
import socket
import time


def free_port():
    """A currently free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30):
    """Waits until something accepts on 127.0.0.1:port; exits the script if
    proc (the server) dies first or nothing listens within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def message_size(rnd):
    """A realistic message size: 60% 2-8 KB, 30% 20-100 KB, 9% 200 KB-1 MB,
    1% 2-5 MB (the mix every benchmark fills its mailboxes with)."""
    r = rnd.random()
    if r < 0.60:
        return rnd.randint(2_000, 8_000)
    if r < 0.90:
        return rnd.randint(20_000, 100_000)
    if r < 0.99:
        return rnd.randint(200_000, 1_000_000)
    return rnd.randint(2_000_000, 5_000_000)


def tree_pids(root_pid):
    """root_pid and all its live descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    pids, pending = [], [root_pid]
    while pending:
        pid = pending.pop()
        pids.append(pid)
        pending.extend(children.get(pid, []))
    return pids


def tree_usage(root_pid):
    """(summed VmRSS KB, summed Pss KB, CPU seconds, process count) of the
    tree. CPU counts each live process's own time plus what it collected from
    children it reaped, so short-lived session processes (Dovecot's) count
    once they are waited for."""
    rss = pss = 0
    cpu = 0.0
    pids = tree_pids(root_pid)
    tck = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                rss += next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
            with open(f"/proc/{pid}/smaps_rollup") as f:
                pss += next((int(l.split()[1]) for l in f if l.startswith("Pss:")), 0)
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
                cpu += sum(int(x) for x in fields[11:15]) / tck
        except (OSError, ValueError, IndexError, StopIteration):
            continue
    return rss, pss, cpu, len(pids)


def tree_rss_kb(root_pid):
    """Summed VmRSS of the tree in KB."""
    return tree_usage(root_pid)[0]


def tree_cpu_seconds(root_pid):
    """CPU seconds of the tree (see tree_usage)."""
    return tree_usage(root_pid)[2]
