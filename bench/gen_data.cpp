// raccord_bench_gen: writes the data of the end-to-end harness bench/run (issue 7) with the project's test
// PKI (tests/support/test_pki.hpp): realistic sheets, each with its own EC P-256 leaf (clientAuth) under one
// of a few shared intermediate CAs, all anchored at the test root.
//
// The test PKI's keys are made anew in each process: everything must be written by ONE invocation.
// Usage: raccord_bench_gen TRUST_DIR WORLD_DIR [DIR:STEM:N:PER:DU:AU:PAD_MIB ...]
//   TRUST_DIR/root.pem       the test root, the only trust anchor;
//   WORLD_DIR/00_referentiel.xml, 01_espace.xml: the user g.martin, the structure ACME (SIRET
//                            12345678200010) with g.martin as gestionnaire, and its space, so that g.martin
//                            may submit sheets;
//   each spec writes ceil(N / PER) dépôts DIR/STEM_<k>.xml (mode partielle) holding N FicheEDI in all, PER per
//   dépôt, period DU..AU (AAAA-MM-JJ); PAD_MIB > 0 appends that many MiB of XML comments to each dépôt
//   (figure 5: reading a big file).
//   A spec "crl=DIR:N" writes instead the CRLs of figure 8 into DIR: root.crl (the test root's, empty) and
//   intermediate-<i>.crl, one per issuing CA, each listing N serials that are no sheet's (filler entries),
//   current at bench/run's instant (thisUpdate 2026-11-28, nextUpdate 2026-12-05).
//   A spec "sign=DIR:SIGNERS" signs every DIR/*.xml written so far (an earlier spec's) with one signer of the
//   test root (a detached CMS signature, as `openssl cms -sign -binary -outform DER` makes it) into
//   DIR/<name>.xml.p7s, and writes its certificate into the PEM file SIGNERS (a sender account's
//   `signataires`, figure 11 signed: docs/accounts.md).
// Output: the files; "N sheets in K dépôts" on stdout. Exit 0, or 2 on a usage error.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support/test_pki.hpp"

namespace {

using raccord::testing::CaOptions;
using raccord::testing::LeafOptions;
using raccord::testing::TestCa;
using raccord::testing::TestPki;

constexpr int kIntermediates = 4;  // "a few shared CAs"

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) {
    std::cerr << "cannot write " << path << "\n";
    std::exit(1);
  }
}

std::string depot(const std::string& attributes, const std::string& operations) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Depot xmlns=\"urn:raccord:depot:1\" " + attributes + ">\n" +
         operations + "</Depot>\n";
}

/// One FicheEDI of g.martin for ACME, SFTP, with its own leaf under `ca`.
std::string sheet(const TestCa& ca, long index, const std::string& du, const std::string& au) {
  LeafOptions leaf;
  leaf.common_name = "sftp-" + std::to_string(index) + ".acme-logistique.example.com";
  const std::string bundle = TestPki::base64(TestPki::pkcs7_der({ca.leaf_der(leaf), ca.der()}));
  std::string out;
  out.reserve(bundle.size() + 1024);
  out += "  <FicheEDI action=\"soumettre\" reference=\"bench-" + std::to_string(index) + "\">\n";
  out += "    <Partenaire>12345678200010</Partenaire>\n    <Protocole>SFTP</Protocole>\n";
  out += "    <Periode du=\"" + du + "\" au=\"" + au + "\"/>\n";
  out += "    <Certificats>\n      <Certificat nom=\"client-" + std::to_string(index) + ".p7b\">\n";
  out += bundle;
  out += "      </Certificat>\n    </Certificats>\n";
  out +=
      "    <ContactTechnique nomPrenom=\"Julien Dupont\" telephone=\"01 23 45 67 89\" "
      "email=\"j.dupont@exemple.fr\"/>\n";
  out += "    <CodesInterface>\n      <Interface code=\"FSO1100A\" mode=\"complete\"/>\n    </CodesInterface>\n";
  out += "    <Commentaires>Fiche de banc d'essai n° " + std::to_string(index) + ".</Commentaires>\n";
  out += "  </FicheEDI>\n";
  return out;
}

/// A whole decimal number (std::atol would read "12x" as 12 and "x" as 0); -1 when it is not one.
long number(const std::string& text) {
  long value = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} && end == text.data() + text.size() ? value : -1;
}

int usage() {
  std::cerr << "usage: raccord_bench_gen TRUST_DIR WORLD_DIR [DIR:STEM:N:PER:DU:AU:PAD_MIB | crl=DIR:N | "
               "sign=DIR:SIGNERS ...]\n";
  return 2;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out(1);
  for (char c : text) {
    if (c == sep) {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const TestPki& pki = TestPki::instance();
  const std::filesystem::path trust = argv[1];
  const std::filesystem::path world = argv[2];
  pki.write_trust_dir(trust);
  std::filesystem::create_directories(world);
  write_file(world / "00_referentiel.xml",
             depot("identifiant=\"BENCH-REF\" mode=\"complete\" demandeur=\"support.n1\"",
                   "  <Utilisateur login=\"g.martin\" email=\"g.martin@exemple.fr\" support=\"false\"/>\n"
                   "  <Structure siret=\"12345678200010\" raisonSociale=\"ACME Logistique SAS\" statut=\"ACTIF\" "
                   "type=\"privee\" raccordeeQualification=\"true\" tiersTeletransmission=\"false\">\n"
                   "    <Gestionnaire login=\"g.martin\" role=\"principal\"/>\n"
                   "    <UtilisateurTechnique login=\"TECH_ACME_0001@example.com\"/>\n"
                   "  </Structure>\n"));
  write_file(world / "01_espace.xml",
             depot("identifiant=\"BENCH-ESP\"",
                   "  <ActivationEspace demandeur=\"g.martin\" structure=\"12345678200010\"/>\n"));

  // A few intermediates under the test root (the engine proves each once, then only the leaves).
  std::vector<TestCa> cas;
  cas.push_back(pki.intermediate());
  for (int i = 1; i < kIntermediates; ++i) {
    CaOptions options;
    options.common_name = "Raccord Bench Intermediate CA " + std::to_string(i);
    cas.push_back(pki.root().issue_ca(options));
  }

  long index = 0;  // over all specs: every sheet has its own reference and leaf
  for (int a = 3; a < argc; ++a) {
    if (const std::string arg = argv[a]; arg.rfind("sign=", 0) == 0) {
      const std::vector<std::string> c = split(arg.substr(5), ':');
      if (c.size() != 2) return usage();
      raccord::testing::LeafOptions options;
      options.common_name = "Banc de signature ACME";
      const raccord::testing::TestSigner signer = pki.root().signer(options);
      long signed_files = 0;
      for (const auto& entry : std::filesystem::directory_iterator(c[0])) {
        if (entry.path().extension() != ".xml") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        write_file(entry.path().string() + ".p7s", signer.sign(bytes));
        ++signed_files;
      }
      write_file(c[1], signer.pem());
      std::cout << "signed: " << signed_files << " dépôts of " << c[0] << "\n";
      continue;
    }
    if (const std::string arg = argv[a]; arg.rfind("crl=", 0) == 0) {
      const std::vector<std::string> c = split(arg.substr(4), ':');
      if (c.size() != 2 || number(c[1]) < 0) return usage();
      const std::filesystem::path dir = c[0];
      std::filesystem::create_directories(dir);
      raccord::testing::CrlOptions options;
      options.this_update = "2026-11-28T00:00:00Z";
      options.next_update = "2026-12-05T00:00:00Z";
      write_file(dir / "root.crl", TestPki::crl_pem({pki.root().crl_der(options)}));
      options.filler_entries = static_cast<std::size_t>(number(c[1]));
      for (std::size_t i = 0; i < cas.size(); ++i) {
        write_file(dir / ("intermediate-" + std::to_string(i) + ".crl"), TestPki::crl_pem({cas[i].crl_der(options)}));
      }
      std::cout << "CRL: " << cas.size() << " issuing CAs, " << options.filler_entries << " entries each\n";
      continue;
    }
    const std::vector<std::string> f = split(argv[a], ':');
    if (f.size() != 7) return usage();
    const std::filesystem::path dir = f[0];
    const std::string& stem = f[1];
    const long n = number(f[2]);
    const long per = number(f[3]);
    const long pad_mib = number(f[6]);
    if (n <= 0 || per <= 0 || pad_mib < 0) return usage();
    std::filesystem::create_directories(dir);
    long written = 0;
    long files = 0;
    while (written < n) {
      const long count = std::min(per, n - written);
      std::string ops;
      for (long i = 0; i < count; ++i, ++index) {
        ops += sheet(cas[static_cast<std::size_t>(index % kIntermediates)], index, f[4], f[5]);
      }
      if (pad_mib > 0) {
        const std::string line = "  <!-- " + std::string(120, 'x') + " -->\n";
        const long lines = pad_mib * 1024 * 1024 / static_cast<long>(line.size());
        ops.reserve(ops.size() + static_cast<std::size_t>(lines) * line.size());
        for (long i = 0; i < lines; ++i) ops += line;
      }
      char name[64];
      std::snprintf(name, sizeof name, "_%06ld.xml", files);
      write_file(dir / (stem + name), depot("identifiant=\"" + stem + "-" + std::to_string(files) +
                                                "\" mode=\"partielle\" demandeur=\"g.martin\"",
                                            ops));
      written += count;
      ++files;
    }
    std::cout << stem << ": " << written << " sheets in " << files << " dépôts\n";
  }
  return 0;
}
