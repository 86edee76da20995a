// The prerequisites a partner structure must meet for a sheet (docs/reference.md §4), checked when a sheet's
// content is submitted (engine/processor.cpp) and again by the nightly run before an activation
// (engine/nightly.cpp, docs/reference.md §6), with the same codes and messages.
#pragma once

#include "domain/diagnostic.hpp"
#include "domain/vocabulary.hpp"
#include "engine/config.hpp"
#include "engine/store.hpp"

namespace raccord {

/// The errors of `partner` for a sheet of `kind`, on field "Partenaire" at `line` (0: none), in this
/// order: PREREQUIS_QUALIFICATION in production when neither the structure nor its software editor is
/// connected in qualification; TIERS_TELETRANSMISSION when it goes through a tiers de
/// télétransmission; UTILISATEUR_TECHNIQUE_ABSENT for an API sheet of a structure without a technical
/// user. Reads the editor and the technical users from `store`. Throws StoreError only.
/// (STRUCTURE_INACTIVE is the caller's: it belongs to how the structure was named.)
Diagnostics check_partner_prerequisites(Store& store, Environment environment, const StructureRecord& partner,
                                        SheetKind kind, int line);

}  // namespace raccord
