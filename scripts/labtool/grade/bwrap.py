"""The command line of bwrap(1) for one sandboxed run (sandbox.py, the bubblewrap mode)."""

from __future__ import annotations

import os

# Host folders every sandboxed program needs (read-only). /etc holds the loader cache and the
# alternatives symlinks (c++, cc); secrets there are readable by root only.
SYSTEM_DIRS = ("/usr", "/etc", "/opt")
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def bwrap_args(ro, rw, cwd, hide, tmp, info_fd) -> list[str]:
    """bwrap's arguments: the system folders read-only, `ro`/`rw` host paths at the same path,
    `hide` folders empty, `tmp` (or a fresh tmpfs) as /tmp, `cwd`; info_fd gets its child pid."""
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--info-fd", str(info_fd), "--proc", "/proc", "--dev", "/dev"]
    for d in SYSTEM_DIRS:
        if os.path.isdir(d):
            args += ["--ro-bind", d, d]
    for link in SYSTEM_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    if tmp is not None:
        args += ["--bind", str(tmp), "/tmp"]
    else:
        args += ["--tmpfs", "/tmp"]
    # Shorter paths first, so that a writable build folder inside the read-only course tree
    # is mounted on top of it (bwrap applies the arguments in order).
    mounts = sorted([(str(p), "--ro-bind") for p in ro] + [(str(p), "--bind") for p in rw]
                    + [(str(p), "--tmpfs") for p in hide],
                    key=lambda m: (m[0].count("/"), m[1] != "--ro-bind"))
    for path, kind in mounts:
        if not os.path.exists(path):
            continue
        if kind == "--tmpfs":
            args += ["--tmpfs", path]
        else:
            args += [kind, path, path]
    args += ["--chdir", str(cwd), "--setenv", "HOME", "/tmp"]
    return args


def make_reachable(paths) -> None:
    """bwrap runs as the sandbox uid (setpriv first), so it must be able to reach every path it
    binds: each folder on the way gets o+x (search only, never read) when it lacks it, e.g. a
    0700 temporary folder, or build/ after the setpriv mode closed it (privacy.py). The
    sandboxed program sees none of these folders but through its own mounts."""
    seen = set()
    for path in paths:
        if path is None:
            continue
        here = os.path.abspath(str(path))
        chain = []
        while True:
            chain.append(here)
            parent = os.path.dirname(here)
            if parent == here:
                break
            here = parent
        for folder in reversed(chain):
            if folder in seen:
                continue
            seen.add(folder)
            try:
                st = os.stat(folder)
            except OSError:
                break
            if os.path.isdir(folder) and not st.st_mode & 0o001:
                os.chmod(folder, (st.st_mode & 0o7777) | 0o001)
