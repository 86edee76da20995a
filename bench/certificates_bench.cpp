// Cost of the certificate rules for one sheet bundle (issue 3): cold (the CA cache emptied before each
// check: the whole chain is verified, the intermediate decoded) and warm (the intermediate already
// proved and decoded: only the leaf is decoded and verified); warm on 1 and 2 threads (issue 7).
// The bundle: PKCS#7 DER (base64) of a leaf EC P-256 + the test intermediate, anchored at the test root.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "rules/certificates.hpp"
#include "tests/support/test_pki.hpp"

namespace {

using raccord::Instant;
using raccord::Protocol;
using raccord::SheetOperation;
using raccord::rules::CertificateChecker;
using raccord::rules::CertificatePolicy;
using raccord::testing::LeafOptions;
using raccord::testing::TestPki;

const Instant kNow = *raccord::parse_iso_instant("2026-06-10T10:00:00Z");

const std::filesystem::path& trust_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("raccord-bench-trust-" + std::to_string(::getpid()));
    TestPki::instance().write_trust_dir(d);
    return d;
  }();
  return dir;
}

SheetOperation sheet(const LeafOptions& leaf = {}) {
  SheetOperation s;
  s.has_certificates = true;
  s.certificates_line = 10;
  raccord::CertificateField f;
  f.content = TestPki::instance().bundle_base64(leaf);
  f.line = 11;
  f.index = 1;
  s.certificates.push_back(f);
  return s;
}

CertificatePolicy policy() {
  CertificatePolicy p;
  p.trust_dir = trust_dir();
  return p;
}

void check_or_fail(benchmark::State& state, const CertificateChecker& checker, const SheetOperation& s) {
  auto report = checker.check(s, Protocol::Sftp, kNow);
  if (!report.diagnostics.empty()) state.SkipWithError("the bundle should be accepted");
  benchmark::DoNotOptimize(report);
}

void BM_CheckBundleCold(benchmark::State& state) {
  CertificateChecker checker(policy());
  const SheetOperation s = sheet();
  for ([[maybe_unused]] auto _ : state) {
    state.PauseTiming();
    checker.clear_cache();
    state.ResumeTiming();
    check_or_fail(state, checker, s);
  }
  state.counters["full"] = static_cast<double>(checker.cache_stats().full_verifications);
}
BENCHMARK(BM_CheckBundleCold);

void BM_CheckBundleWarm(benchmark::State& state) {
  CertificateChecker checker(policy());
  const SheetOperation s = sheet();
  check_or_fail(state, checker, s);  // proves the intermediate
  for ([[maybe_unused]] auto _ : state) check_or_fail(state, checker, s);
  const auto stats = checker.cache_stats();
  state.counters["full"] = static_cast<double>(stats.full_verifications);
  state.counters["cached"] = static_cast<double>(stats.cached_verifications);
}
BENCHMARK(BM_CheckBundleWarm);

// Warm checks of one checker shared by 1 and 2 threads (issue 7): each check decodes in an OpenSSL
// library context of its own, so two threads should check about twice as many bundles per second
// (in OpenSSL 3.0's default context, two threads decoding ran no faster than one). Real time.
void BM_CheckBundleWarmThreads(benchmark::State& state) {
  static const CertificateChecker checker(policy());
  static const SheetOperation s = sheet();  // made once: the test PKI is not for several threads
  check_or_fail(state, checker, s);
  for ([[maybe_unused]] auto _ : state) check_or_fail(state, checker, s);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckBundleWarmThreads)->Threads(1)->Threads(2)->UseRealTime();

// For scale: a new checker per bundle (trust store loaded from disk each time).
void BM_CheckBundleFreshChecker(benchmark::State& state) {
  const SheetOperation s = sheet();
  for ([[maybe_unused]] auto _ : state) {
    CertificateChecker checker(policy());
    check_or_fail(state, checker, s);
  }
}
BENCHMARK(BM_CheckBundleFreshChecker);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(trust_dir());
  return 0;
}
