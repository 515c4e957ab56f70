"""Lists every file-system change in `strace -ff -y -o PREFIX` logs and fails
if one falls outside the allowed folders.

    python3 writes.py PREFIX START_CWD ALLOWED_DIR...

Counts what succeeded: opening for writing or creating, mkdir, rename, link,
symlink, unlink, rmdir, truncate, chmod/chown, utimensat, mknod, and binding
a Unix socket to a path. Writes to /dev (null, the terminal) and to the
process's own /proc entries (thread names) are not files and are allowed.
Prints the changed paths, relative to the first allowed folder.
"""

import glob
import os
import re
import sys

LINE = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+|0x[0-9a-f]+)(?:<(.*)>)?(?:\s.*)?$")
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE")
# syscall -> (index of dirfd or None, indices of path arguments)
PATHS = {
    "mkdir": (None, [0]), "mkdirat": (0, [1]),
    "rmdir": (None, [0]), "unlink": (None, [0]), "unlinkat": (0, [1]),
    "rename": (None, [0, 1]), "renameat": (0, [1]), "renameat2": (0, [1]),
    "link": (None, [1]), "linkat": (2, [3]),
    "symlink": (None, [1]), "symlinkat": (1, [2]),
    "truncate": (None, [0]), "chmod": (None, [0]), "fchmodat": (0, [1]),
    "chown": (None, [0]), "lchown": (None, [0]), "fchownat": (0, [1]),
    "mknod": (None, [0]), "mknodat": (0, [1]), "utimensat": (0, [1]),
    "creat": (None, [0]),
}


def split_args(s):
    """Top-level comma-separated arguments, keeping quoted strings and <…> whole."""
    out, cur, depth, quote, esc = [], "", 0, False, False
    for ch in s:
        if quote:
            cur += ch
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                quote = False
            continue
        if ch == '"':
            quote = True
        elif ch in "<{[(":
            depth += 1
        elif ch in ">}])":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def string(arg):
    m = re.match(r'^"(.*)"', arg)
    if not m:
        return None
    raw = m.group(1).encode("latin-1", "backslashreplace")
    return raw.decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")


def fd_path(arg):
    m = re.search(r"<(.*)>$", arg)
    return m.group(1) if m else None


def changed_paths(prefix, start_cwd):
    for log in sorted(glob.glob(prefix + ".*")):
        cwd = start_cwd
        for line in open(log, encoding="utf-8", errors="replace"):
            m = LINE.match(line.strip())
            if not m:
                continue
            call, args, ret, ret_path = m.groups()
            # Every *at call names the working directory it resolved against.
            seen = re.search(r"AT_FDCWD<([^>]*)>", args)
            if seen:
                cwd = seen.group(1)
            if ret.startswith("-"):
                continue
            args = split_args(args)
            if call == "chdir":
                cwd = os.path.normpath(os.path.join(cwd, string(args[0]) or "."))
                continue
            if call == "fchdir":
                cwd = fd_path(args[0]) or cwd
                continue
            if call in ("open", "openat", "openat2"):
                flags = args[2 if call != "open" else 1] if len(args) > 2 else ""
                if any(f in flags for f in WRITE_FLAGS):
                    yield call, ret_path or resolve(args, cwd, 0 if call != "open" else None, 1 if call != "open" else 0)
            elif call == "bind":
                path = re.search(r'sun_path="([^"]*)"', line)
                if path and path.group(1):
                    yield call, path.group(1)
            elif call in PATHS:
                dirfd, idxs = PATHS[call]
                for i in idxs:
                    yield call, resolve(args, cwd, dirfd, i)
                if call in ("renameat", "renameat2") and len(args) > 3:
                    yield call, resolve(args, cwd, 2, 3)


def resolve(args, cwd, dirfd, i):
    """The path argument i, made absolute against dirfd's path or cwd."""
    if i >= len(args):
        return "?"
    path = string(args[i])
    if path is None:  # utimensat(fd, NULL, …): the fd itself
        return (fd_path(args[dirfd]) if dirfd is not None else None) or "?"
    if os.path.isabs(path):
        return os.path.normpath(path)
    base = fd_path(args[dirfd]) if dirfd is not None and "AT_FDCWD" not in args[dirfd] else cwd
    return os.path.normpath(os.path.join(base or "?", path))


def allowed_proc(path):
    return re.match(r"^/proc/(self|thread-self|\d+)/(task/\d+/)?comm$", path) is not None


def main():
    prefix, start_cwd = sys.argv[1], sys.argv[2]
    roots = [os.path.realpath(r) for r in sys.argv[3:]]
    inside, outside = set(), set()
    for call, path in changed_paths(prefix, start_cwd):
        real = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
        if any(real == r or real.startswith(r + "/") for r in roots):
            inside.add(os.path.relpath(real, roots[0]))
        elif path.startswith("/dev/") or allowed_proc(path):
            continue
        else:
            outside.add(f"{call} {path}")
    for p in sorted(inside):
        print(f"  wrote {p}")
    if outside:
        for p in sorted(outside):
            print(f"  OUTSIDE: {p}", file=sys.stderr)
        sys.exit(f"{len(outside)} change(s) outside {', '.join(roots)}")
    print(f"  {len(inside)} path(s) changed, all inside {roots[0]}")


main()
