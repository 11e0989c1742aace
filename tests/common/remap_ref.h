/*
 * The remap table recomputed from scratch, for the tests of its upkeep
 * (tests/vgpu, tests/pv).  Each BAR page's entry is derived here from the
 * guest's own BAR VM as it lies in the partition now (bind register,
 * instance block, directory, small and large tables, walked by this file,
 * not by the daemon's shadow code) and from the daemon's page tracking.
 * It holds whenever the guest has no table writes the daemon has not synced
 * yet (after a BAR flush in full mode, after every PV BAR_MAP).  Linked into
 * every test (tests/common/).
 */
#ifndef GPUVM_TEST_REMAP_REF_H
#define GPUVM_TEST_REMAP_REF_H

#include <stddef.h>

#include "vgpu.h"

/* 0 if every BAR1 and BAR3 entry is what the guest's tables give, else -1 and the first difference. */
int remap_ref_check(struct vgpu *v, char *why, size_t len);

#endif
