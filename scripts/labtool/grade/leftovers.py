"""What a sandbox uid may own, and only for the length of one run (sandbox.py):

  hand_over(path, uid)   a folder the run may write becomes the uid's (and its own gid's);
  take_back(path)        afterwards it is root's again, not writable by group or others, so no
                         later run (of any uid, in any mode) can change what the grader builds;
  remove_leftovers(uid)  everything the uid created outside its folders: files and folders in
                         the machine's shared writable folders (/tmp, /var/tmp, /dev/shm,
                         /dev/mqueue, /run/lock, and any world-writable folder inside them) and
                         System V IPC objects (shared memory, message queues, semaphores) it
                         owns or created. POSIX message queues cannot be made at all: the run's
                         RLIMIT_MSGQUEUE is 0.

A uid can only create a file where it may write: in a folder it owns (found and removed
whole) or in a world-writable one (walked). So the walk below is complete for the folders it
starts from; anything else on the machine is not writable by a sandbox uid.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock")
_IPC = (("shm", "-m"), ("msg", "-q"), ("sem", "-s"))


def _chown_tree(path: Path, uid: int, gid: int, strip: int, add_dirs: int = 0) -> None:
    for folder, dirs, files in os.walk(path):
        for name in [folder] + [os.path.join(folder, n) for n in dirs + files]:
            try:
                st = os.lstat(name)
                if stat.S_ISLNK(st.st_mode):
                    os.lchown(name, uid, gid)
                    continue
                if st.st_uid != uid or st.st_gid != gid:
                    os.lchown(name, uid, gid)
                mode = (st.st_mode & 0o7777 & ~strip) | (add_dirs if stat.S_ISDIR(st.st_mode)
                                                         else 0)
                if mode != st.st_mode & 0o7777:
                    os.chmod(name, mode)
            except FileNotFoundError:
                pass


def hand_over(path: Path, uid: int) -> None:
    """The run's writable folder: owned by the run's uid and gid, writable by nobody else."""
    path.mkdir(parents=True, exist_ok=True)
    _chown_tree(path, uid, uid, strip=0o7022, add_dirs=0o700)


def take_back(path: Path, private: bool = False) -> None:
    """Owner and group root, no write for group and others (private: no access at all)."""
    if path.exists():
        _chown_tree(path, 0, 0, strip=0o7077 if private else 0o7022)


def _walk_shared(top: str, uid: int) -> list[str]:
    """Entries owned by uid under `top`, descending only into world-writable folders."""
    found, todo = [], [top]
    while todo:
        folder = todo.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if st.st_uid == uid:
                found.append(entry.path)
            elif stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_IWOTH:
                todo.append(entry.path)
    return found


def _ipc_of(uid: int) -> list[tuple[str, str]]:
    """(ipcrm option, id) of every System V IPC object the uid owns or created."""
    found = []
    for kind, option in _IPC:
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        head = lines[0].split()
        cols = [head.index(c) for c in ("uid", "cuid") if c in head]
        ident = head.index("shmid" if kind == "shm" else "msqid" if kind == "msg" else "semid")
        for line in lines[1:]:
            row = line.split()
            if any(int(row[c]) == uid for c in cols if c < len(row)):
                found.append((option, row[ident]))
    return found


def remove_leftovers(uid: int) -> list[str]:
    """Removes what uid left in the shared folders and in System V IPC; returns what it
    could not remove (the caller refuses to go on)."""
    failed = []
    for top in SHARED_WRITABLE:
        for path in _walk_shared(top, uid):
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                failed.append(f"{path}: {exc}")
    for option, ident in _ipc_of(uid):
        res = subprocess.run(["ipcrm", option, ident], capture_output=True, text=True)
        if res.returncode != 0 and "invalid" not in res.stderr.lower():
            failed.append(f"System V IPC {option} {ident}: {res.stderr.strip()}")
    if _ipc_of(uid):
        failed.append("System V IPC objects of the sandbox uid remain")
    return failed
