#!/usr/bin/env python3
"""Syscall fault sweep (issue 20): every file and store operation of `raccord process` (or `raccord
daemon`) made to fail, one at a time, with Debian's strace; then clean passes, then the exactly-once
invariants of docs/design.md "Failures of the machine under the engine" (README "Garanties").

One fixed inbox (built by build_template): the sample story of samples/depots (complete, partial,
rejected, quarantined to error/, a Recherche with its two exports), a byte-identical copy of the
referential (DOUBLON), then 128 one-user dépôts (a full group of 128, Engine::kGroupDeposits, with the
samples' tail, then a smaller one); two sender accounts (account_depots): `libre` (the samples of samples/comptes/acme/)
and `signe` (signature = obligatoire, the samples' signing certificate pinned: a signed Recherche, a
signed REJETE, a pair whose .p7s signs other bytes, a dépôt without its .p7s), and what two crashes
leave of signed pairs (crash_leftovers: a .p7s alone in .work/signe/ with its destination note, a
dépôt claimed without its .p7s). A clean traced pass lists, for the engine's main thread, each occurrence N of each
traced syscall that touches a file of the engine (config, trust store, store, inbox/, outbox/,
archive/, error/): the injections are (syscall, errno, N) for those occurrences. Each injection:
 1. a fresh copy of the inbox and store, `raccord process` under
    `strace -f -e inject=SYSCALL:error=ERRNO:when=N` (or the daemon, stopped with SIGTERM once it has
    drained the inbox by its own retries, or after a deadline);
 2. clean passes until the inbox is empty (at most 3);
 3. the checks: every dépôt has exactly one well-formed accusé, byte for byte the one the store
    recorded and the one a run without failure writes; its original once in archive/ or error/ (with
    its reason file); the store's rows as after a run without failure (effects once); nothing in
    inbox/ or inbox/.work/, no temporary (".name") anywhere; the failed pass exits 1 whenever the
    failure left work undone (never 0 then; 0 only with all work done); a log line (error or
    warning) naming the file and the error; no sanitizer report; no hang.
Prints `N injected, N recovered, N failed` and, per failure, its reproducer.
Usage: see scripts/fault-sweep.sh.
"""
import argparse
import concurrent.futures
import os
import queue
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import xml.dom.minidom
from collections import OrderedDict, defaultdict

NOW = "2026-11-30T10:00:00Z"  # inside the sample certificates' validity (samples/README.md)
SANITIZER_EXIT = 99  # ASan/UBSan exit code here, never mistaken for the engine's 1

# The syscalls swept and the errors injected into each (issue 20): EIO everywhere; ENOSPC and EDQUOT
# where data or metadata is written; EROFS where a name is created, opened, replaced or removed.
WRITES = {"write", "pwrite64", "fsync", "fdatasync", "syncfs", "ftruncate"}
NAMES = {"openat", "rename", "renameat2", "link", "linkat", "unlink", "unlinkat", "mkdir", "mkdirat", "symlink",
         "symlinkat", "chmod"}
# A name created without data (the destination note of a signed pair, one symlink(2)): ENOSPC too (no
# inode or directory block left), not EDQUOT (its blocks are not the user's data).
CREATES = {"symlink", "symlinkat"}
SYSCALLS = ["openat", "read", "pread64", "write", "pwrite64", "fsync", "fdatasync", "syncfs", "rename",
            "renameat2", "link", "linkat", "unlink", "unlinkat", "mkdir", "mkdirat", "flock", "fcntl",
            "ftruncate", "symlink", "symlinkat", "readlink", "readlinkat", "chmod", "getdents64"]
STRERROR = {e: os.strerror(getattr(__import__("errno"), e)) for e in ("EIO", "ENOSPC", "EDQUOT", "EROFS")}
# SQLite's words for the same errors (sqlite3_errstr), in a store message: it says "database disk
# image is malformed" for an EIO on reading (SQLITE_IOERR_CORRUPTFS), "unable to open database file"
# for an EIO on opening its -wal or -shm file (it retries read-only and keeps that errno), and, when opening the store for
# writing fails, it opens it read-only without keeping the errno (the engine then refuses it, "en
# écriture").
STORE_OPEN = "ouverture impossible en écriture du store"
# SQLite's own words for a failure of the disk. A lock of its WAL index (fcntl on the -shm file) that
# the system refuses comes back as SQLITE_PROTOCOL, "locking protocol", without the errno (SQLite keeps
# none for it): the engine's line names the -shm file and the fcntl instead (engine/database.cpp).
# An EIO opening the -wal or -shm file that a crash left beside the store makes SQLite open it read-only
# without a word; the first write says "readonly database" (the engine's line names the store and says
# so, engine/database.cpp).
SQLITE_WORDS = {"EIO": ["disk I/O error", "database disk image is malformed", "unable to open database file", STORE_OPEN,
                        "locking protocol", "readonly database"],
                "ENOSPC": ["database or disk is full", "disk I/O error"],
                "EDQUOT": ["database or disk is full", "disk I/O error"],
                "EROFS": ["readonly database", "unable to open database file", "disk I/O error", STORE_OPEN]}


def errnos_of(syscall):
    out = ["EIO"]
    if syscall in WRITES:
        out += ["ENOSPC", "EDQUOT"]
    if syscall in NAMES:
        out.append("EROFS")
    if syscall in CREATES:
        out.append("ENOSPC")
    return out


# ---------------------------------------------------------------------------------------------
# The fixed inbox

def group_depot(i):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Depot xmlns="urn:raccord:depot:1" identifiant="GRP-{i:02d}" demandeur="support.n1">\n'
            f'  <Utilisateur login="grp.u{i:02d}" email="grp.u{i:02d}@exemple.fr" reference="g{i:02d}"/>\n'
            '</Depot>\n')


def write_config(directory, daemon):
    with open(os.path.join(directory, "raccord.ini"), "w", encoding="utf-8") as f:
        f.write("[paths]\nroot = var\nrules = rules\n[engine]\nenvironment = production\n"
                "[certificates]\ntrust_dir = trust\n[inbox]\nsettle_ms = 0\n")
        if daemon:
            f.write("rescan_s = 3600\n")  # the daemon recovers by its own retry, not by a rescan
        # Two sender accounts (docs/accounts.md): one without signatures, one that requires them, the
        # samples' signing certificate pinned.
        f.write(f"[compte.{ACCOUNT}]\nlogins = g.martin, a.leroy\n"
                f"[compte.{SIGNED}]\nlogins = g.martin, a.leroy\nsignature = obligatoire\n"
                "signataires = signataires/acme.pem\n")


def build_template(source_dir, binary, directory, daemon):
    """The root every injection starts from: config, trust store, an initialised store, the inbox."""
    os.makedirs(directory)
    shutil.copytree(os.path.join(source_dir, "samples", "trust"), os.path.join(directory, "trust"))
    os.makedirs(os.path.join(directory, "rules"))
    shutil.copyfile(os.path.join(source_dir, "rules", "catalogue.xml"), os.path.join(directory, "rules", "catalogue.xml"))
    write_config(directory, daemon)
    os.makedirs(os.path.join(directory, "signataires"))
    pem = os.path.join(directory, "signataires", "acme.pem")
    shutil.copyfile(os.path.join(source_dir, "samples", "signataires", "acme.pem"), pem)
    os.chmod(pem, 0o644)
    r = run_engine(binary, directory, ["init", "--support", "support.n1"], os.path.join(directory, "..", "init.log"))
    if r.returncode != 0:
        sys.exit(f"raccord init a échoué ({r.returncode}) dans {directory}")
    inbox = os.path.join(directory, "var", "inbox")
    leftovers = crash_leftovers(source_dir, binary, directory, inbox)
    samples = os.path.join(source_dir, "samples", "depots")
    for name in sorted(os.listdir(samples)):
        if name.endswith(".xml"):
            shutil.copyfile(os.path.join(samples, name), os.path.join(inbox, name))
    shutil.copyfile(os.path.join(samples, "01_referentiel.xml"), os.path.join(inbox, "99_doublon.xml"))
    for i in range(1, 129):  # two groups: Engine::kGroupDeposits (128) on SQLite
        with open(os.path.join(inbox, f"g{i:02d}.xml"), "w", encoding="utf-8") as f:
            f.write(group_depot(i))
    names = sorted(n for n in os.listdir(inbox) if n.endswith(".xml"))
    return names + account_depots(source_dir, inbox) + leftovers


# The accounts' dépôts, named ACCOUNT/NAME (their folder in inbox/ and outbox/): the samples of
# samples/comptes/acme/ in the unsigned account (a Recherche with its export, a REJETE); in the signed
# one, a signed Recherche, a signed REJETE (its signature recorded against replay), a pair whose .p7s
# signs other bytes (SIGNATURE_INVALIDE: the pair quarantined) and a dépôt without its .p7s
# (SIGNATURE_ABSENTE). Other bytes than the unsigned ones (DOUBLON is global).
ACCOUNT, SIGNED = "libre", "signe"


def sign(source_dir, path, signed_bytes_of=None):
    certs = os.path.join(source_dir, "samples", "pki", "certs")
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-in", signed_bytes_of or path,
                    "-signer", os.path.join(certs, "signature-acme.pem"),
                    "-inkey", os.path.join(certs, "signature-acme.key"), "-out", path + ".p7s"],
                   check=True, stdout=subprocess.DEVNULL)


def account_depots(source_dir, inbox):
    samples = os.path.join(source_dir, "samples", "comptes", "acme")
    names = []
    for name in sorted(os.listdir(samples)):
        shutil.copyfile(os.path.join(samples, name), os.path.join(inbox, ACCOUNT, name))
        names.append(f"{ACCOUNT}/{name}")
    with open(os.path.join(samples, "20_recherche_compte.xml"), encoding="utf-8") as f:
        search = f.read().replace("RECHERCHE-2026-0001", "RECHERCHE-SIGNEE-1").replace(
            "req-edi-compte", "req-edi-signe")
    with open(os.path.join(samples, "21_usurpation.xml"), encoding="utf-8") as f:
        usurp = f.read().replace("USURPATION-2026-0001", "USURPATION-SIGNEE-1")
    signed = os.path.join(inbox, SIGNED)
    for name, text in [("30_recherche_signee.xml", search), ("31_usurpation_signee.xml", usurp),
                       ("32_signature_invalide.xml", search.replace("RECHERCHE-SIGNEE-1", "RECHERCHE-SIGNEE-2")),
                       ("33_sans_signature.xml", search.replace("RECHERCHE-SIGNEE-1", "RECHERCHE-SIGNEE-3"))]:
        path = os.path.join(signed, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        if name.startswith("32"):
            sign(source_dir, path, os.path.join(signed, "30_recherche_signee.xml"))  # other bytes
        elif not name.startswith("33"):
            sign(source_dir, path)
        names.append(f"{SIGNED}/{name}")
    return names


def crash_leftovers(source_dir, binary, directory, inbox):
    """What crashes leave of signed pairs (docs/accounts.md "After a crash"), for the swept passes'
    recoveries: 34 archived by a pass killed between its pair's two moves (the crash harness's point,
    RACCORD_TEST_KILL_AT=between-signature-moves), its .p7s alone in .work/signe/ with the destination
    note (a symlink) the recovery reads back (readlink); 35 as a crash between the claim's two renames
    leaves it (the dépôt in .work/signe/, its .p7s still in inbox/signe/: two renames, made here by
    hand). Not a dépôt committed but not moved: its record is found by its file's identity (device and
    inode), which the copy of the template for each injection changes."""
    signed = os.path.join(inbox, SIGNED)
    with open(os.path.join(source_dir, "samples", "comptes", "acme", "20_recherche_compte.xml"), encoding="utf-8") as f:
        search = f.read().replace("req-edi-compte", "req-edi-reprise")
    names = []
    for i, name in [(4, "34_reprise_note.xml"), (5, "35_reprise_claim.xml")]:
        path = os.path.join(signed, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(search.replace("RECHERCHE-2026-0001", f"RECHERCHE-SIGNEE-{i}"))
        sign(source_dir, path)
        names.append(f"{SIGNED}/{name}")
        if i == 4:
            log = os.path.join(directory, "..", "crash.log")
            run_engine(binary, directory, ["process"], log,
                       extra_env={"RACCORD_TEST_KILL_AT": "between-signature-moves"})
        else:
            os.rename(path, os.path.join(inbox, ".work", SIGNED, name))
    work = sorted(os.listdir(os.path.join(inbox, ".work", SIGNED)))
    want = [".34_reprise_note.xml.destination", "34_reprise_note.xml.p7s", "35_reprise_claim.xml"]
    if work != want:
        sys.exit(f"les pannes simulées n'ont pas laissé {want} dans .work/{SIGNED}/ : {work}")
    return names


def split_name(name):
    """(account folder or "", file name) of a dépôt of the template."""
    account, _, base = name.rpartition("/")
    return account, base


# ---------------------------------------------------------------------------------------------
# Running the engine

def engine_env(traced):
    env = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "RACCORD_CONFIG", "RACCORD_NOW", "RACCORD_TEST_KILL_AT"):
        env.pop(k, None)
    env["RACCORD_LOG_LEVEL"] = "info"
    asan = env.get("ASAN_OPTIONS", "detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1")
    asan = ":".join(o for o in asan.split(":") if o and not o.startswith("exitcode="))
    if traced:  # LeakSanitizer does not work under ptrace
        asan = ":".join(o for o in asan.split(":") if not o.startswith("detect_leaks=")) + ":detect_leaks=0"
    env["ASAN_OPTIONS"] = asan + f":exitcode={SANITIZER_EXIT}"
    ubsan = env.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    env["UBSAN_OPTIONS"] = ":".join(o for o in ubsan.split(":") if o and not o.startswith("exitcode=")) + \
        f":exitcode={SANITIZER_EXIT}"
    return env


def command(binary, directory, args):
    return [binary] + args + ["--now", NOW, "--config", os.path.join(directory, "raccord.ini")]


CPU_LIMIT_S = 60.0  # a pass uses about 1 s of CPU: more is a loop
WALL_LIMIT_S = 1800.0  # a pass that waits this long without using CPU is stuck (a shared, loaded
# machine may leave a process without CPU for minutes: wall time alone says nothing)


def session_cpu(sid):
    """CPU seconds (user + system) used so far by the processes of session `sid`."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 of stat(5): session
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_bounded(p):
    """Waits for `p` (a session leader); kills its session when it loops (CPU_LIMIT_S) or is stuck
    (WALL_LIMIT_S). Its exit code, -999 when killed so."""
    end = time.monotonic() + WALL_LIMIT_S
    while True:
        try:
            return p.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() > end or session_cpu(p.pid) > CPU_LIMIT_S:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            return -999


def run_engine(binary, directory, args, log, prefix=(), extra_env=None):
    """Runs one command to its end; its exit code (-999 when it hung: then it is killed with its
    whole session, strace and the traced engine alike)."""
    with open(log, "ab") as err:
        p = subprocess.Popen(list(prefix) + command(binary, directory, args), cwd=directory,
                             stdout=subprocess.DEVNULL, stderr=err, env={**engine_env(bool(prefix)), **(extra_env or {})},
                             start_new_session=True)
        return subprocess.CompletedProcess(args, wait_bounded(p))


def no_aslr_prefix():
    """`setarch -R` when this machine lets a process turn off its address randomisation (a container's
    seccomp profile may not): the sanitizers read /proc/self/maps in the main thread, as many times as
    its size asks, and a randomised layout changes that size from one run to the next, hence the
    numbering of the main thread's reads that `when=N` counts (168 or 186 for the same call)."""
    try:
        ok = subprocess.run(["setarch", "-R", "true"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        ok = False
    return ["setarch", "-R"] if ok else []


NO_ASLR = no_aslr_prefix()


def strace_prefix(trace, syscalls, inject=None):
    p = NO_ASLR + ["strace", "-f", "-y", "-qq", "--seccomp-bpf", "-o", trace, "-e", "trace=" + ",".join(syscalls)]
    if inject:
        syscall, error, when = inject
        p += ["-e", f"inject={syscall}:error={error}:when={when}"]
    return p


def drained(root):
    """Nothing but folders left in inbox/ (inbox/.work/, the accounts' inbox/NAME/ and .work/NAME/)."""
    inbox = os.path.join(root, "var", "inbox")
    for d, dirs, files in os.walk(inbox):
        if files:
            return False
        for n in dirs:
            if os.path.islink(os.path.join(d, n)):
                return False
    return True


def children_of(pid):
    """Pids of the direct children of `pid` (its threads' children too)."""
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def stop_daemon(p, traced):
    """SIGTERM to the daemon itself: under strace, `p` is strace, whose child the daemon is (a SIGTERM
    to strace makes it detach and wait, the daemon never hears it: the run hung until its deadline)."""
    targets = children_of(p.pid) if traced else [p.pid]
    for pid in targets or [p.pid]:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def run_daemon(binary, directory, log, prefix, deadline_s):
    """Starts the daemon (under `prefix`), waits until it has drained the inbox and finished its
    start-up, or `deadline_s`; then SIGTERM to the daemon. Returns (exit code, drained by itself,
    stopped by the SIGTERM: False when it ended before, on its own): the exit code is the daemon's
    (strace exits with its tracee's status)."""
    ready_marker = "prochaine exécution nocturne"
    with open(log, "ab") as err:
        p = subprocess.Popen(list(prefix) + command(binary, directory, ["daemon"]), cwd=directory,
                             stdout=subprocess.DEVNULL, stderr=err, env=engine_env(bool(prefix)),
                             start_new_session=True)
    end = time.monotonic() + deadline_s
    done = False
    while time.monotonic() < end and p.poll() is None:
        time.sleep(0.1)
        if drained(directory) and ready_marker in read_text(log):
            done = True
            break
    if p.poll() is None:
        time.sleep(0.2)  # let the daemon finish the group's last writes (metrics) before the stop
        stop_daemon(p, bool(prefix))
        try:
            p.wait(timeout=300)  # it finishes the dépôt in hand first
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            return -998, done, True
        return p.returncode, done, True
    return p.returncode, done, False


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


# ---------------------------------------------------------------------------------------------
# strace output

LINE = re.compile(r"^(\d+) +(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")
FD_PATH = re.compile(r"\d+<([^>]*)>")
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
PATH_ARGS = {"openat": [1], "rename": [0, 1], "renameat2": [1, 3], "link": [0, 1], "linkat": [1, 3],
             "unlink": [0], "unlinkat": [1], "mkdir": [0], "mkdirat": [1], "symlink": [1], "symlinkat": [2],
             "readlink": [0], "readlinkat": [1], "chmod": [0]}


def split_args(text):
    """Top-level comma-separated arguments of a strace call (without the closing part)."""
    out, depth, cur, quoted, escape = [], 0, "", False, False
    for c in text:
        if quoted:
            cur += c
            if escape:
                escape = False
            elif c == "\\":
                escape = True
            elif c == '"':
                quoted = False
            continue
        if c == '"':
            quoted = True
            cur += c
        elif c in "([{":
            depth += 1
            cur += c
        elif c in ")]}":
            if depth == 0:
                out.append(cur.strip())
                return out
            depth -= 1
            cur += c
        elif c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += c
    out.append(cur.strip())
    return out


def unquote(arg):
    m = QUOTED.search(arg)
    if not m:
        return None
    return m.group(1).encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode(
        "utf-8", "replace")


def dir_of(arg):
    m = FD_PATH.search(arg)
    if m:
        return m.group(1)
    m = re.search(r"AT_FDCWD<([^>]*)>", arg)
    return m.group(1) if m else None


def paths_of(syscall, args):
    """The file(s) a call touches: its path arguments (made absolute by their directory
    descriptor), else the path of its first descriptor."""
    if syscall in PATH_ARGS:
        out = []
        for i in PATH_ARGS[syscall]:
            if i >= len(args):
                continue
            p = unquote(args[i])
            if p is None:
                continue
            if not p.startswith("/"):
                base = dir_of(args[i - 1]) if i > 0 else None
                p = os.path.join(base or "", p)
            out.append(os.path.normpath(p))
        return out
    m = FD_PATH.match(args[0]) if args else None
    return [m.group(1)] if m else []


def parse_trace(path):
    """Calls in completion order: dicts pid, syscall, paths, result, injected, index (1-based count
    of that syscall in that pid, in entry order)."""
    calls, pending, counts = [], {}, defaultdict(int)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            pid, resumed, name, rest = m.group(1), m.group(2), m.group(3), m.group(4)
            if resumed:
                if pid not in pending:
                    continue
                call = pending.pop(pid)
                call["args"] = split_args(call["raw"] + rest)
            else:
                counts[(pid, name)] += 1
                call = {"pid": pid, "syscall": name, "index": counts[(pid, name)], "raw": rest}
                if rest.endswith("<unfinished ...>"):
                    call["raw"] = rest[: -len("<unfinished ...>")].rstrip()
                    pending[pid] = call
                    continue
                call["args"] = split_args(rest)
                rest = rest
            r = re.search(r"\)\s+=\s+(-?\d+|\?)(?:\s+(\w+))?", line)
            call["result"] = r.group(1) if r else "?"
            call["error"] = r.group(2) if r and r.group(1) == "-1" else None
            call["injected"] = line.rstrip().endswith("(INJECTED)")
            call["paths"] = paths_of(call["syscall"], call["args"])
            calls.append(call)
    return calls


def normal_label(path):
    """A file name without the pid of its temporary name (".<name>.<serial>.<host>.<pid>.tmp")."""
    return re.sub(r"\.\d+\.tmp$", ".PID.tmp", path)


def first_pid(trace):
    """The main thread's pid: the first one in the trace (no other thread exists before main())."""
    try:
        with open(trace, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = LINE.match(line)
                if m:
                    return m.group(1)
    except FileNotFoundError:
        pass
    return None


def engine_occurrences(trace, root):
    """(syscall, index, file relative to `root`) of the main thread's calls on the engine's files."""
    calls = parse_trace(trace)
    if not calls:
        return []
    main = calls[0]["pid"]
    prefix = os.path.normpath(root) + "/"
    out = []
    for c in calls:
        if c["pid"] != main:
            continue
        mine = [p for p in c["paths"] if p.startswith(prefix)]
        if mine:
            out.append((c["syscall"], c["index"], normal_label(mine[0][len(prefix):])))
    return out


# ---------------------------------------------------------------------------------------------
# Checks

def tree(root):
    out = []
    for d, dirs, files in os.walk(root):
        for n in files + dirs:
            out.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(out)


def store_snapshot(db_path):
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        ok = con.execute("PRAGMA integrity_check").fetchone()[0]
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        counts = {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables
                  if t not in ("locks",)}
        deposits = {r[0]: (r[1], r[2], r[3], r[4]) for r in con.execute(
            "SELECT file_name, status, destination, ack_name, ack_content FROM deposits")}
        dup_files = con.execute(
            "SELECT COUNT(*) FROM (SELECT file_name FROM deposits GROUP BY file_name HAVING COUNT(*) > 1)").fetchone()[0]
        exports = sorted(r[0] for r in con.execute("SELECT name FROM exports"))
        return {"integrity": ok, "counts": counts, "deposits": deposits, "dup_files": dup_files, "exports": exports}
    finally:
        con.close()


def state_of(root, names):
    """What a finished run left: files of the root and the store's record."""
    var = os.path.join(root, "var")
    snap = store_snapshot(os.path.join(var, "raccord.db"))
    acks = {}
    for n in outbox_files(root):
        if os.path.basename(n).startswith("ACK_"):
            with open(os.path.join(var, "outbox", n), "rb") as f:
                acks[n] = f.read()
    modes = {}
    for top in ("archive", "error"):
        for p in tree(os.path.join(var, top)):
            full = os.path.join(var, top, p)
            if os.path.isfile(full):
                modes[f"{top}/{p}"] = os.stat(full).st_mode & 0o7777
    return {"snap": snap, "acks": acks, "tree": tree(var), "names": names, "modes": modes,
            "exports": sorted(n for n in outbox_files(root) if os.path.basename(n).startswith("EXPORT_"))}


def outbox_files(root):
    """Files of outbox/ and of the accounts' outbox/NAME/, relative to outbox/."""
    outbox = os.path.join(root, "var", "outbox")
    out = []
    for n in sorted(os.listdir(outbox)):
        if os.path.isdir(os.path.join(outbox, n)):
            out += [f"{n}/{m}" for m in sorted(os.listdir(os.path.join(outbox, n)))]
        else:
            out.append(n)
    return out


def acks_of(acks, name):
    """The accusés of dépôt `name` (ACCOUNT/FILE for an account's) among `acks` (relative to outbox/)."""
    account, base = split_name(name)
    prefix = (account + "/" if account else "") + "ACK_" + base[:-4] + "_"
    return [a for a in acks if a.startswith(prefix) and "/" not in a[len(prefix):]]


def check_final(root, names, reference):
    """Problems (French, one line each) of the state left in `root` after the recovery."""
    problems = []
    var = os.path.join(root, "var")
    if not drained(root):
        problems.append("inbox/ ou inbox/.work/ pas vide : " + ", ".join(
            tree(os.path.join(var, "inbox"))[:6]))
    temporaries = [p for p in tree(var) if os.path.basename(p).startswith(".") and os.path.basename(p) != ".work"]
    if temporaries:
        problems.append("temporaires restants : " + ", ".join(temporaries[:6]))
    try:
        state = state_of(root, names)
    except sqlite3.Error as e:
        return problems + [f"store illisible : {e}"]
    snap, ref = state["snap"], reference["snap"]
    if snap["integrity"] != "ok":
        problems.append("PRAGMA integrity_check : " + str(snap["integrity"]))
    if snap["dup_files"]:
        problems.append(f"{snap['dup_files']} dépôt(s) enregistrés deux fois")
    for table, count in ref["counts"].items():
        if snap["counts"].get(table) != count and table not in ("metric_counters",):
            problems.append(f"store : {table} a {snap['counts'].get(table)} lignes au lieu de {count}")
    if snap["exports"] != ref["exports"]:
        problems.append(f"exports enregistrés : {snap['exports']} au lieu de {ref['exports']}")
    if state["exports"] != reference["exports"]:
        problems.append(f"exports dans outbox/ : {state['exports']} au lieu de {reference['exports']}")
    archived = [p for p in state["tree"] if p.startswith("archive/")]
    for name in names:
        _, base = split_name(name)
        acks = acks_of(state["acks"], name)
        ref_rec = ref["deposits"].get(base)
        rec = snap["deposits"].get(base)
        if len(acks) != 1:
            problems.append(f"{name} : {len(acks)} accusé(s) {acks}")
        if rec is None:
            problems.append(f"{name} : absent du store")
            continue
        status, destination, ack_name, ack_content = rec
        if ref_rec and (status, destination, ack_name) != ref_rec[:3]:
            problems.append(f"{name} : {status}/{destination}/{ack_name} au lieu de {ref_rec[:3]}")
        if len(acks) == 1:
            body = state["acks"][acks[0]]
            try:
                xml.dom.minidom.parseString(body)
            except Exception as e:  # noqa: BLE001 - any parse failure is the finding
                problems.append(f"{acks[0]} : XML mal formé ({e})")
            if os.path.basename(acks[0]) != ack_name or body.decode("utf-8", "replace") != ack_content:
                problems.append(f"{acks[0]} : n'est pas l'accusé enregistré ({ack_name})")
            elif ref_rec and body.decode("utf-8", "replace") != ref_rec[3]:
                problems.append(f"{acks[0]} : diffère de l'accusé d'un passage sans panne")
        in_archive = sum(1 for p in archived if os.path.basename(p) == base)
        in_error = int(os.path.isfile(os.path.join(var, "error", base)))
        reason = os.path.isfile(os.path.join(var, "error", base + ".reason.txt"))
        want_error = destination == "error"
        if (in_archive, in_error) != ((0, 1) if want_error else (1, 0)):
            problems.append(f"{name} : original {in_archive}× dans archive/, {in_error}× dans error/ "
                            f"(attendu : {destination})")
        if reason != want_error:
            problems.append(f"{name} : fichier de raison {'absent' if want_error else 'en trop'}")
        # A signed pair: its .p7s once, beside its dépôt, as after a run without failure.
        want_p7s = sorted(p for p in reference["tree"] if os.path.basename(p) == base + ".p7s")
        have_p7s = sorted(p for p in state["tree"] if os.path.basename(p) == base + ".p7s")
        if want_p7s != have_p7s:
            problems.append(f"{name} : signature {have_p7s} au lieu de {want_p7s}")
    # What is kept is never readable by others (originals, .p7s, reason files: rights taken away).
    wrong = sorted(f"{p} {m:o} au lieu de {reference['modes'][p]:o}" for p, m in state["modes"].items()
                   if p in reference["modes"] and m != reference["modes"][p])
    if wrong:
        problems.append("droits des fichiers gardés : " + ", ".join(wrong[:6]))
    known = {a for n in names for a in acks_of(state["acks"], n)}
    unknown = sorted(a for a in state["acks"] if a not in known)
    if unknown:
        problems.append("accusés d'aucun dépôt (ou hors de son dossier) : " + ", ".join(unknown[:6]))
    bases = [split_name(n)[1] for n in names]
    extra = [p for p in tree(os.path.join(var, "error")) if not any(
        p == n or p == n + ".reason.txt" or p == n + ".p7s" for n in bases)]
    if extra:
        problems.append("error/ contient en trop : " + ", ".join(extra[:6]))
    return problems


def work_done(root, names):
    """True when a pass left nothing to do: every dépôt answered and moved."""
    var = os.path.join(root, "var")
    if not drained(root):
        return False
    outbox = outbox_files(root)
    for name in names:
        if not acks_of(outbox, name):
            return False
    return True


def sanitizer_report(log):
    text = read_text(log)
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:", "ERROR: UndefinedBehavior"):
        if marker in text:
            i = text.index(marker)
            return text[max(0, i - 200): i + 600]
    return None


def names_the_failure(log_text, files, error):
    """A log line at error or warning level that names the file hit (or, for the store's own files,
    the store) and the error."""
    words = [STRERROR[error]] + SQLITE_WORDS.get(error, [])
    names = set()
    for f in files:
        base = os.path.basename(f)
        names.add(base)
        if base.startswith("raccord.db"):
            names.update({"raccord.db", "store"})
        if base.startswith("."):  # a temporary: its final name is enough
            names.add(base.split(".")[1] if base.count(".") > 1 else base)
    for line in log_text.splitlines():
        if not (line.startswith("<3>") or line.startswith("<4>") or line.startswith("<2>")):
            continue
        if any(w in line for w in words) and any(n in line for n in names):
            return True
    return False


def pass_problems(code, done, daemon, by_itself, log_text, files, error, exited=False):
    """Problems of the pass that met the failure: its exit status (1 whenever work was left undone,
    never 0 then; never another code), or the daemon's recovery by itself; a log line naming the
    file and the error when it failed. A daemon that `exited` on its own (before the SIGTERM: a
    failure of its start, the configuration, the catalogue, the trust store, the store) must exit 1,
    for systemd to start it again (Restart=on-failure); one that ran must have drained the inbox by its
    own retries and exit 0 on SIGTERM."""
    problems = []
    if code == -999:
        problems.append("passage bloqué (délai dépassé)")
    if daemon and exited:
        if code != 1:
            problems.append(f"le démon s'est arrêté seul avec le code {code} (1 attendu)")
    elif daemon:
        if code != 0:
            problems.append(f"le démon s'est arrêté avec le code {code} sur SIGTERM")
        if not by_itself:
            problems.append("le démon n'a pas repris seul le travail interrompu")
    elif code not in (0, 1):
        problems.append(f"code de sortie {code}")
    elif code == 0 and not done:
        problems.append("code de sortie 0 avec du travail laissé en plan")
    failed_visibly = code == 1 or (daemon and "<3>" in log_text)
    if failed_visibly and not names_the_failure(log_text, files, error):
        problems.append(f"aucune ligne du journal ne nomme l'erreur ({STRERROR[error]}) et le fichier "
                        f"{[os.path.basename(f) for f in files]}")
    return problems


# ---------------------------------------------------------------------------------------------
# The checks checked: each one catches a fault planted in a good state (a check that cannot fail
# would let every injection pass)

def plant_faults(root, names, reference):
    """Plants each fault the checks must catch into a copy of the good state `root` (a finished run
    without failure), one at a time; returns the faults that check_final or pass_problems did NOT
    report."""
    snap = reference["snap"]
    archived = next(n for n in names if "/" not in n and snap["deposits"][n][1] != "error")
    quarantined = next(n for n in names if "/" not in n and snap["deposits"][n][1] == "error")
    pair = next(p for p in reference["tree"] if p.startswith("archive/") and p.endswith(".p7s"))
    quarantined_pair = next(p for p in reference["tree"] if p.startswith("error/") and p.endswith(".p7s"))
    ack = snap["deposits"][archived][2]
    var0 = os.path.join(root, "var")
    archived_rel = next(p for p in tree(var0) if p.startswith("archive/") and os.path.basename(p) == archived)

    def truncate(path):
        with open(path, "rb+") as f:
            f.truncate(os.path.getsize(path) // 2)

    def write(path, text=b"x"):
        with open(path, "wb") as f:
            f.write(text)

    def sql(var, statement):
        con = sqlite3.connect(os.path.join(var, "raccord.db"))
        con.execute(statement)
        con.commit()
        con.close()

    def copy_row(var, table):
        con = sqlite3.connect(os.path.join(var, "raccord.db"))
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")') if r[5] == 0]  # not the key
        con.close()
        sql(var, f'INSERT INTO "{table}" ({",".join(cols)}) SELECT {",".join(cols)} FROM "{table}" LIMIT 1')

    faults = OrderedDict([
        ("accusé absent", lambda v: os.remove(os.path.join(v, "outbox", ack))),
        ("deux accusés", lambda v: shutil.copyfile(os.path.join(v, "outbox", ack),
                                                   os.path.join(v, "outbox", ack.replace(".xml", "_2.xml")))),
        ("accusé tronqué (mal formé)", lambda v: truncate(os.path.join(v, "outbox", ack))),
        ("accusé différent de l'enregistré", lambda v: sql(
            v, f"UPDATE deposits SET ack_content = ack_content || ' ' WHERE file_name = '{archived}'")),
        ("dépôt absent du store", lambda v: sql(v, f"DELETE FROM deposits WHERE file_name = '{archived}'")),
        ("effet appliqué deux fois (une ligne de plus)", lambda v: copy_row(v, "users")),
        ("original resté dans .work/", lambda v: shutil.move(os.path.join(v, archived_rel),
                                                             os.path.join(v, "inbox", ".work", archived))),
        ("original absent", lambda v: os.remove(os.path.join(v, archived_rel))),
        ("original dans archive/ et error/", lambda v: shutil.copyfile(os.path.join(v, archived_rel),
                                                                       os.path.join(v, "error", archived))),
        ("fichier de raison absent", lambda v: os.remove(os.path.join(v, "error", quarantined + ".reason.txt"))),
        ("temporaire restant", lambda v: write(os.path.join(v, "outbox", "." + ack + ".1.host.42.tmp"))),
        ("dépôt resté dans inbox/", lambda v: write(os.path.join(v, "inbox", "zz_nouveau.xml"))),
        ("export en trop", lambda v: write(os.path.join(v, "outbox", "EXPORT_en_trop.csv"))),
        ("signature absente à côté de son dépôt archivé", lambda v: os.remove(os.path.join(v, pair))),
        ("signature restée dans .work/ du compte", lambda v: shutil.move(
            os.path.join(v, quarantined_pair),
            os.path.join(v, "inbox", ".work", SIGNED, os.path.basename(quarantined_pair)))),
        ("signature en double (archive/ et error/)", lambda v: shutil.copyfile(
            os.path.join(v, pair), os.path.join(v, "error", os.path.basename(pair)))),
        ("note de destination restante", lambda v: os.symlink(
            pair[:-4], os.path.join(v, "inbox", ".work", SIGNED, "." + os.path.basename(pair)[:-4] + ".destination"))),
        ("original archivé lisible par tous", lambda v: os.chmod(os.path.join(v, archived_rel), 0o644)),
        ("signature archivée lisible par tous", lambda v: os.chmod(os.path.join(v, pair), 0o644)),
        ("dépôt resté dans inbox/ d'un compte", lambda v: write(os.path.join(v, "inbox", ACCOUNT, "zz.xml"))),
        ("accusé d'un compte dans outbox/", lambda v: write(os.path.join(v, "outbox", "ACK_20_recherche_compte_x.xml"))),
    ])
    missed = []
    copy = root + ".planted"
    for label, plant in faults.items():
        shutil.copytree(root, copy, symlinks=True)
        try:
            plant(os.path.join(copy, "var"))
            if not check_final(copy, names, reference):
                missed.append(label)
        finally:
            shutil.rmtree(copy)
    if check_final(root, names, reference):
        missed.append("(l'état sans panne est lui-même refusé)")
    # The pass's own checks: exit status and log line.
    error_line = "<3>raccord: fsync impossible de /r/var/outbox/ACK_x.xml: Input/output error"
    for label, args, want in [
        ("code 0 avec du travail laissé", (0, False, False, None, "", [], "EIO"), True),
        ("code de sortie autre que 0/1", (134, True, False, None, "", [], "EIO"), True),
        ("passage bloqué", (-999, False, False, None, "", [], "EIO"), True),
        ("échec sans ligne de journal", (1, False, False, None, "<6>raccord: fin", ["/r/var/outbox/ACK_x.xml"], "EIO"), True),
        ("échec nommé au journal (bon)", (1, False, False, None, error_line, ["/r/var/outbox/ACK_x.xml"], "EIO"), False),
        ("démon qui ne reprend pas seul", (0, None, True, False, "", [], "EIO"), True),
        ("démon arrêté sur SIGTERM avec le code 1", (1, None, True, True, error_line, ["/r/var/outbox/ACK_x.xml"], "EIO"), True),
        ("démon arrêté seul avec le code 0", (0, None, True, False, "", [], "EIO", True), True),
        ("démon arrêté seul, code 1 sans ligne de journal", (1, None, True, False, "", ["/r/var/outbox/ACK_x.xml"], "EIO", True), True),
        ("démon arrêté seul, code 1, échec nommé (bon)", (1, None, True, False, error_line, ["/r/var/outbox/ACK_x.xml"], "EIO", True), False),
    ]:
        if bool(pass_problems(*args)) != want:
            missed.append(label)
    return missed


# ---------------------------------------------------------------------------------------------
# The sweep

class Sweep:
    def __init__(self, args):
        self.args = args
        self.binary = os.path.abspath(args.binary)
        self.source = os.path.abspath(args.source)
        base = args.work or tempfile.mkdtemp(prefix="raccord-fault-sweep-", dir=args.tmp)
        os.makedirs(base, exist_ok=True)
        self.base = base
        self.template = os.path.join(base, "template")
        self.run_dir = os.path.join(base, "run")
        self.logs = os.path.join(base, "logs")
        os.makedirs(self.logs, exist_ok=True)

    def fresh(self, run_dir=None):
        run_dir = run_dir or self.run_dir
        if os.path.exists(run_dir):
            shutil.rmtree(run_dir)
        subprocess.run(["cp", "-a", self.template, run_dir], check=True)

    def prepare(self):
        if os.path.exists(self.template):
            shutil.rmtree(self.template)
        self.names = build_template(self.source, self.binary, self.template, self.args.daemon)
        # A run without failure: the reference state.
        self.fresh()
        log = os.path.join(self.logs, "reference.log")
        if self.args.daemon:
            code, done, _ = run_daemon(self.binary, self.run_dir, log, (), 600)
            ok = code == 0 and done
        else:
            ok = run_engine(self.binary, self.run_dir, ["process"], log).returncode == 0
        problems = [] if ok else ["le passage de référence a échoué"]
        self.reference = state_of(self.run_dir, self.names)
        problems += check_final(self.run_dir, self.names, self.reference)
        if problems or sanitizer_report(log):
            sys.exit("référence invalide : " + "; ".join(problems) + f" (journal {log})")
        # The clean traced pass: the occurrences to inject into.
        self.fresh()
        trace = os.path.join(self.logs, "count.trace")
        log = os.path.join(self.logs, "count.log")
        if self.args.daemon:
            code, done, _ = run_daemon(self.binary, self.run_dir, log, strace_prefix(trace, SYSCALLS), 600)
        else:
            code = run_engine(self.binary, self.run_dir, ["process"], log, strace_prefix(trace, SYSCALLS)).returncode
            done = True
        if code != 0 or not done:
            sys.exit(f"passage tracé sans panne en échec ({code}) : {log}")
        self.occurrences = engine_occurrences(trace, self.run_dir)
        # An occurrence is named by its rank among the main thread's calls of that syscall on the
        # engine's files (stable from run to run), and injected at its strace count `when`.
        self.by_rank = {}
        ranks = defaultdict(int)
        for s, n, f in self.occurrences:
            ranks[s] += 1
            self.by_rank[(s, ranks[s])] = (n, f)

    def injections(self):
        by_kind = OrderedDict((s, []) for s in SYSCALLS)
        kinds = set(self.args.syscalls.split(",")) if self.args.syscalls else None
        texts = self.args.files.split(",") if self.args.files else None
        for (s, rank), (_, f) in self.by_rank.items():
            if (kinds and s not in kinds) or (texts and not any(t in f for t in texts)):
                continue
            for e in errnos_of(s):
                by_kind[s].append((s, e, rank))
        if self.args.only:
            return [self.resolve(o) for o in self.args.only.split(",")]
        if not self.args.sample:
            return [i for k in by_kind.values() for i in k]
        rng = random.Random(self.args.seed)
        pools = [rng.sample(k, len(k)) for k in by_kind.values() if k]
        chosen = []
        while len(chosen) < self.args.sample and any(pools):
            for p in pools:
                if p and len(chosen) < self.args.sample:
                    chosen.append(p.pop())
        return sorted(chosen, key=lambda i: (SYSCALLS.index(i[0]), i[2], i[1]))

    def resolve(self, only):
        """SYSCALL:ERRNO:RANK, or SYSCALL:ERRNO:@TEXT[#K]: the K-th (default 1st) call of SYSCALL on
        a file whose name contains TEXT (stable when other calls come and go)."""
        s, e, what = only.split(":", 2)
        if not what.startswith("@"):
            return (s, e, int(what))
        text, _, k = what[1:].partition("#")
        ranks = [r for (sc, r), (_, f) in sorted(self.by_rank.items(), key=lambda kv: kv[0][1])
                 if sc == s and text in f]
        if len(ranks) < int(k or 1):
            sys.exit(f"{only} : pas d'appel {s} sur un fichier contenant « {text} » (--list les montre)")
        return (s, e, ranks[int(k or 1) - 1])

    def inject(self, syscall, error, ordinal, run_dir=None):
        """Runs one injection: the `ordinal`-th call of `syscall` on the engine's files fails with
        `error`. Returns (verdict, problems, detail)."""
        if (syscall, ordinal) not in self.by_rank:
            return "skipped", ["pas d'occurrence de ce rang"], "-"
        n, expected = self.by_rank[(syscall, ordinal)]
        run_dir = run_dir or run_dir
        tag = f"{syscall}-{error}-{ordinal}"
        trace = os.path.join(self.logs, tag + ".trace")
        log = os.path.join(self.logs, tag + ".log")
        # The n-th call of the main thread is the one counted unless the sanitizers' own calls (UBSan's
        # pipe writes on a type check, made by whichever thread misses its cache first) shift it: then
        # the occurrence is found again by its rank among the calls on the engine's files.
        when = n
        for attempt in range(8):  # threads (the daemon's, the sanitizers' reads of /proc) shift counts
            self.fresh(run_dir)
            for p in (trace, log):
                if os.path.exists(p):
                    os.remove(p)
            prefix = strace_prefix(trace, [syscall], (syscall, error, when))
            exited = False
            if self.args.daemon:
                code, by_itself, stopped = run_daemon(self.binary, run_dir, log, prefix, self.args.daemon_deadline)
                exited = not stopped
            else:
                code = run_engine(self.binary, run_dir, ["process"], log, prefix).returncode
                by_itself = None
            calls = parse_trace(trace) if os.path.exists(trace) else []
            main_pid = calls[0]["pid"] if calls else None
            prefix_dir = os.path.normpath(run_dir) + "/"
            rank, hit_rank, rank_at_hit, main_hits, target_index = 0, None, None, [], None
            for c in calls:
                if c["pid"] != main_pid:
                    continue
                if any(p.startswith(prefix_dir) for p in c["paths"]):
                    rank += 1
                    if c["injected"]:
                        hit_rank = rank
                    elif rank == ordinal and not main_hits:
                        target_index = c["index"]
                if c["injected"]:
                    main_hits.append(c)
                    rank_at_hit = rank
            if os.environ.get("RACCORD_SWEEP_DEBUG"):
                print(f"  essai {attempt} when={when} rang touché {hit_rank} (après {rank_at_hit}) voulu {ordinal}")
            if hit_rank == ordinal:
                break
            if target_index is not None and target_index != when:
                # The wanted call came before anything was injected: this run numbered it exactly.
                when = target_index
            elif hit_rank is not None:
                when += ordinal - hit_rank
            elif rank_at_hit is not None and rank_at_hit >= ordinal:  # another file's call, past the wanted one
                when -= rank_at_hit - ordinal + 1
            elif rank_at_hit is not None:  # a call on another file (a log line, a sanitizer's pipe)
                when += max(1, ordinal - rank_at_hit)
            else:  # not reached
                when -= 1
            if when < 1:
                break
        hits = [c for c in calls if c["injected"]]
        files = sorted({p for c in hits for p in c["paths"]})
        hit_files = [normal_label(os.path.relpath(p, run_dir)) for c in main_hits for p in c["paths"]]
        problems = []
        if hit_rank != ordinal:
            return "skipped", [f"occurrence non atteinte (touché : {hit_files})"], expected
        others = [c for c in hits if c["pid"] != main_pid]
        if others:
            problems.append("note : injecté aussi dans un autre thread : " + ", ".join(
                f"{c['syscall']}({','.join(c['paths'])})" for c in others))
        problems.append(f"note : strace when={when}")
        log_text = read_text(log)
        report = sanitizer_report(log)
        if report:
            problems.append("rapport de sanitizer : " + report)
        done = None if self.args.daemon else work_done(run_dir, self.names)
        problems += pass_problems(code, done, self.args.daemon, by_itself, log_text, files, error, exited)
        if exited:
            # The daemon stopped on its own (exit 1): systemd starts it again (Restart=on-failure); so
            # does the sweep, without the failure, and that daemon must drain the inbox by itself.
            problems.append(f"note : le démon s'est arrêté seul (code {code}) ; relancé")
            rlog = os.path.join(self.logs, f"{tag}.restart.log")
            if os.path.exists(rlog):
                os.remove(rlog)
            rcode, rdone, _ = run_daemon(self.binary, run_dir, rlog, (), self.args.daemon_deadline)
            report = sanitizer_report(rlog)
            if report:
                problems.append(f"démon relancé : rapport de sanitizer : {report}")
            if rcode != 0 or not rdone:
                problems.append(f"démon relancé : code {rcode}, boîte {'vidée' if rdone else 'pas vidée'} ({rlog})")
        # Recovery: clean passes until the inbox is empty.
        passes = 0
        while not drained(run_dir) and passes < 3:
            passes += 1
            clog = os.path.join(self.logs, f"{tag}.clean{passes}.log")
            if os.path.exists(clog):
                os.remove(clog)
            c = run_engine(self.binary, run_dir, ["process"], clog).returncode
            report = sanitizer_report(clog)
            if report:
                problems.append(f"passage propre {passes} : rapport de sanitizer : {report}")
            if c != 0:
                problems.append(f"passage propre {passes} : code de sortie {c} ({clog})")
        if passes > 0 and not self.args.daemon:
            # One more clean pass when the inbox was already empty: a leftover recorded but not yet
            # answered would show here.
            pass
        problems += check_final(run_dir, self.names, self.reference)
        real = [p for p in problems if not p.startswith("note :")]
        detail = f"{expected} (touché : {', '.join(hit_files) or '-'} ; code {code})"
        return ("failed" if real else "recovered"), problems, detail


def report_one(args, results, failures, i, total, started, s, e, n, verdict, problems, detail):
    """Counts and prints the outcome of the i-th injection."""
    results[s][verdict] += 1
    if verdict == "failed":
        failures.append((s, e, n, detail, problems))
        print(f"ÉCHEC {s}:{e}:{n} {detail}", flush=True)
        for p in problems:
            print("    " + p.replace("\n", "\n    "), flush=True)
    elif args.only or os.environ.get("RACCORD_SWEEP_VERBOSE"):
        print(f"{verdict} {s}:{e}:{n} {detail}", flush=True)
        for p in problems:
            print("    " + p, flush=True)
    if i % 50 == 0:
        print(f"... {i}/{total} ({time.monotonic() - started:.0f} s)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True, help="the source tree (samples/)")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--full", action="store_true", help="every occurrence of every syscall, every errno")
    mode.add_argument("--sample", type=int, default=0, help="K injections sampled across all syscall kinds")
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=1, help="injections run at the same time (one copy each)")
    mode.add_argument("--only", help="SYSCALL:ERRNO:N, one injection (the reproducer of a failure)")
    ap.add_argument("--syscalls", help="SYSCALL[,SYSCALL]: only the occurrences of these syscalls (--full, --sample, --list)")
    ap.add_argument("--files", help="TEXT[,TEXT]: only the occurrences on a file whose name (relative to the root) "
                    "contains one of these (--full, --sample, --list), e.g. signe/,libre/,.p7s,.destination")
    ap.add_argument("--daemon", action="store_true", help="raccord daemon instead of raccord process")
    ap.add_argument("--daemon-deadline", type=float, default=120.0,
                    help="seconds (real time) the daemon has to drain the inbox by itself")
    ap.add_argument("--work", help="work directory (kept); default: a temporary one, removed when all pass")
    ap.add_argument("--tmp", default="/dev/shm" if os.path.isdir("/dev/shm") else None)
    mode.add_argument("--list", action="store_true", help="print the occurrences and the injections, run none")
    ap.add_argument("--check-the-checks", action="store_true",
                    help="first plant each fault the checks must catch in a good state (fails when one is missed)")
    ap.add_argument("--keep-going", action="store_true", default=True)
    args = ap.parse_args()
    if shutil.which("strace") is None:
        print("strace introuvable (paquet Debian strace : scripts/setup.sh l'installe pour les tests) : test sauté", file=sys.stderr)
        return 77

    sweep = Sweep(args)
    started = time.monotonic()
    sweep.prepare()
    todo = sweep.injections()
    kinds = OrderedDict((s, 0) for s in SYSCALLS)
    for s, _, _ in sweep.occurrences:
        kinds[s] += 1
    mode = "daemon" if args.daemon else "process"
    print(f"raccord {mode} : {len(sweep.names)} dépôts ; occurrences sur les fichiers du moteur : "
          + ", ".join(f"{k} {v}" for k, v in kinds.items() if v), flush=True)
    if args.check_the_checks:
        missed = plant_faults(sweep.run_dir, sweep.names, sweep.reference)
        for m in missed:
            print(f"défaut planté non détecté : {m}")
        print(f"vérifications : {'toutes détectent leur défaut planté' if not missed else f'{len(missed)} aveugle(s)'}")
        if missed:
            return 1
    if args.list:
        chosen = {(s, rank) for s, _, rank in todo}
        for (s, rank), (n, f) in sweep.by_rank.items():
            if (s, rank) in chosen:
                print(f"{s}:{rank}\t(strace when={n})\t{f}")
        print(f"{len(todo)} injections")
        return 0
    results = defaultdict(lambda: defaultdict(int))
    failures = []
    # Injections run `--jobs` at a time, each in its own copy of the template.
    free_dirs = queue.Queue()
    for j in range(max(1, args.jobs)):
        free_dirs.put(os.path.join(sweep.base, f"run{j}"))

    def one(injection):
        run_dir = free_dirs.get()
        try:
            return injection, sweep.inject(*injection, run_dir=run_dir)
        finally:
            free_dirs.put(run_dir)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = pool.map(one, todo)
        for i, ((s, e, n), (verdict, problems, detail)) in enumerate(outcomes, 1):
            report_one(args, results, failures, i, len(todo), started, s, e, n, verdict, problems, detail)
    injected = sum(v["recovered"] + v["failed"] for v in results.values())
    recovered = sum(v["recovered"] for v in results.values())
    skipped = sum(v["skipped"] for v in results.values())
    print("par appel système (injectées / reprises / en échec / non atteintes) :")
    for s in SYSCALLS:
        v = results.get(s)
        if v:
            print(f"  {s:10} {v['recovered'] + v['failed']:5} {v['recovered']:5} {v['failed']:5} {v['skipped']:5}")
    print(f"{injected} injected, {recovered} recovered, {len(failures)} failed"
          + (f" ({skipped} not reached)" if skipped else "")
          + f" — raccord {mode}, {time.monotonic() - started:.0f} s")
    for s, e, n, detail, problems in failures:
        print(f"reproduire : scripts/fault-sweep.sh{' --daemon' if args.daemon else ''} --only {s}:{e}:{n}"
              f"   # {detail} : {problems[0] if problems else ''}")
    if failures or skipped > max(2, injected // 20):
        print(f"répertoire conservé : {sweep.base}")
        return 1
    if not args.work:
        shutil.rmtree(sweep.base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
