// What the names of outbox files say (docs/reference.md §5.1-§5.3): their kind and the date they carry, read
// back by the retention (engine/housekeeping.cpp, docs/design.md "Retention"). The names are made by
// acknowledgement_base_name, export_base_name and nightly_report_name.
#pragma once

#include <functional>
#include <optional>
#include <string_view>

#include "domain/civil_date.hpp"

namespace raccord::outbox {

/// The kinds of outbox files the retention may remove.
enum class FileKind { Accuse, Export, Report };

/// The kind of an outbox file name, or nullopt for any other name (metrics.prom, temporaries
/// ".…", files of another kind, which are never removed):
///   ACK_<stem>_<YYYYMMDDTHHMMSSZ>[_N].xml                    Accuse  (docs/reference.md §5.1)
///   EXPORT_<EDI|API>_<reference>_<YYYYMMDDTHHMMSSZ>[_N].csv|.xml   Export  (§5.2)
///   NIGHTLY_<YYYY-MM-DD>.xml|.csv|.html                       Report  (§5.3, issue 5)
/// A name with the right prefix and extension but no readable date is still of its kind (and
/// is kept by housekeeping).
std::optional<FileKind> file_kind(std::string_view name);

/// The date in an outbox file name: NIGHTLY_ → its YYYY-MM-DD; ACK_/EXPORT_ → the civil date, by
/// `date_of`, of the UTC instant "_YYYYMMDDTHHMMSSZ" that ends the name (before the extension and
/// an optional "_N"). nullopt when the name holds none in that place, or one outside the business
/// range (a five-digit year, year 0000: civil_date.hpp), or is not an outbox file.
std::optional<CivilDate> file_date(std::string_view name, const std::function<CivilDate(Instant)>& date_of);

}  // namespace raccord::outbox
