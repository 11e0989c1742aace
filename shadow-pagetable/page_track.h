/*
 * Page tracking: which guest-physical pages of a vGPU hold structures the
 * daemon shadows (page directories and tables, instance blocks, USERD).  A
 * guest write to a tracked page reaches its owner's handler (dirty marking,
 * RAMFC re-copy, submission); untracked pages are plain data that may be
 * mapped straight into the guest.  Each kind keeps its own reference count,
 * so a page can be, say, both a page table of two address spaces and an
 * instance block.
 */
#ifndef GPUVM_PAGE_TRACK_H
#define GPUVM_PAGE_TRACK_H

#include <stdint.h>

#include "gpfn_map.h"

enum page_kind {
	PAGE_PT = 0,        /* page directory or page table */
	PAGE_INST,          /* channel or BAR instance block */
	PAGE_USERD,         /* a channel's USERD */
	PAGE_KINDS,
};

/*
 * Told about gpfn right after it starts or stops being tracked (any kind),
 * so that views derived from tracking (the remap table) follow at once.
 */
typedef void page_track_hook(void *ctx, uint64_t gpfn);

struct page_track {
	struct gpfn_map map;    /* gpfn -> 16-bit count per kind */
	page_track_hook *hook;  /* NULL: nobody to tell */
	void *hook_ctx;
};

int page_track_init(struct page_track *t);
void page_track_fini(struct page_track *t);
void page_track_set_hook(struct page_track *t, page_track_hook *hook, void *ctx);
/* Forget every page at once; the hook is not called (the owner rebuilds). */
void page_track_reset(struct page_track *t);
int page_track_get(struct page_track *t, uint64_t gpfn, enum page_kind kind);
void page_track_put(struct page_track *t, uint64_t gpfn, enum page_kind kind);
/* Bit (1 << kind) for every kind that tracks gpfn; 0 if untracked. */
unsigned page_track_kinds(const struct page_track *t, uint64_t gpfn);

#endif
