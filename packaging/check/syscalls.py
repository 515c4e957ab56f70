"""Checks a process traced with `strace -ff -qq -y -o PREFIX` against the
sandbox of packaging/relay/natter-relay.service, which systemd would enforce
and this machine (no systemd) cannot:

    python3 syscalls.py PREFIX UNIT BINARY

Only what happens from the execve() of BINARY on counts (before it, the
launcher changes user, as systemd does before it starts the service):

- every system call made is allowed by the unit's SystemCallFilter= lines
  (groups expanded with `systemd-analyze syscall-filter`);
- every socket family opened is in RestrictAddressFamilies=;
- with MemoryDenyWriteExecute=yes: no mapping both writable and executable,
  no mprotect() that makes memory executable;
- with ProcSubset=pid: no /proc file opened outside the process directories.
"""

import glob
import re
import subprocess
import sys


def groups():
    out = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True).stdout
    table, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = line.strip()
            table[current] = set()
        elif current and line.strip() and not line.strip().startswith("#"):
            table[current].add(line.strip())
    return table


def expand(names, table, seen=None):
    seen = seen or set()
    out = set()
    for n in names:
        if n.startswith("@"):
            if n not in seen:
                seen.add(n)
                out |= expand(table.get(n, ()), table, seen)
        else:
            out.add(n)
    return out


def unit_settings(path):
    allow, deny, families, mdwe, proc_pid = set(), set(), set(), False, False
    table = groups()
    for line in open(path):
        line = line.strip()
        if line.startswith("SystemCallFilter="):
            value = line.split("=", 1)[1]
            if value.startswith("~"):
                deny |= expand(value[1:].split(), table)
            else:
                allow |= expand(value.split(), table)
        elif line.startswith("RestrictAddressFamilies="):
            families |= set(line.split("=", 1)[1].split())
        elif line == "MemoryDenyWriteExecute=yes":
            mdwe = True
        elif line == "ProcSubset=pid":
            proc_pid = True
    # systemd always permits @default.
    allow |= expand(["@default"], table)
    return allow - deny, families, mdwe, proc_pid


def traced_lines(prefix, binary):
    """Lines of every traced thread, from the execve() of binary on."""
    for log in sorted(glob.glob(prefix + ".*")):
        lines = open(log, encoding="utf-8", errors="replace").read().splitlines()
        for i, line in enumerate(lines):
            if line.startswith(f'execve("{binary}"') and " = 0" in line:
                lines = lines[i:]
                break
        else:
            # A thread started by the relay has no execve; the launcher's
            # own process (before exec) always has one.
            if any(l.startswith("execve(") for l in lines):
                continue
        yield from lines


def main():
    prefix, unit, binary = sys.argv[1], sys.argv[2], sys.argv[3]
    allowed, families, mdwe, proc_pid = unit_settings(unit)
    used, opened, wx, proc = {}, set(), [], set()
    call = re.compile(r"^(\w+)\(")
    for line in traced_lines(prefix, binary):
        m = call.match(line)
        if not m:
            continue
        name = m.group(1)
        used[name] = used.get(name, 0) + 1
        if name == "socket":
            fam = re.search(r"socket\((AF_\w+)", line)
            if fam:
                opened.add(fam.group(1))
        if mdwe and name in ("mmap", "mprotect", "pkey_mprotect"):
            parts = line.split(",")
            prot = parts[2] if len(parts) > 2 else ""  # (addr, length, prot, …)
            if name == "mmap" and "PROT_WRITE" in prot and "PROT_EXEC" in prot:
                wx.append(line.strip())
            if name != "mmap" and "PROT_EXEC" in prot:
                wx.append(line.strip())
        if proc_pid and name in ("open", "openat", "openat2"):
            path = re.search(r'"(/proc/[^"]*)"', line)
            if path and not re.match(r"^/proc/(self|thread-self|\d+)(/|$)", path.group(1)):
                proc.add(path.group(1))
    refused = sorted(n for n in used if n not in allowed)
    bad_families = sorted(f for f in opened if f not in families)
    print(f"  {len(used)} distinct system calls, {sum(used.values())} in all; socket families {sorted(opened)}")
    ok = True
    if refused:
        ok = False
        print(f"  NOT allowed by SystemCallFilter: {', '.join(refused)}", file=sys.stderr)
    if bad_families:
        ok = False
        print(f"  NOT in RestrictAddressFamilies: {', '.join(bad_families)}", file=sys.stderr)
    if wx:
        ok = False
        print("  writable+executable memory under MemoryDenyWriteExecute:\n    " + "\n    ".join(wx[:5]), file=sys.stderr)
    if proc:
        ok = False
        print(f"  /proc files outside ProcSubset=pid: {', '.join(sorted(proc))}", file=sys.stderr)
    if not ok:
        sys.exit("the relay does something its unit forbids")
    print("  all within the unit's SystemCallFilter, RestrictAddressFamilies, MemoryDenyWriteExecute and ProcSubset")


main()
