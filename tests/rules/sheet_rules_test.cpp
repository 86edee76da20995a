// Tests of rules/sheet_rules.cpp: the store-independent content rules of docs/reference.md §4 (protocol,
// period, contact, network, interface codes), each code from a SheetOperation built here.
#include "rules/sheet_rules.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace raccord::rules {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

const CivilDate kToday{year{2026}, month{11}, day{29}};  // fixed processing date

Field f(std::string value, int line) {
  return Field{std::move(value), line, true};
}

/// A complete, valid AS2 sheet (docs/reference.md §3.3 example), lines as in a real dépôt.
SheetOperation valid_as2_sheet() {
  SheetOperation s;
  s.kind = SheetKind::Edi;
  s.action = SheetAction::Soumettre;
  s.partner = f("81034732800017", 3);
  s.protocol = f("AS2", 4);
  s.has_period = true;
  s.period_from = f("2026-12-01", 5);
  s.period_to = f("2099-06-30", 5);
  s.has_contact = true;
  s.contact_line = 9;
  s.contact_name = f("John Doe", 9);
  s.contact_phone = f("01 23 45 67 89", 9);
  s.contact_email = f("johndoe@exemple.com", 9);
  s.contact_fax = f("", 9);
  s.has_network = true;
  s.network_line = 11;
  s.network_identifier = f("PARTAS2", 12);
  s.network_address = f("203.0.113.10", 13);
  s.network_port = f("4080", 14);
  s.network_path = f("/as2/in", 15);
  s.has_interfaces = true;
  s.interfaces_line = 17;
  s.interfaces = {
      InterfaceField{f("FSO1100A", 18), f("complete", 18), 18},
      InterfaceField{f("FSO1101A", 19), f("partielle", 19), 19},
      InterfaceField{f("FSO1102A", 20), f("aucun", 20), 20},
  };
  return s;
}

SheetOperation valid_api_sheet() {
  SheetOperation s;
  s.kind = SheetKind::Api;
  s.partner = f("81034732800017", 3);
  s.has_contact = true;
  s.contact_line = 5;
  s.contact_name = f("John Doe", 5);
  s.contact_phone = f("+33 1 23 45 67 89", 5);
  s.contact_email = f("johndoe@exemple.com", 5);
  return s;
}

const Catalogue& seed() {
  static const Catalogue c = Catalogue::seed();
  return c;
}

SheetContentContext context(Environment env = Environment::Production) {
  return {env, kToday, &seed()};
}

std::vector<ErrorCode> codes(const Diagnostics& ds) {
  std::vector<ErrorCode> out;
  for (const auto& d : ds) out.push_back(d.code);
  return out;
}

// --- whole sheet ---------------------------------------------------------------------------------

TEST(SheetContent, ValidAs2SheetHasNoFinding) {
  EXPECT_TRUE(check_sheet_content(valid_as2_sheet(), context()).empty());
}

TEST(SheetContent, ValidApiSheetHasNoFinding) {
  EXPECT_TRUE(check_sheet_content(valid_api_sheet(), context()).empty());
}

TEST(SheetContent, ApiSheetIsOnlyCheckedForItsContact) {
  SheetOperation s = valid_api_sheet();
  s.contact_email = f("pas-un-email", 5);  // EMAIL_INVALIDE
  // An API sheet carries no protocol, period, network or interfaces: none of those rules apply.
  EXPECT_EQ(codes(check_sheet_content(s, context())), std::vector<ErrorCode>{ErrorCode::EmailInvalide});
}

TEST(SheetContent, AllFindingsInSpecOrder) {
  SheetOperation s = valid_as2_sheet();
  s.protocol = f("FTP", 4);
  s.period_from = f("2026-13-01", 5);
  s.contact_phone = f("123", 9);
  s.interfaces[0].code = f("FSO9999A", 18);
  s.interfaces[1].mode = f("aucun", 19);
  const Diagnostics ds = check_sheet_content(s, context());
  // The protocol is invalid, so the network block is not judged; FSO9999A is unknown but its mode
  // is still "complete", so a flow is connected (no AUCUN_FLUX_RACCORDE).
  EXPECT_EQ(codes(ds), (std::vector<ErrorCode>{ErrorCode::ProtocoleInvalide, ErrorCode::PeriodeInvalide,
                                               ErrorCode::TelephoneInvalide, ErrorCode::CodeInterfaceInconnu}));
  for (const auto& d : ds) {
    EXPECT_TRUE(d.is_error()) << d.message;
    EXPECT_FALSE(d.message.empty());
  }
}

TEST(SheetContent, NullCatalogueUsesTheSeed) {
  SheetOperation s = valid_as2_sheet();
  s.interfaces[0].code = f("FSO1300A", 18);
  SheetContentContext ctx{Environment::Production, kToday, nullptr};
  EXPECT_EQ(codes(check_sheet_content(s, ctx)), std::vector<ErrorCode>{ErrorCode::CodeInterfaceQualification});
}

// --- PROTOCOLE_INVALIDE --------------------------------------------------------------------------

TEST(Protocol, TheThreeProtocolsAreValid) {
  for (const char* p : {"PESIT", "SFTP", "AS2"}) {
    SheetOperation s = valid_as2_sheet();
    s.protocol = f(p, 4);
    EXPECT_TRUE(check_protocol(s).empty()) << p;
  }
}

TEST(Protocol, MissingEmptyOrUnknownIsInvalid) {
  SheetOperation s = valid_as2_sheet();
  s.protocol = Field{};
  auto ds = check_protocol(s);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::ProtocoleInvalide);
  EXPECT_EQ(ds[0].field, "Protocole");

  for (const char* bad : {"", "as2", "FTP", "PeSIT", "SFTP/AS2"}) {
    s.protocol = f(bad, 4);
    ds = check_protocol(s);
    ASSERT_EQ(ds.size(), 1u) << bad;
    EXPECT_EQ(ds[0].code, ErrorCode::ProtocoleInvalide);
    EXPECT_EQ(ds[0].field, "Protocole");
    EXPECT_EQ(ds[0].line, 4);
    if (*bad != '\0') {
      EXPECT_NE(ds[0].message.find(bad), std::string::npos) << ds[0].message;
    }
    EXPECT_NE(ds[0].message.find("PESIT, SFTP ou AS2"), std::string::npos);
  }
}

// Issue 18, item 6: a known protocol in another case names the spelling to write, and every
// PROTOCOLE_INVALIDE says which checks wait for a valid protocol (the others are still made).
TEST(Protocol, MessageNamesTheSpellingAndTheChecksThatWait) {
  SheetOperation s = valid_as2_sheet();
  for (const auto& [bad, spelling] : std::vector<std::pair<std::string, std::string>>{
           {"sftp", "« SFTP »"}, {"As2", "« AS2 »"}, {"pesit", "« PESIT »"}, {"PeSiT", "« PESIT »"}}) {
    s.protocol = f(bad, 4);
    const auto ds = check_protocol(s);
    ASSERT_EQ(ds.size(), 1u) << bad;
    EXPECT_NE(ds[0].message.find("écrivez " + spelling), std::string::npos) << ds[0].message;
  }
  for (const Field& field : {Field{}, f("", 4), f("FTP", 4), f("sftp", 4)}) {
    s.protocol = field;
    const auto ds = check_protocol(s);
    ASSERT_EQ(ds.size(), 1u) << field.value;
    for (const char* waiting : {"nombre de certificats", "usages", "<Reseau>", "tous les autres contrôles"}) {
      EXPECT_NE(ds[0].message.find(waiting), std::string::npos) << ds[0].message;
    }
  }
  s.protocol = f("FTP", 4);
  EXPECT_EQ(check_protocol(s)[0].message.find("écrivez"), std::string::npos);  // no spelling to suggest
}

TEST(Protocol, ApiSheetHasNoProtocol) {
  EXPECT_TRUE(check_protocol(valid_api_sheet()).empty());
}

// --- PERIODE_INVALIDE ----------------------------------------------------------------------------

TEST(Period, DuInThePastAndNoAuIsFine) {
  SheetOperation s = valid_as2_sheet();
  s.period_from = f("2020-01-01", 5);
  s.period_to = Field{};
  EXPECT_TRUE(check_period(s, kToday).empty());
  s.period_to = f("", 5);  // empty "au": open-ended, like an absent one
  EXPECT_TRUE(check_period(s, kToday).empty());
}

// A du or au outside the years 1970-9999 (domain/civil_date.hpp) is not a date: PERIODE_INVALIDE,
// as 2026-02-30 is (issue "defects found in operation" 10).
TEST(Period, DatesOutsideTheBusinessRangeAreInvalid) {
  for (const char* du : {"1969-12-31", "0026-11-30", "0000-01-01"}) {
    SheetOperation s = valid_as2_sheet();
    s.period_from = f(du, 5);
    const auto ds = check_period(s, kToday);
    ASSERT_EQ(ds.size(), 1u) << du;
    EXPECT_EQ(ds[0].code, ErrorCode::PeriodeInvalide) << du;
    EXPECT_EQ(ds[0].field, "Periode/@du") << du;
  }
  SheetOperation s = valid_as2_sheet();
  s.period_from = f("1970-01-01", 5);
  s.period_to = f("9999-12-31", 5);
  EXPECT_TRUE(check_period(s, kToday).empty());
  s.period_to = f("10000-01-01", 5);
  const auto ds = check_period(s, kToday);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].field, "Periode/@au");
}

TEST(Period, AuEqualToProcessingDateIsFine) {
  SheetOperation s = valid_as2_sheet();
  s.period_from = f("2026-11-01", 5);
  s.period_to = f("2026-11-29", 5);
  EXPECT_TRUE(check_period(s, kToday).empty());
}

TEST(Period, AuEqualToDuIsFine) {
  SheetOperation s = valid_as2_sheet();
  s.period_from = f("2026-12-24", 5);
  s.period_to = f("2026-12-24", 5);
  EXPECT_TRUE(check_period(s, kToday).empty());
}

TEST(Period, AuTheDayBeforeProcessingDateIsInvalid) {
  SheetOperation s = valid_as2_sheet();
  s.period_from = f("2026-11-01", 5);
  s.period_to = f("2026-11-28", 5);
  const auto ds = check_period(s, kToday);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::PeriodeInvalide);
  EXPECT_EQ(ds[0].field, "Periode/@au");
  EXPECT_EQ(ds[0].line, 5);
  EXPECT_NE(ds[0].message.find("28/11/2026"), std::string::npos) << ds[0].message;
  EXPECT_NE(ds[0].message.find("29/11/2026"), std::string::npos) << ds[0].message;
}

TEST(Period, AuBeforeDuIsInvalid) {
  SheetOperation s = valid_as2_sheet();
  s.period_from = f("2027-03-01", 5);
  s.period_to = f("2027-02-28", 5);
  const auto ds = check_period(s, kToday);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].field, "Periode/@au");
  EXPECT_NE(ds[0].message.find("antérieure"), std::string::npos);
}

TEST(Period, AuBeforeDuAndInThePastGivesBothReasons) {
  SheetOperation s = valid_as2_sheet();
  s.period_from = f("2026-06-01", 5);
  s.period_to = f("2026-05-01", 5);
  EXPECT_EQ(codes(check_period(s, kToday)),
            (std::vector<ErrorCode>{ErrorCode::PeriodeInvalide, ErrorCode::PeriodeInvalide}));
}

TEST(Period, MissingPeriodOrDu) {
  SheetOperation s = valid_as2_sheet();
  s.has_period = false;
  s.period_from = Field{};
  s.period_to = Field{};
  auto ds = check_period(s, kToday);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::PeriodeInvalide);
  EXPECT_EQ(ds[0].field, "Periode");

  s = valid_as2_sheet();
  s.period_from = Field{};  // <Periode au="2099-06-30"/>: element line from au
  ds = check_period(s, kToday);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].field, "Periode/@du");
  EXPECT_EQ(ds[0].line, 5);

  s.period_from = f("", 5);
  ds = check_period(s, kToday);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].field, "Periode/@du");
}

TEST(Period, BadDates) {
  for (const char* bad : {"2026-02-30", "01/12/2026", "2026-12-1", "20261201", " 2026-12-01x", "demain"}) {
    SheetOperation s = valid_as2_sheet();
    s.period_from = f(bad, 5);
    auto ds = check_period(s, kToday);
    ASSERT_EQ(ds.size(), 1u) << bad;
    EXPECT_EQ(ds[0].code, ErrorCode::PeriodeInvalide);
    EXPECT_EQ(ds[0].field, "Periode/@du");
    EXPECT_NE(ds[0].message.find(bad), std::string::npos) << ds[0].message;

    s = valid_as2_sheet();
    s.period_to = f(bad, 6);
    ds = check_period(s, kToday);
    ASSERT_EQ(ds.size(), 1u) << bad;
    EXPECT_EQ(ds[0].field, "Periode/@au");
    EXPECT_EQ(ds[0].line, 6);
  }
}

TEST(Period, BadDuAndBadAuAreBothReported) {
  SheetOperation s = valid_as2_sheet();
  s.period_from = f("2026-02-29", 5);  // 2026 is not a leap year
  s.period_to = f("x", 5);
  const auto ds = check_period(s, kToday);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].field, "Periode/@du");
  EXPECT_EQ(ds[1].field, "Periode/@au");
}

TEST(Period, ApiSheetHasNoPeriod) {
  SheetOperation s = valid_api_sheet();
  EXPECT_TRUE(check_period(s, kToday).empty());
}

// --- CONTACT_INCOMPLET / EMAIL_INVALIDE / TELEPHONE_INVALIDE --------------------------------------

TEST(Contact, MissingContactElement) {
  SheetOperation s = valid_as2_sheet();
  s.has_contact = false;
  s.contact_name = s.contact_phone = s.contact_email = s.contact_fax = Field{};
  const auto ds = check_contact(s);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::ContactIncomplet);
  EXPECT_EQ(ds[0].field, "ContactTechnique");
}

TEST(Contact, EachMissingOrEmptyValueIsIncomplete) {
  struct Case {
    Field SheetOperation::*member;
    const char* path;
  };
  const Case cases[] = {
      {&SheetOperation::contact_name, "ContactTechnique/@nomPrenom"},
      {&SheetOperation::contact_phone, "ContactTechnique/@telephone"},
      {&SheetOperation::contact_email, "ContactTechnique/@email"},
  };
  for (const Case& c : cases) {
    for (const Field& hole : {Field{}, f("", 9)}) {
      SheetOperation s = valid_as2_sheet();
      s.*c.member = hole;
      const auto ds = check_contact(s);
      ASSERT_EQ(ds.size(), 1u) << c.path;
      EXPECT_EQ(ds[0].code, ErrorCode::ContactIncomplet);
      EXPECT_EQ(ds[0].field, c.path);
      EXPECT_EQ(ds[0].line, 9);
    }
  }
}

TEST(Contact, IncompleteIsTheOnlyCodeThen) {
  SheetOperation s = valid_as2_sheet();
  s.contact_name = Field{};
  s.contact_email = f("pas un email", 9);
  s.contact_phone = f("abc", 9);
  s.contact_fax = f("xyz", 9);
  const auto ds = check_contact(s);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::ContactIncomplet);
  EXPECT_EQ(ds[0].field, "ContactTechnique/@nomPrenom");
}

TEST(Contact, SeveralMissingValuesAreNamedInOneMessage) {
  SheetOperation s = valid_as2_sheet();
  s.contact_phone = Field{};
  s.contact_email = f("", 9);
  const auto ds = check_contact(s);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].field, "ContactTechnique/@telephone");
  EXPECT_NE(ds[0].message.find("téléphone"), std::string::npos) << ds[0].message;
  EXPECT_NE(ds[0].message.find("email"), std::string::npos) << ds[0].message;
}

TEST(Contact, InvalidEmailAndPhoneAreBothReported) {
  SheetOperation s = valid_as2_sheet();
  s.contact_email = f("a@b", 10);
  s.contact_phone = f("12 34", 9);
  const auto ds = check_contact(s);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].code, ErrorCode::EmailInvalide);
  EXPECT_EQ(ds[0].field, "ContactTechnique/@email");
  EXPECT_EQ(ds[0].line, 10);
  EXPECT_NE(ds[0].message.find("a@b"), std::string::npos);
  EXPECT_EQ(ds[1].code, ErrorCode::TelephoneInvalide);
  EXPECT_EQ(ds[1].field, "ContactTechnique/@telephone");
  EXPECT_NE(ds[1].message.find("12 34"), std::string::npos);
}

TEST(Contact, FaxIsCheckedOnlyWhenFilled) {
  SheetOperation s = valid_as2_sheet();
  s.contact_fax = Field{};
  EXPECT_TRUE(check_contact(s).empty());
  s.contact_fax = f("", 9);
  EXPECT_TRUE(check_contact(s).empty());
  s.contact_fax = f("01 23 45 67 90", 9);
  EXPECT_TRUE(check_contact(s).empty());
  s.contact_fax = f("fax", 9);
  const auto ds = check_contact(s);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::TelephoneInvalide);
  EXPECT_EQ(ds[0].field, "ContactTechnique/@fax");
  EXPECT_NE(ds[0].message.find("fax"), std::string::npos);
}

TEST(Contact, ApiSheetContactRulesApply) {
  SheetOperation s = valid_api_sheet();
  s.has_contact = false;
  EXPECT_EQ(codes(check_contact(s)), std::vector<ErrorCode>{ErrorCode::ContactIncomplet});
}

TEST(Email, Valid) {
  for (const char* e :
       {"johndoe@exemple.com", "jean.dupont+chorus@exemple.fr", "o'neil@exemple.fr", "jean-pierre@exemple.fr", "a@b.co",
        "x_y!#$%&*/=?^`{|}~@sub.exemple-test.fr", "J.Dupont@EXEMPLE.FR", "contact@123.exemple.com"}) {
    EXPECT_TRUE(is_valid_email(e)) << e;
  }
}

TEST(Email, Invalid) {
  for (const char* e : {"",
                        "a@b",
                        "johndoe",
                        "@exemple.fr",
                        "jean@",
                        ".jean@exemple.fr",
                        "jean.@exemple.fr",
                        "jean..dupont@exemple.fr",
                        "jean dupont@exemple.fr",
                        "jean@@exemple.fr",
                        "jean@exemple..fr",
                        "jean@-exemple.fr",
                        "jean@exemple-.fr",
                        "jean@exemple.f",
                        "jean@exemple.123",
                        "jean@exemple.fr.",
                        "jean@.exemple.fr",
                        "\"jean\"@exemple.fr",
                        "jean@exem_ple.fr",
                        "jean@[192.0.2.1]",
                        "jean(x)@exemple.fr",
                        "jéan@exemple.fr",
                        "jean@exemple.fr ",
                        "a@b@exemple.fr"}) {
    EXPECT_FALSE(is_valid_email(e)) << e;
  }
  EXPECT_FALSE(is_valid_email(std::string(65, 'a') + "@exemple.fr"));
  EXPECT_TRUE(is_valid_email(std::string(64, 'a') + "@exemple.fr"));
  EXPECT_FALSE(is_valid_email("a@" + std::string(64, 'b') + ".fr"));
}

TEST(Phone, Valid) {
  for (const char* p : {"01 23 45 67 89", "0123456789", "01.23.45.67.89", "01-23-45-67-89", "06 12 34 56 78",
                        "+33 1 23 45 67 89", "+33123456789", "0033 1 23 45 67 89", "+33 (0)1 23 45 67 89",
                        "+33(0)123456789", "+1 212 555 0100", "+49 30 123456", "+352 123456",
                        "+123456",          // 6 digits: the minimum
                        "+12345678901234",  // 14 digits: the maximum
                        "01\xC2\xA0"
                        "23\xC2\xA0"
                        "45\xC2\xA0"
                        "67\xC2\xA0"
                        "89"}) {  // no-break spaces
    EXPECT_TRUE(is_valid_phone(p)) << p;
  }
}

TEST(Phone, Invalid) {
  for (const char* p :
       {"", "abc", "01 23 45 67 8", "01 23 45 67 890", "1234567890", "+12345", "+123456789012345", "+0 123456789",
        "00 0123456789", "+33 (0) (0)1 23 45 67 89", "+(0)33123456789", "+3312345678x", "01 23 45 67 89 poste 12",
        "(01) 23 45 67 89", "+33 1 23 45 67 89 / 06", "++33123456789", "0033", "+"}) {
    EXPECT_FALSE(is_valid_phone(p)) << p;
  }
}

// --- RESEAU_INCOMPLET / ADRESSE_IP_INVALIDE / PORT_INVALIDE / RESEAU_IGNORE ------------------------

TEST(Network, As2WithoutReseauIsIncomplete) {
  SheetOperation s = valid_as2_sheet();
  s.has_network = false;
  s.network_identifier = s.network_address = s.network_port = s.network_path = Field{};
  const auto ds = check_network(s);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::ReseauIncomplet);
  EXPECT_EQ(ds[0].field, "Reseau");
}

TEST(Network, EachMissingValueIsIncomplete) {
  struct Case {
    Field SheetOperation::*member;
    const char* path;
  };
  const Case cases[] = {
      {&SheetOperation::network_identifier, "Reseau/Identifiant"},
      {&SheetOperation::network_address, "Reseau/AdresseIP"},
      {&SheetOperation::network_port, "Reseau/Port"},
      {&SheetOperation::network_path, "Reseau/CheminDepot"},
  };
  for (const Case& c : cases) {
    SheetOperation s = valid_as2_sheet();
    s.*c.member = Field{};
    auto ds = check_network(s);
    ASSERT_EQ(ds.size(), 1u) << c.path;
    EXPECT_EQ(ds[0].code, ErrorCode::ReseauIncomplet);
    EXPECT_EQ(ds[0].field, c.path);
    EXPECT_EQ(ds[0].line, 11);  // the Reseau element's line, as the value is missing

    s.*c.member = f("", 16);
    ds = check_network(s);
    ASSERT_EQ(ds.size(), 1u) << c.path;
    EXPECT_EQ(ds[0].field, c.path);
    EXPECT_EQ(ds[0].line, 16);
  }
}

TEST(Network, IncompleteAndInvalidValuesAreAllReported) {
  SheetOperation s = valid_as2_sheet();
  s.network_identifier = Field{};
  s.network_address = f("203.0.113.300", 13);
  s.network_port = f("0", 14);
  EXPECT_EQ(codes(check_network(s)), (std::vector<ErrorCode>{ErrorCode::ReseauIncomplet, ErrorCode::AdresseIpInvalide,
                                                             ErrorCode::PortInvalide}));
}

TEST(Network, InvalidAddress) {
  SheetOperation s = valid_as2_sheet();
  s.network_address = f("192.168.01.1", 13);
  const auto ds = check_network(s);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::AdresseIpInvalide);
  EXPECT_EQ(ds[0].field, "Reseau/AdresseIP");
  EXPECT_EQ(ds[0].line, 13);
  EXPECT_NE(ds[0].message.find("192.168.01.1"), std::string::npos);
}

TEST(Network, PortBoundaries) {
  const std::pair<const char*, bool> cases[] = {
      {"0", false},     {"1", true},       {"22", true},   {"4080", true},  {"65535", true}, {"65536", false},
      {"99999", false}, {"100000", false}, {"-1", false},  {"+22", false},  {"0022", false}, {"0x50", false},
      {"22.0", false},  {"2 2", false},    {"1e3", false}, {"port", false},
  };
  for (const auto& [port, ok] : cases) {
    SheetOperation s = valid_as2_sheet();
    s.network_port = f(port, 14);
    const auto ds = check_network(s);
    if (ok) {
      EXPECT_TRUE(ds.empty()) << port;
    } else {
      ASSERT_EQ(ds.size(), 1u) << port;
      EXPECT_EQ(ds[0].code, ErrorCode::PortInvalide) << port;
      EXPECT_EQ(ds[0].field, "Reseau/Port");
      EXPECT_EQ(ds[0].line, 14);
      EXPECT_NE(ds[0].message.find(port), std::string::npos);
    }
  }
}

TEST(Network, ReseauOnPesitOrSftpIsAWarning) {
  for (const char* p : {"PESIT", "SFTP"}) {
    SheetOperation s = valid_as2_sheet();
    s.protocol = f(p, 4);
    s.network_port = f("0", 14);  // not judged: the block is ignored
    const auto ds = check_network(s);
    ASSERT_EQ(ds.size(), 1u) << p;
    EXPECT_EQ(ds[0].code, ErrorCode::ReseauIgnore);
    EXPECT_FALSE(ds[0].is_error());
    EXPECT_EQ(ds[0].field, "Reseau");
    EXPECT_EQ(ds[0].line, 11);
    EXPECT_NE(ds[0].message.find(p), std::string::npos);

    s.has_network = false;
    EXPECT_TRUE(check_network(s).empty()) << p;
  }
}

TEST(Network, NothingWhenTheProtocolIsInvalid) {
  SheetOperation s = valid_as2_sheet();
  s.protocol = f("as2", 4);
  s.has_network = false;
  EXPECT_TRUE(check_network(s).empty());
  s.protocol = Field{};
  EXPECT_TRUE(check_network(s).empty());
}

TEST(IpAddress, Valid) {
  for (const char* a :
       {"203.0.113.10", "0.0.0.0", "255.255.255.255", "192.0.2.1", "10.0.0.100", "2001:db8::1", "::1",
        "::", "2001:0db8:0000:0000:0000:ff00:0042:8329", "::ffff:192.0.2.128", "fe80::1ff:fe23:4567:890a"}) {
    EXPECT_TRUE(is_valid_ip_address(a)) << a;
  }
}

TEST(IpAddress, Invalid) {
  for (const char* a : {"",
                        "192.168.01.1",
                        "010.0.0.1",
                        "256.0.0.1",
                        "192.0.2",
                        "192.0.2.1.5",
                        "192.0.2.",
                        ".192.0.2.1",
                        "192..2.1",
                        "192.0.2.-1",
                        "+1.2.3.4",
                        "1.2.3.4 ",
                        "0x7f.0.0.1",
                        "1234.0.0.1",
                        "exemple.fr",
                        "2001:db8:::1",
                        "2001:db8::g",
                        "fe80::1%eth0",
                        "[2001:db8::1]",
                        "2001:db8::1/64",
                        ":",
                        "1:2:3:4:5:6:7:8:9"}) {
    EXPECT_FALSE(is_valid_ip_address(a)) << a;
  }
}

// --- CODE_INTERFACE_INCONNU / CODE_INTERFACE_QUALIFICATION / AUCUN_FLUX_RACCORDE -----------------

TEST(Interfaces, UnknownCodeNamesTheCodeAndItsPosition) {
  SheetOperation s = valid_as2_sheet();
  s.interfaces[1].code = f("fso1101a", 19);  // names are case-sensitive
  const auto ds = check_interfaces(s, seed(), Environment::Production);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::CodeInterfaceInconnu);
  EXPECT_EQ(ds[0].field, "CodesInterface/Interface[2]/@code");
  EXPECT_EQ(ds[0].line, 19);
  EXPECT_NE(ds[0].message.find("fso1101a"), std::string::npos);
}

TEST(Interfaces, MissingCodeIsUnknown) {
  SheetOperation s = valid_as2_sheet();
  s.interfaces[2].code = Field{};
  const auto ds = check_interfaces(s, seed(), Environment::Production);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::CodeInterfaceInconnu);
  EXPECT_EQ(ds[0].field, "CodesInterface/Interface[3]/@code");
  EXPECT_EQ(ds[0].line, 20);  // the Interface element's line
}

TEST(Interfaces, QualificationOnlyCodesOnProduction) {
  for (const char* code : {"FSO1300A", "FSO1301A", "FEN0036A"}) {
    SheetOperation s = valid_as2_sheet();
    s.interfaces[0].code = f(code, 18);
    auto ds = check_interfaces(s, seed(), Environment::Production);
    ASSERT_EQ(ds.size(), 1u) << code;
    EXPECT_EQ(ds[0].code, ErrorCode::CodeInterfaceQualification);
    EXPECT_EQ(ds[0].field, "CodesInterface/Interface[1]/@code");
    EXPECT_NE(ds[0].message.find(code), std::string::npos);
    EXPECT_TRUE(check_interfaces(s, seed(), Environment::Qualification).empty()) << code;
  }
}

TEST(Interfaces, EveryProductionCodeIsAcceptedInBothEnvironments) {
  for (const char* code : {"FSO1100A", "FSO1101A", "FSO1102A", "FSO1105A", "FSO1110A", "FSO1111A", "FSO1112A",
                           "FSO1113A", "FSO1120A", "FEN1200A", "FEN1201A", "FAR0037A"}) {
    SheetOperation s = valid_as2_sheet();
    s.interfaces = {InterfaceField{f(code, 18), f("complete", 18), 18}};
    EXPECT_TRUE(check_interfaces(s, seed(), Environment::Production).empty()) << code;
    EXPECT_TRUE(check_interfaces(s, seed(), Environment::Qualification).empty()) << code;
  }
}

TEST(Interfaces, OneFindingPerBadInterface) {
  SheetOperation s = valid_as2_sheet();
  s.interfaces[0].code = f("XXX", 18);
  s.interfaces[1].code = f("FSO1300A", 19);
  s.interfaces[2].code = f("YYY", 20);
  const auto ds = check_interfaces(s, seed(), Environment::Production);
  EXPECT_EQ(codes(ds), (std::vector<ErrorCode>{ErrorCode::CodeInterfaceInconnu, ErrorCode::CodeInterfaceQualification,
                                               ErrorCode::CodeInterfaceInconnu}));
  EXPECT_EQ(ds[2].field, "CodesInterface/Interface[3]/@code");
}

TEST(Interfaces, NoInterfaceIsNoFlow) {
  SheetOperation s = valid_as2_sheet();
  s.interfaces.clear();
  auto ds = check_interfaces(s, seed(), Environment::Production);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::AucunFluxRaccorde);
  EXPECT_EQ(ds[0].field, "CodesInterface");
  EXPECT_EQ(ds[0].line, 17);

  s.has_interfaces = false;
  s.interfaces_line = 0;
  ds = check_interfaces(s, seed(), Environment::Production);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::AucunFluxRaccorde);
}

TEST(Interfaces, AllAucunIsNoFlow) {
  SheetOperation s = valid_as2_sheet();
  for (auto& itf : s.interfaces) itf.mode = f("aucun", itf.line);
  auto ds = check_interfaces(s, seed(), Environment::Production);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].code, ErrorCode::AucunFluxRaccorde);
  EXPECT_NE(ds[0].message.find("aucun"), std::string::npos);

  s.interfaces[2].mode = f("partielle", 20);  // one connected flow is enough
  EXPECT_TRUE(check_interfaces(s, seed(), Environment::Production).empty());
}

TEST(Interfaces, TheGivenCatalogueIsUsed) {
  // A catalogue file where FSO1100A is qualification-only and FNEW001A exists.
  const auto file = std::filesystem::path(::testing::TempDir()) /
                    ("raccord_sheet_rules_catalogue_" + std::to_string(::getpid()) + ".xml");
  std::ofstream(file) << "<Catalogue version=\"1\">"
                         "<Flux code=\"FSO1100A\" famille=\"E1\" format=\"UBL\" production=\"false\">a</Flux>"
                         "<Flux code=\"FNEW001A\" famille=\"S\" format=\"X\" production=\"true\">b</Flux>"
                         "</Catalogue>";
  std::string error;
  const auto catalogue = Catalogue::load_file(file, error);
  std::filesystem::remove(file);
  ASSERT_TRUE(catalogue.has_value()) << error;
  SheetOperation s = valid_as2_sheet();
  s.interfaces = {InterfaceField{f("FSO1100A", 18), f("complete", 18), 18},
                  InterfaceField{f("FNEW001A", 19), f("complete", 19), 19},
                  InterfaceField{f("FSO1101A", 20), f("complete", 20), 20}};
  EXPECT_EQ(codes(check_interfaces(s, *catalogue, Environment::Production)),
            (std::vector<ErrorCode>{ErrorCode::CodeInterfaceQualification, ErrorCode::CodeInterfaceInconnu}));
  SheetContentContext ctx{Environment::Production, kToday, &*catalogue};
  EXPECT_EQ(codes(check_sheet_content(s, ctx)),
            (std::vector<ErrorCode>{ErrorCode::CodeInterfaceQualification, ErrorCode::CodeInterfaceInconnu}));
}

TEST(Interfaces, ApiSheetHasNoInterfaces) {
  EXPECT_TRUE(check_interfaces(valid_api_sheet(), seed(), Environment::Production).empty());
}

}  // namespace
}  // namespace raccord::rules
