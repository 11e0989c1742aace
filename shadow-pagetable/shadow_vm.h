/*
 * Shadow address spaces.  A shadow_vm mirrors one guest page directory:
 *
 *   SHADOW_GPU  real shadow tables in daemon VRAM that the GPU walks: every
 *               valid guest PTE is rewritten to point into the VM's
 *               partition (host = base + guest physical), anything else
 *               becomes an invalid entry and is counted.
 *   SHADOW_BAR  a software table, one entry per page of a BAR aperture
 *               (guest physical page + 1, or 0), used to emulate the guest's
 *               BAR1/BAR3 VM and to decide which BAR pages can be remapped.
 *
 * Shadowing is lazy and incremental: guest writes to tracked pages only mark
 * the 64-byte blocks they touch dirty (shadow_vm_written); shadow_vm_sync
 * re-translates just the entries in dirty blocks, at the guest's TLB flush.
 *
 * A BAR-kind shadow also keeps the reverse of its translation (which BAR
 * pages map a guest page), so that when a guest page starts or stops being
 * tracked its owner can find the BAR pages concerned without a scan, and
 * tells its owner about every BAR page whose translation changed
 * (shadow_host_ops.bar_changed).
 */
#ifndef GPUVM_SHADOW_VM_H
#define GPUVM_SHADOW_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gpfn_map.h"
#include "page_track.h"

struct shadow_vm;

struct shadow_host_ops {
	int (*alloc)(void *ctx, uint64_t size, uint64_t *addr);    /* zeroed daemon VRAM */
	void (*free)(void *ctx, uint64_t addr, uint64_t size);
	void (*wr32)(void *ctx, uint64_t addr, uint32_t val);
	uint32_t (*rd32)(void *ctx, uint64_t addr);
	bool (*is_daemon)(void *ctx, uint64_t addr, uint64_t len);  /* for the checker */
	/* BAR kind: the translation of BAR page page changed (optional). */
	void (*bar_changed)(void *ctx, const struct shadow_vm *s, uint32_t page);
};

struct shadow_env {
	const uint8_t *gmem;        /* CPU view of guest physical 0 */
	uint64_t gsize;             /* partition size */
	uint64_t hbase;             /* host physical base of the partition */
	/*
	 * The hypervisor hole: GPU-kind shadows install hole_table (a daemon
	 * small-page table mapping only [hole_base, hole_base + hole_size)) at
	 * PDE hole_pde instead of whatever the guest put there.  0 = no hole.
	 */
	unsigned hole_pde;
	uint64_t hole_table;
	uint64_t hole_base, hole_size;
	struct page_track *track;
	const struct shadow_host_ops *ops;
	void *ctx;
};

enum shadow_kind { SHADOW_GPU, SHADOW_BAR };

struct shadow_pde {
	uint32_t g_large, g_small;  /* guest PDE words as last synced */
	uint64_t s_large, s_small;  /* shadow tables (GPU kind), 0 = none */
	uint64_t t_large, t_small;  /* guest tables tracked, +1 (0 = none) */
};

/* BAR kind: the other BAR pages that map the same guest page (page + 1, 0 = none). */
struct shadow_bar_link {
	uint32_t prev, next;
};

struct shadow_vm {
	enum shadow_kind kind;
	const struct shadow_env *env;
	uint64_t gpd;               /* guest page directory (guest physical) */
	bool gpd_ok;                /* the PD lies inside the partition */
	uint64_t spd;               /* GPU kind: shadow PD (host physical) */
	uint32_t *bar_xlate;        /* BAR kind: per page, guest page + 1 or 0 */
	uint32_t bar_pages;
	struct gpfn_map bar_rev;    /* BAR kind: guest page -> first BAR page mapping it, + 1 */
	struct shadow_bar_link *bar_link;   /* BAR kind: per page */
	unsigned npde;              /* PDEs mirrored */
	struct shadow_pde *pde;
	uint64_t *live;             /* bitmap of the PDEs with a guest table tracked */
	struct gpfn_map dirty;      /* guest pages written since the last sync -> dirty 64-byte blocks */
	struct gpfn_map mine;       /* guest pages this VM tracks -> reference count */
	bool need_full;             /* nothing synced yet */
	unsigned refs;              /* users (channels, BAR bindings) */
	uint64_t rejected;          /* guest PTEs/PDEs refused */
	uint64_t units;             /* PD pages and table pages rebuilt */
};

int shadow_vm_create(const struct shadow_env *env, enum shadow_kind kind, uint64_t gpd,
		     uint32_t bar_pages, struct shadow_vm **out);
void shadow_vm_destroy(struct shadow_vm *s);
/* A guest write of len bytes landed at gaddr: true if this VM depends on its page. */
bool shadow_vm_written(struct shadow_vm *s, uint64_t gaddr, unsigned len);
/*
 * Treat every guest page this VM depends on as written, so that the next
 * sync re-translates all of them in place (no lazy shadowing, for
 * measurements; entries are rewritten, never dropped, so a running channel
 * never sees a hole).
 */
void shadow_vm_mark_all_dirty(struct shadow_vm *s);
/* Bring the shadow up to date with the guest tables. */
int shadow_vm_sync(struct shadow_vm *s);
/* Walk the guest's own tables: guest physical address behind va, or false. */
bool shadow_vm_guest_translate(const struct shadow_vm *s, uint64_t va, uint64_t *gphys);
/* BAR kind: guest physical address behind a BAR offset, or false. */
bool shadow_vm_bar_lookup(const struct shadow_vm *s, uint64_t off, uint64_t *gphys);
/*
 * BAR kind: the BAR pages that map guest page gpfn, in no particular order:
 * shadow_vm_bar_first, then shadow_vm_bar_next until it returns false.
 */
bool shadow_vm_bar_first(const struct shadow_vm *s, uint64_t gpfn, uint32_t *page);
bool shadow_vm_bar_next(const struct shadow_vm *s, uint32_t *page);
/* BAR kind: the guest pages some BAR page maps; *iter starts at 0. */
bool shadow_vm_bar_next_gpfn(const struct shadow_vm *s, size_t *iter, uint64_t *gpfn);
/* Every valid shadow entry inside the partition (and, BAR kind, the reverse
 * map exactly the inverse of the translation); 0 or -1 with why. */
int shadow_vm_check(const struct shadow_vm *s, char *why, size_t len);

#endif
