/* The public C ABI header, include/drsn.h, made visible to the Swift modules (they import
 * CDRSNSupport). Swift reads the ABI's constants from it instead of keeping copies: status,
 * dtype, limit and normalization codes, the version and ABI version, DRSN_MAX_DIMENSION and
 * DRSN_WINDOW_BATCH_DEFAULT. The functions it declares are the ones DRSNCAPI defines
 * (@_cdecl); Swift code calls its own definitions, never these declarations. */
#ifndef DRSN_ABI_H
#define DRSN_ABI_H
#include "../../../include/drsn.h"
#endif
