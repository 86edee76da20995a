#!/usr/bin/env python3
"""Order of durability of one `raccord process` pass (issue 20; docs/design.md "What a power loss
leaves"), read from the syscalls it makes (strace -f -y) on the fixed inbox of fault_sweep.py (the
sample story, a DOUBLON, two quarantined originals with their reason files, a Recherche with two
exports, a full group of 128 and a smaller one; two sender accounts, one signed, whose dépôts are judged in
their own inbox/NAME/, inbox/.work/NAME/ and outbox/NAME/; two signed dépôts a crash left in .work/). A power loss keeps what was made durable (fsync,
fdatasync, syncfs) and may lose anything else; so for every dépôt X, with its accusé A and exports:
 1. claim: X's rename into inbox/.work/ is made durable (fsync of .work/ and of inbox/) before the
    store transaction that records X is;
 2. commit before accusé: when A becomes visible (its rename into outbox/), every write made to the
    store before it is durable (an fdatasync/fsync of that store file, or a syncfs, after it);
 3. whole accusé: A's bytes are durable (fsync of its temporary or a syncfs) before its rename;
 4. exports before accusé: each export A names is visible, its bytes durable, before A;
 5. accusé before original: A's rename is durable (fsync of outbox/) before X leaves .work/;
 6. reason before original: a quarantined X's reason file is durable (bytes and name) before X
    reaches error/;
 7. the original's move is durable (fsync of its new directory, then of .work/) before the pass ends.
Each rule is first broken on purpose in the recorded trace (a sync removed, an accusé moved after
its original) and must be caught: a check that cannot fail proves nothing.
Exit 1 naming each broken rule and file. Usage: power_loss_order.py --binary B --source S
"""
import argparse
import os
import shutil
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fault_sweep as fsw  # noqa: E402

TRACED = ["openat", "write", "pwrite64", "fsync", "fdatasync", "syncfs", "rename", "renameat2", "link",
          "linkat", "unlink", "unlinkat"]
SYNCS = {"fsync", "fdatasync"}
RENAMES = {"rename", "renameat2", "link", "linkat"}


class Timeline:
    """The pass's calls in completion order, and questions about durability at a given index."""

    def __init__(self, calls, root):
        self.calls = [c for c in calls if c["result"] != "-1"]
        self.root = os.path.normpath(root)

    def renames(self, to_pred, from_pred=lambda p: True):
        return [(i, c) for i, c in enumerate(self.calls) if c["syscall"] in RENAMES and len(c["paths"]) == 2
                and to_pred(c["paths"][1]) and from_pred(c["paths"][0])]

    def synced_after(self, path, start, end, data=True):
        """An fsync/fdatasync of `path` (or, for file data, a syncfs) in (start, end)."""
        for c in self.calls[start + 1:end]:
            if c["syscall"] in SYNCS and c["paths"] == [path]:
                return True
            if data and c["syscall"] == "syncfs":
                return True
        return False

    def last_write(self, pred, end):
        for i in range(end - 1, -1, -1):
            c = self.calls[i]
            if c["syscall"] in ("write", "pwrite64") and c["paths"] and pred(c["paths"][0]):
                return i
        return None


def files_under(top):
    """Every file path under `top` (the state of a folder before the pass)."""
    return {os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs}


def check(root, calls, db, before):
    """The rules above for every dépôt of the store, each in its channel's folders (inbox/NAME/,
    inbox/.work/NAME/, outbox/NAME/ for a sender account). `before`: the files present before the pass; a
    dépôt a crash left claimed in .work/ has no claim in the trace (rule 1 is not judged), one whose accusé was
    already visible was answered by the pass before (nothing to judge)."""
    var = os.path.join(root, "var")
    t = Timeline(calls, root)
    store_files = {os.path.join(var, "raccord.db" + s) for s in ("", "-wal", "-journal")}
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    deposits = con.execute("SELECT file_name, ack_name, destination, channel FROM deposits").fetchall()
    exports = {}
    for name, ack in con.execute("SELECT name, ack_name FROM exports"):
        exports.setdefault(ack, []).append(name)
    con.close()
    problems = []
    end = len(t.calls)
    for file_name, ack, destination, channel in deposits:
        inbox = os.path.join(var, "inbox", channel) if channel else os.path.join(var, "inbox")
        work = os.path.join(var, "inbox", ".work", channel) if channel else os.path.join(var, "inbox", ".work")
        outbox = os.path.join(var, "outbox", channel) if channel else os.path.join(var, "outbox")
        claimed = os.path.join(work, file_name)
        ack_path = os.path.join(outbox, ack)
        if ack_path in before:
            continue  # answered by the pass before this one (its crash left only the .p7s to move)
        left_claimed = claimed in before
        claims = t.renames(lambda p, c=claimed: p == c, lambda p, i=inbox: p == os.path.join(i, file_name))
        shown = t.renames(lambda p, a=ack_path: p == a)
        leaves = t.renames(lambda p: p.startswith(os.path.join(var, destination) + "/")
                           and os.path.basename(p).startswith(file_name), lambda p, c=claimed: p == c)
        if len(claims) != (0 if left_claimed else 1) or len(shown) != 1 or len(leaves) != 1:
            problems.append(f"{file_name} : {len(claims)} claim(s), {len(shown)} accusé(s) rendu(s) visible(s), "
                            f"{len(leaves)} départ(s) de .work/ dans la trace")
            continue
        ai, li = shown[0][0], leaves[0][0]
        # 1. The claim lasts before the commit that records the dépôt.
        if not left_claimed:
            ci = claims[0][0]
            commit = next((i for i in range(ci + 1, ai) if t.calls[i]["syscall"] in SYNCS
                           and t.calls[i]["paths"] and t.calls[i]["paths"][0] in store_files), None)
            if commit is None:
                problems.append(f"{file_name} : aucune synchronisation du store entre son claim et son accusé")
            elif not (t.synced_after(work, ci, commit, data=False)
                      and t.synced_after(inbox, ci, commit, data=False)):
                problems.append(f"{file_name} : claim non rendu durable (fsync de .work/ et inbox/) avant le commit")
        # 2. Every store write before the accusé is durable.
        w = t.last_write(lambda p: p in store_files, ai)
        if w is not None and not t.synced_after(t.calls[w]["paths"][0], w, ai):
            problems.append(f"{ack} : visible alors que l'écriture du store #{w} n'est pas encore durable")
        # 3. The accusé's bytes are durable before its rename.
        tmp = shown[0][1]["paths"][0]
        w = t.last_write(lambda p, tmp=tmp: p == tmp, ai)
        if w is None and tmp != ack_path:
            problems.append(f"{ack} : aucune écriture de son temporaire {os.path.basename(tmp)}")
        elif w is not None and not t.synced_after(tmp, w, ai):
            problems.append(f"{ack} : renommé avant que son contenu soit durable")
        # 4. Its exports: visible and durable before it.
        for e in exports.get(ack, []):
            e_path = os.path.join(outbox, e)
            e_shown = t.renames(lambda p, e_path=e_path: p == e_path)
            if len(e_shown) != 1 or e_shown[0][0] > ai:
                problems.append(f"{ack} : visible avant son export {e}")
                continue
            ei = e_shown[0][0]
            etmp = e_shown[0][1]["paths"][0]
            w = t.last_write(lambda p, etmp=etmp: p == etmp, ei)
            if w is not None and not t.synced_after(etmp, w, ei):
                problems.append(f"{e} : renommé avant que son contenu soit durable")
            if not t.synced_after(outbox, ei, ai, data=False):
                problems.append(f"{e} : son nom n'est pas durable avant l'accusé {ack}")
        # 5. The accusé's name lasts before the original leaves .work/.
        if not (ai < li and t.synced_after(outbox, ai, li, data=False)):
            problems.append(f"{file_name} : quitte .work/ avant que l'accusé {ack} soit durable (fsync de outbox/)")
        final = leaves[0][1]["paths"][1]
        # 6. A quarantined original's reason file lasts before the original reaches error/.
        if destination == "error":
            reason_path = final + ".reason.txt"
            r = t.renames(lambda p, r=reason_path: p == r)
            if len(r) != 1 or r[0][0] > li:
                problems.append(f"{file_name} : arrive dans error/ avant son fichier de raison")
            else:
                ri, rc = r[0]
                w = t.last_write(lambda p, rt=rc["paths"][0]: p == rt, ri)
                if w is not None and not t.synced_after(rc["paths"][0], w, ri):
                    problems.append(f"{file_name} : fichier de raison renommé avant que son contenu soit durable")
                if not t.synced_after(os.path.dirname(final), ri, li, data=False):
                    problems.append(f"{file_name} : fichier de raison non durable avant l'original")
        # 7. The move lasts: its new directory, then .work/ — and no fsync of .work/ comes between the move and
        #    the fsync of its new directory (it would make the departure durable before the arrival).
        dest_sync = next((i for i in range(li + 1, end) if t.calls[i]["syscall"] in SYNCS
                          and t.calls[i]["paths"] == [os.path.dirname(final)]), None)
        if dest_sync is None or not t.synced_after(work, dest_sync, end, data=False):
            problems.append(f"{file_name} : déplacement vers {destination}/ non rendu durable avant la fin du passage")
        elif t.synced_after(work, li, dest_sync, data=False):
            problems.append(f"{file_name} : départ de .work/ rendu durable avant son arrivée dans {destination}/")
    return problems, len(deposits)


def planted_faults(root, calls, before):
    """Each rule broken on purpose in the good trace `calls` (a call removed or moved): the rules
    that check() did NOT catch (a check that cannot fail proves nothing)."""
    var = os.path.join(root, "var")
    work, outbox = os.path.join(var, "inbox", ".work"), os.path.join(var, "outbox")
    store = os.path.join(var, "raccord.db")

    def without(pred):
        return [c for c in calls if not pred(c)]

    def is_sync_of(c, pred):
        return c["syscall"] in SYNCS and c["paths"] and pred(c["paths"][0])

    def ack_after_original(cs):
        """The first accusé made visible after its original left .work/."""
        cs = list(cs)
        i = next(i for i, c in enumerate(cs) if c["syscall"] in RENAMES and len(c["paths"]) == 2
                 and os.path.basename(c["paths"][1]).startswith("ACK_"))
        j = next(j for j, c in enumerate(cs) if j > i and c["syscall"] in RENAMES and len(c["paths"]) == 2
                 and c["paths"][0].startswith(work + "/"))
        cs.insert(j, cs.pop(i))
        return cs

    def work_before_archive(cs):
        """The last fsync of an archive directory (a group's, then its channel's .work/) moved after that fsync of
        .work/."""
        cs = list(cs)
        in_work = lambda p: p == work or p.startswith(work + "/")  # noqa: E731
        i = max(i for i, c in enumerate(cs) if is_sync_of(c, lambda p: p.startswith(os.path.join(var, "archive")))
                and any(is_sync_of(d, in_work) for d in cs[i + 1:]))
        j = next(j for j, c in enumerate(cs) if j > i and is_sync_of(c, in_work))
        cs.insert(j, cs.pop(i))
        return cs

    faults = {
        "1 claim non durable (fsync de .work/ retiré)": without(lambda c: is_sync_of(c, lambda p: p == work)),
        "1 claim d'un compte non durable (fsync de .work/NAME/ retiré)": without(
            lambda c: is_sync_of(c, lambda p: p.startswith(work + "/") and os.path.isdir(p))),
        "4/5 nom de l'accusé d'un compte non durable (fsync de outbox/NAME/ retiré)": without(
            lambda c: is_sync_of(c, lambda p: p.startswith(outbox + "/") and os.path.isdir(p))),
        "2 commit non durable (synchronisations du store retirées)": without(
            lambda c: is_sync_of(c, lambda p: p.startswith(store))),
        "3 accusé non durable (syncfs et fsync des temporaires retirés)": without(
            lambda c: c["syscall"] == "syncfs" or is_sync_of(c, lambda p: os.path.basename(p).startswith("."))),
        "5 accusé après le départ de l'original": ack_after_original(calls),
        "4/5 nom de l'accusé non durable (fsync de outbox/ retiré)": without(
            lambda c: is_sync_of(c, lambda p: p == outbox)),
        "6 original avant son fichier de raison": without(
            lambda c: c["syscall"] in RENAMES and len(c["paths"]) == 2 and c["paths"][1].endswith(".reason.txt")),
        "7 déplacement non durable (fsync de archive/ retiré)": without(
            lambda c: is_sync_of(c, lambda p: p.startswith(os.path.join(var, "archive")))),
        "7 départ de .work/ durable avant l'arrivée (fsync de .work/ avant celui de archive/)": work_before_archive(calls),
    }
    return [label for label, cs in faults.items() if not check(root, cs, store, before)[0]]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--tmp", default=None)
    args = ap.parse_args()
    if shutil.which("strace") is None:
        print("strace introuvable (paquet Debian strace) : test sauté", file=sys.stderr)
        return 77
    base = tempfile.mkdtemp(prefix="raccord-power-loss-", dir=args.tmp)
    root = os.path.join(base, "root")
    names = fsw.build_template(os.path.abspath(args.source), os.path.abspath(args.binary), root, False)
    before = files_under(os.path.join(root, "var", "inbox", ".work")) | files_under(os.path.join(root, "var", "outbox"))
    trace, log = os.path.join(base, "pass.trace"), os.path.join(base, "pass.log")
    code = fsw.run_engine(os.path.abspath(args.binary), root, ["process"], log, fsw.strace_prefix(trace, TRACED))
    if code.returncode != 0 or not fsw.drained(root):
        print(f"le passage a échoué ({code.returncode}) : {log}")
        return 1
    devices = {os.stat(os.path.join(root, "var", d)).st_dev for d in ("inbox", "outbox", "archive", "error")}
    devices.add(os.stat(os.path.join(root, "var", "raccord.db")).st_dev)
    if len(devices) != 1:
        print("racine sur plusieurs systèmes de fichiers : ce test suppose un seul (syncfs)")
        return 1
    calls = fsw.parse_trace(trace)
    missed = planted_faults(root, calls, before)
    for m in missed:
        print(f"règle enfreinte exprès non détectée : {m}")
    if missed:
        print(f"trace conservée : {trace}")
        return 1
    problems, count = check(root, calls, os.path.join(root, "var", "raccord.db"), before)
    for p in problems:
        print("ordre de durabilité : " + p)
    print(f"{count} dépôts ({len(names)} déposés), {len(problems)} règle(s) enfreinte(s)")
    if problems:
        print(f"trace conservée : {trace}")
        return 1
    shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
