#!/usr/bin/env python3
"""Measures `raccord cert` against x509-limbo (C2SP/x509-limbo), from outside.

Usage: scripts/limbo.py LIMBO_JSON [--raccord build/engine/app/raccord] [--openssl] [--keep DIR]

For each case of limbo.json that does not depend on host names (see host_name_dependent), the script
writes the case's trusted certificates into a trust_dir (one PEM file each), the peer certificate and the
untrusted intermediates into one PKCS#7 bundle (`openssl crl2pkcs7 -nocrl -certfile`), and runs
`raccord --config case.ini --now <instant> cert bundle.p7b --protocole AS2` (the instant is the case's
validation_time, else --now of this script, else the current time; revocation off: the suite carries no
CRLs). limbo's cases validate a server's chain (serverAuth); a raccord sheet of AS2 takes a serverAuth
leaf and a clientAuth leaf, so each bundle also carries the clientAuth leaf of a small PKI the script
makes once (make_client_pki, its root added to the trust_dir): raccord's verdict is then the verdict on
limbo's chain as the server leaf of an AS2 sheet. raccord accepts when it exits 0 (warnings allowed), refuses when it exits 1; the expected
answer is limbo's expected_result. With --openssl, `openssl verify` and `openssl verify -x509_strict`
on the same files are measured too, for comparison.

Prints `N cases, N agree (P %)` and a table of the disagreements (case, expected, raccord's codes).
A figure run by hand (docs/revocation.md, "Strictness measured against x509-limbo"), not a CI test.
Python 3 standard library and the openssl command only.
"""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

# The cases whose expected result comes from matching the expected peer name (a DNS name) against the
# leaf's subjectAltName, or from the web PKI's demand of a subjectAltName to match it against: raccord
# checks certificates of SFTP, PESIT, AS2 and API partners, never a host name. Every case of the suite
# carries an expected_peer_name (validation_kind SERVER), so the name alone cannot tell them apart; these
# are the ones whose outcome depends on it (their ids name the SAN: *-san, no-san, san-*-subject).
# Name-constraint cases stay: they constrain the leaf's own names, whatever the peer's name.
HOST_NAME_CASE = re.compile(r"^(webpki::.*san|rfc5280::san-)")


def host_name_dependent(case):
    """True for a case whose expected result depends on the peer's host name (see HOST_NAME_CASE)."""
    if case.get("validation_kind") != "SERVER":
        return False
    if not (case.get("expected_peer_name") or case.get("expected_peer_names")):
        return False
    return bool(HOST_NAME_CASE.match(case["id"]))


def write(path, text):
    with open(path, "w", encoding="ascii") as f:
        f.write(text if text.endswith("\n") else text + "\n")


def iso_instant(case, default):
    t = case.get("validation_time")
    if not t:
        return default
    return datetime.datetime.fromisoformat(t).astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


CLIENT_PKI_CONF = """[ca]
default_ca = harness
[harness]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
[root_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


def openssl(args, cwd):
    done = subprocess.run(["openssl"] + args, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} : {done.stderr.strip()}")


def make_client_pki(work):
    """A P-256 root and a clientAuth leaf valid from 2000 to 2099, RFC 5280-conformant (critical
    basicConstraints, key identifiers, nonzero serials). Returns (root PEM, leaf PEM)."""
    os.makedirs(work)
    write(os.path.join(work, "ca.cnf"), CLIENT_PKI_CONF)
    open(os.path.join(work, "index.txt"), "w", encoding="ascii").close()
    write(os.path.join(work, "serial"), "1000")
    dates = ["-startdate", "20000101000000Z", "-enddate", "20991231235959Z"]
    for name in ("root", "leaf"):
        openssl(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                 f"{name}.key", "-subj", f"/CN=limbo harness client {name}", "-out", f"{name}.csr"], work)
    openssl(["ca", "-batch", "-notext", "-config", "ca.cnf", "-selfsign", "-keyfile", "root.key", "-in", "root.csr",
             "-out", "root.pem", "-extensions", "root_ext"] + dates, work)
    openssl(["ca", "-batch", "-notext", "-config", "ca.cnf", "-cert", "root.pem", "-keyfile", "root.key", "-in",
             "leaf.csr", "-out", "leaf.pem", "-extensions", "leaf_ext"] + dates, work)
    with open(os.path.join(work, "root.pem"), encoding="ascii") as r, open(os.path.join(work, "leaf.pem"),
                                                                            encoding="ascii") as l:
        return r.read(), l.read()


def prepare(case, work, client):
    """Writes trust/ (the case's anchors and the client root), chain.pem (leaf then intermediates),
    bundle.p7b (the same and the client leaf) and case.ini into `work`."""
    trust = os.path.join(work, "trust")
    os.makedirs(trust)
    for i, pem in enumerate(case["trusted_certs"]):
        write(os.path.join(trust, f"anchor{i}.pem"), pem)
    write(os.path.join(trust, "harness-client-root.pem"), client[0])
    chain = os.path.join(work, "chain.pem")
    write(chain, "\n".join([case["peer_certificate"]] + list(case["untrusted_intermediates"])))
    with_client = os.path.join(work, "bundle.pem")
    write(with_client, "\n".join([case["peer_certificate"]] + list(case["untrusted_intermediates"]) + [client[1]]))
    bundle = os.path.join(work, "bundle.p7b")
    openssl(["crl2pkcs7", "-nocrl", "-certfile", with_client, "-outform", "DER", "-out", bundle], work)
    ini = os.path.join(work, "case.ini")
    write(
        ini,
        "[paths]\nroot = var\n\n[certificates]\ntrust_dir = trust\nrevocation = aucune\n",
    )
    return ini, bundle, trust, chain


def run_raccord(raccord, ini, bundle, now):
    env = dict(os.environ)
    env.pop("RACCORD_CONFIG", None)
    env.pop("RACCORD_NOW", None)
    done = subprocess.run(
        [raccord, "--config", ini, "--now", now, "cert", bundle, "--protocole", "AS2", "--format", "xml"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"raccord cert : code {done.returncode} : {done.stderr.strip()}")
    codes = sorted(set(re.findall(r'<Erreur[^>]*code="([A-Z_]+)"', done.stdout)))
    return done.returncode == 0, codes


def run_openssl(trust, chain, case, strict):
    """openssl verify with the case's anchors and intermediates; True when it accepts the leaf."""
    work = os.path.dirname(chain)
    anchors = os.path.join(work, "anchors.pem")
    write(anchors, "\n".join(case["trusted_certs"]))
    args = ["openssl", "verify", "-CAfile", anchors]
    if case["untrusted_intermediates"]:
        inter = os.path.join(work, "untrusted.pem")
        write(inter, "\n".join(case["untrusted_intermediates"]))
        args += ["-untrusted", inter]
    if case.get("validation_time"):
        args += ["-attime", str(int(datetime.datetime.fromisoformat(case["validation_time"]).timestamp()))]
    if strict:
        args.append("-x509_strict")
    leaf = os.path.join(work, "leaf.pem")
    write(leaf, case["peer_certificate"])
    args.append(leaf)
    return subprocess.run(args, capture_output=True, text=True, check=False).returncode == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("limbo_json")
    parser.add_argument("--raccord", default="build/engine/app/raccord")
    parser.add_argument("--now", help="instant for cases without validation_time (ISO 8601, UTC)")
    parser.add_argument("--openssl", action="store_true", help="measure openssl verify too")
    parser.add_argument("--keep", help="write each case's files under this directory and keep them")
    args = parser.parse_args()

    with open(args.limbo_json, encoding="utf-8") as f:
        limbo = json.load(f)
    cases = limbo["testcases"]
    kept = [c for c in cases if not host_name_dependent(c)]
    default_now = args.now or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    raccord = os.path.abspath(args.raccord)

    agree = 0
    openssl_agree = {False: 0, True: 0}
    disagreements = []
    with tempfile.TemporaryDirectory(prefix="limbo-") as tmp:
        root = args.keep or tmp
        client = make_client_pki(os.path.join(root, "client-pki"))
        for n, case in enumerate(kept):
            work = os.path.join(root, f"{n:03d}-" + re.sub(r"[^A-Za-z0-9_.-]", "_", case["id"]))
            os.makedirs(work)
            ini, bundle, trust, chain = prepare(case, work, client)
            expected = case["expected_result"] == "SUCCESS"
            accepted, codes = run_raccord(raccord, ini, bundle, iso_instant(case, default_now))
            if accepted == expected:
                agree += 1
            else:
                disagreements.append((case["id"], case["expected_result"], "accepte" if accepted else "refuse", codes))
            if args.openssl:
                for strict in (False, True):
                    if run_openssl(trust, chain, case, strict) == expected:
                        openssl_agree[strict] += 1

    total = len(kept)
    print(f"limbo.json: {len(cases)} cases, {len(cases) - total} depending on host names skipped")
    print(f"{total} cases, {agree} agree ({100.0 * agree / total:.1f} %)")
    if args.openssl:
        for strict, label in ((False, "openssl verify"), (True, "openssl verify -x509_strict")):
            n = openssl_agree[strict]
            print(f"  {label}: {n} agree ({100.0 * n / total:.1f} %)")
    if disagreements:
        print()
        print("| case | limbo | raccord | codes |")
        print("|---|---|---|---|")
        for case_id, expected, got, codes in disagreements:
            print(f"| `{case_id}` | {expected} | {got} | {', '.join(codes) or '—'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
